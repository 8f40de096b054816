package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/natsstream"
)

// ArchiverBatch is how many messages the archiver fetches at a time; it
// stays below the consumer's limit of unacknowledged messages together with
// a full archive batch.
const ArchiverBatch = 1000

// finalFlush bounds the flush the archiver makes when it stops.
const finalFlush = 10 * time.Second

// Archiver writes the events stream to the archive. It acknowledges a
// message only after the batch holding it has been committed (files, then
// manifest), so a crash before that redelivers the message and the retry
// writes the same batch; a message at or below the last committed sequence
// is acknowledged without being written again.
//
// One archiver per archive: the skip rule relies on one consumer reading
// the stream in order. To keep that order across restarts and errors, the
// archiver opens its consumer afresh from the sequence after the last one
// committed when it starts and after any error: a message delivered to a
// fetch that died with an earlier process (or an aborted step) is
// otherwise redelivered only after the ack wait, behind newer messages,
// and the skip rule would drop it.
type Archiver struct {
	open     OpenConsumer
	consumer Consumer                 // nil until the first open; Run's goroutine only
	current  atomic.Pointer[Consumer] // the same, for Pending
	w        *archive.Writer
	dead     DeadLetters
	log      *slog.Logger

	unacked []natsstream.Msg // added to the writer, waiting for a flush

	// afterFlush, when set by a test, runs between a committed flush and
	// the acknowledgement of its messages; an error stops there, as a crash
	// would.
	afterFlush func() error

	archived, files, bytes, deadLettered atomic.Uint64
	lastSeq                              atomic.Uint64
}

// NewArchiver returns an archiver reading the consumers open returns and
// writing through w.
func NewArchiver(open OpenConsumer, w *archive.Writer, dead DeadLetters, log *slog.Logger) *Archiver {
	return &Archiver{open: open, w: w, dead: dead, log: orDiscard(log).With("component", "archiver")}
}

// ArchiverStats counts what the archiver has done since it started.
type ArchiverStats struct {
	Archived     uint64 `json:"archived"`
	Files        uint64 `json:"files"`
	Bytes        uint64 `json:"bytes"`
	DeadLettered uint64 `json:"dead_lettered"`
	LastSeq      uint64 `json:"last_seq"` // last sequence committed to the archive
}

// Stats returns the archiver's counters.
func (a *Archiver) Stats() ArchiverStats {
	return ArchiverStats{Archived: a.archived.Load(), Files: a.files.Load(), Bytes: a.bytes.Load(),
		DeadLettered: a.deadLettered.Load(), LastSeq: a.lastSeq.Load()}
}

// Run recovers the archive, then archives until ctx ends, flushing what is
// pending before it returns.
func (a *Archiver) Run(ctx context.Context) error {
	last, err := a.w.Recover(ctx)
	if err != nil {
		return fmt.Errorf("archiver: recover: %w", err)
	}
	a.lastSeq.Store(last)
	var b backoff
	for reopen := true; ctx.Err() == nil; {
		if reopen {
			if err := a.reopen(ctx); err != nil {
				a.log.Warn("open the consumer", "err", err)
				b.wait(ctx)
				continue
			}
			reopen = false
		}
		if err := a.step(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("archive", "err", err)
			reopen = true
			b.wait(ctx)
			continue
		}
		b.reset()
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalFlush)
	defer cancel()
	if err := a.flush(fctx); err != nil {
		a.log.Warn("final flush; the messages will be redelivered", "err", err)
	}
	return nil
}

// reopen commits what is pending, then opens the consumer from the
// sequence after the last one committed.
func (a *Archiver) reopen(ctx context.Context) error {
	if err := a.flush(ctx); err != nil {
		return err
	}
	c, err := a.open(ctx, a.lastSeq.Load()+1)
	if err != nil {
		return err
	}
	a.consumer = c
	a.current.Store(&c)
	return nil
}

// Pending is the archiver's lag: messages its consumer has not had
// acknowledged, or an error before the consumer is open.
func (a *Archiver) Pending(ctx context.Context) (uint64, error) {
	c := a.current.Load()
	if c == nil {
		return 0, errors.New("archiver: consumer not open yet")
	}
	return (*c).Pending(ctx)
}

// step fetches one batch, adds it to the writer and flushes when due.
func (a *Archiver) step(ctx context.Context) error {
	msgs, err := a.consumer.Fetch(ctx, ArchiverBatch, 500*time.Millisecond)
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	var ackNow []natsstream.Msg // already archived, or dead-lettered
	for _, m := range msgs {
		ev, err := m.Event()
		if err == nil {
			err = a.w.Add(m.Seq, ev)
		}
		switch {
		case err == nil:
			a.unacked = append(a.unacked, m)
		case errors.Is(err, archive.ErrArchived):
			ackNow = append(ackNow, m)
		case errors.Is(err, archive.ErrInvalidEvent), errors.Is(err, natsstream.ErrInvalidEvent):
			if derr := a.dead.DeadLetter(ctx, "archiver", m.Data, err.Error()); derr != nil {
				return fmt.Errorf("dead-letter seq %d: %w", m.Seq, derr)
			}
			a.deadLettered.Add(1)
			ackNow = append(ackNow, m)
		default:
			return fmt.Errorf("add seq %d: %w", m.Seq, err)
		}
	}
	if err := a.consumer.AckBatch(ctx, ackNow); err != nil {
		return fmt.Errorf("ack: %w", err)
	}
	if a.w.Due() {
		return a.flush(ctx)
	}
	return nil
}

// flush commits the pending batch and then acknowledges its messages.
func (a *Archiver) flush(ctx context.Context) error {
	if a.w.Pending() == 0 {
		return nil
	}
	batch, err := a.w.Flush(ctx)
	if err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	a.archived.Add(uint64(batch.Rows))
	a.files.Add(uint64(len(batch.Files)))
	for _, f := range batch.Files {
		a.bytes.Add(uint64(f.Bytes))
	}
	a.lastSeq.Store(batch.LastSeq)
	if a.afterFlush != nil {
		if err := a.afterFlush(); err != nil {
			return err
		}
	}
	if err := a.consumer.AckBatch(ctx, a.unacked); err != nil {
		// Committed but not acknowledged: the redelivered messages are at or
		// below the committed sequence and are acknowledged then.
		a.unacked = a.unacked[:0]
		return fmt.Errorf("ack after flush: %w", err)
	}
	a.unacked = a.unacked[:0]
	return nil
}

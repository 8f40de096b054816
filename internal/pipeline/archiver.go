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
// Its progress does not depend on the order or completeness of deliveries:
// the Writer takes sequences only in order without holes (archive.ErrGap),
// so everything at or below the last committed sequence is in the archive,
// and the skip rule above is sound. When a delivery is missing (a fetch
// gave up while the server was delivering, a process died holding it), the
// next message shows a gap: the archiver asks the stream whether it still
// holds the missing sequence; if it does, it opens its consumer afresh
// from there and reads again; if not (expired or deleted), it records the
// sequences as missing in the batch's manifest, logs an error, and health
// reports them. It also opens the consumer afresh from the sequence after
// the last one committed when it starts and after any error.
//
// Several archivers may write one archive (see the archive package); they
// run one at a time under a lease (natsstream.Stream.Lead), since each
// reads the whole stream, and if a stalled one wakes up while another
// runs, the archive's create-only commits keep each event in it once.
type Archiver struct {
	open     OpenConsumer
	consumer Consumer                 // nil until the first open; Run's goroutine only
	current  atomic.Pointer[Consumer] // the same, for Pending
	w        *archive.Writer
	stream   ArchiverStream
	log      *slog.Logger

	unacked []natsstream.Msg // added to the writer, waiting for a flush

	// afterFlush, when set by a test, runs between a committed flush and
	// the acknowledgement of its messages; an error stops there, as a crash
	// would.
	afterFlush func() error

	archived, files, bytes, deadLettered atomic.Uint64
	gaps, missing                        atomic.Uint64
	lastSeq                              atomic.Uint64
}

// ArchiverStream is what the archiver needs of the stream besides its
// consumer: a place for dead letters, and which sequences it holds
// (natsstream.Stream.NextHeld).
type ArchiverStream interface {
	DeadLetters
	NextHeld(ctx context.Context, from uint64) (seq uint64, ok bool, err error)
}

// NewArchiver returns an archiver reading the consumers open returns and
// writing through w.
func NewArchiver(open OpenConsumer, w *archive.Writer, stream ArchiverStream, log *slog.Logger) *Archiver {
	return &Archiver{open: open, w: w, stream: stream, log: orDiscard(log).With("component", "archiver")}
}

// errReread reports a lost delivery: the consumer is opened again from
// the first sequence not yet archived.
var errReread = errors.New("a delivery is missing; reading the stream again")

// ArchiverStats counts what the archiver has done since it started.
type ArchiverStats struct {
	Archived     uint64 `json:"archived"`
	Files        uint64 `json:"files"`
	Bytes        uint64 `json:"bytes"`
	DeadLettered uint64 `json:"dead_lettered"`
	LastSeq      uint64 `json:"last_seq"` // last sequence committed to the archive
	// Gaps counts lost deliveries the archiver noticed and read again.
	Gaps uint64 `json:"gaps"`
	// Missing counts sequences the stream no longer held when the
	// archiver reached them: events lost to the archive.
	Missing uint64 `json:"missing"`
}

// Stats returns the archiver's counters.
func (a *Archiver) Stats() ArchiverStats {
	return ArchiverStats{Archived: a.archived.Load(), Files: a.files.Load(), Bytes: a.bytes.Load(),
		DeadLettered: a.deadLettered.Load(), LastSeq: a.lastSeq.Load(), Gaps: a.gaps.Load(), Missing: a.missing.Load()}
}

// Run recovers the archive, then archives until ctx ends, flushing what is
// pending before it returns. It may be run again after it returns (an
// archiver replica that lost the archiver lease and got it back): each run
// starts from what the archive holds then.
func (a *Archiver) Run(ctx context.Context) error {
	a.unacked = nil // a previous run's, for a consumer opened afresh below
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
	c, err := a.open(ctx, a.w.Next())
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

// step fetches one batch, adds it to the writer in sequence and flushes
// when due. It stops at a lost delivery (errReread), leaving the messages
// after it unacknowledged for the consumer opened next.
func (a *Archiver) step(ctx context.Context) error {
	msgs, err := a.consumer.Fetch(ctx, ArchiverBatch, 500*time.Millisecond)
	if err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	var ackNow []natsstream.Msg // already archived
	for i := 0; i < len(msgs); {
		m := msgs[i]
		err := a.add(m)
		switch {
		case err == nil, errors.Is(err, archive.ErrRejected): // pending: acknowledged after the flush
			a.unacked = append(a.unacked, m)
		case errors.Is(err, archive.ErrArchived):
			ackNow = append(ackNow, m)
		case errors.Is(err, archive.ErrInvalidEvent), errors.Is(err, natsstream.ErrInvalidEvent):
			// In the batch as a rejected sequence; acknowledged with it.
			if derr := a.stream.DeadLetter(ctx, "archiver", m.Data, err.Error()); derr != nil {
				return fmt.Errorf("dead-letter seq %d: %w", m.Seq, derr)
			}
			a.deadLettered.Add(1)
			a.unacked = append(a.unacked, m)
		case errors.Is(err, archive.ErrGap):
			if err := a.gap(ctx, m.Seq); err != nil {
				if aerr := a.consumer.AckBatch(ctx, ackNow); aerr != nil {
					a.log.Warn("ack archived messages", "err", aerr)
				}
				return err
			}
			continue // the missing sequences are recorded: add m now
		default:
			return fmt.Errorf("add seq %d: %w", m.Seq, err)
		}
		i++
	}
	if err := a.consumer.AckBatch(ctx, ackNow); err != nil {
		return fmt.Errorf("ack: %w", err)
	}
	if a.w.Due() {
		return a.flush(ctx)
	}
	return nil
}

// add gives the writer message m: its event, or, for data that is not an
// event, its place as a rejected sequence (natsstream.ErrInvalidEvent
// then, for the caller to dead-letter it).
func (a *Archiver) add(m natsstream.Msg) error {
	ev, err := m.Event()
	if err == nil {
		return a.w.Add(m.Seq, ev)
	}
	if !errors.Is(err, natsstream.ErrInvalidEvent) {
		return err
	}
	if rerr := a.w.Reject(m.Seq); rerr != nil {
		return rerr
	}
	return err
}

// gap handles a message with sequence got beyond the writer's next one. If
// the stream still holds a sequence before got, a delivery was lost:
// errReread, and Run reads the stream again from there. The sequences it
// no longer holds are recorded as missing.
func (a *Archiver) gap(ctx context.Context, got uint64) error {
	next := a.w.Next()
	held, ok, err := a.stream.NextHeld(ctx, next)
	if err != nil {
		return fmt.Errorf("gap before seq %d: %w", got, err)
	}
	if !ok || held > got { // got itself is gone now: look again
		return fmt.Errorf("gap before seq %d: %w", got, errReread)
	}
	if held > next {
		if err := a.w.Skip(next, held-1); err != nil {
			return fmt.Errorf("gap before seq %d: %w", got, err)
		}
		a.missing.Add(held - next)
		a.log.Error("events lost to the archive: the stream no longer holds them",
			"first_seq", next, "last_seq", held-1, "count", held-next)
	}
	if held < got {
		a.gaps.Add(1)
		return fmt.Errorf("expected seq %d, got %d: %w", held, got, errReread)
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

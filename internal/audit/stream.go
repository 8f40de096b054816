package audit

import (
	"cmp"
	"context"
	"crypto/rand"
	"slices"
	"time"

	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/souq"
)

// StreamMsg is one message of the events stream.
type StreamMsg struct {
	Seq    uint64
	Stored time.Time // when the stream stored it
	Event  souq.Event
	Err    error // why the data is not an event; Event is zero then
}

// StreamContents is every message the events stream held when it was read.
type StreamContents struct {
	Info natsstream.Info // the stream's state before the read
	Msgs []StreamMsg     // by sequence, each once
}

// Tuning of ReadStream.
const (
	readBatch = 1000                   // messages per fetch
	readWait  = 250 * time.Millisecond // longest wait of one fetch
	dropWait  = 10 * time.Second       // bound on deleting the consumer
)

// ReadStream reads every message of the events stream, up to the last one
// stored when it starts, with a temporary durable consumer ("audit-" and a
// random suffix) that it deletes before returning. The consumer
// acknowledges what it reads (it is its own consumer, so this affects no
// other), which keeps it below the stream's limit of unacknowledged
// messages. It may run while the pipeline's consumers run.
func ReadStream(ctx context.Context, s *natsstream.Stream) (StreamContents, error) {
	info, err := s.Info(ctx)
	if err != nil {
		return StreamContents{}, err
	}
	out := StreamContents{Info: info, Msgs: []StreamMsg{}}
	if info.Msgs == 0 {
		return out, nil
	}
	name := "audit-" + rand.Text()
	c, err := s.Consumer(ctx, name)
	if err != nil {
		return StreamContents{}, err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dropWait)
		defer cancel()
		_ = s.DeleteConsumer(dctx, name) // left behind, it only costs the server a little memory
	}()
	seen := map[uint64]bool{}
	var last uint64
	for last < info.LastSeq {
		msgs, err := c.Fetch(ctx, readBatch, readWait)
		if err != nil {
			return StreamContents{}, err
		}
		if len(msgs) == 0 {
			pending, err := c.Pending(ctx)
			if err != nil {
				return StreamContents{}, err
			}
			if pending == 0 {
				break // the newest messages expired while we read
			}
			continue
		}
		for _, m := range msgs {
			last = max(last, m.Seq)
			if seen[m.Seq] {
				continue
			}
			seen[m.Seq] = true
			ev, err := m.Event()
			out.Msgs = append(out.Msgs, StreamMsg{Seq: m.Seq, Stored: m.Stored, Event: ev, Err: err})
		}
		if err := c.AckBatch(ctx, msgs); err != nil {
			return StreamContents{}, err
		}
	}
	slices.SortFunc(out.Msgs, func(a, b StreamMsg) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

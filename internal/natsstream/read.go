package natsstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Tuning of Read.
const (
	readBatch  = 1000                   // messages per pull
	readWait   = 250 * time.Millisecond // longest wait of one pull
	readLinger = 30 * time.Second       // the server removes a reader's consumer idle this long
)

// Read calls fn with every event the stream holds from sequence from
// through sequence through, in sequence order, each once, and stops at
// fn's first error. It reads with an ordered consumer (ephemeral, no
// acknowledgements): the client library checks that no delivery is
// skipped and, if one is, recreates the consumer from the last sequence
// seen, so a delivery lost on the way cannot leave a hole in what Read
// returns. Sequences the stream no longer holds (expired, deleted) are
// simply absent. The Msgs passed to fn cannot be acknowledged.
func (s *Stream) Read(ctx context.Context, from, through uint64, fn func(Msg) error) error {
	from = max(from, 1)
	if through < from {
		return nil
	}
	oc, err := s.js.OrderedConsumer(ctx, s.opts.Stream, jetstream.OrderedConsumerConfig{
		FilterSubjects:    []string{s.eventsFilter()},
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       from,
		InactiveThreshold: readLinger,
	})
	if err != nil {
		return fmt.Errorf("natsstream: read from %d: %w", from, err)
	}
	defer func() { // each pull replaced the one before; remove the last
		if info := oc.CachedInfo(); info != nil {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), apiTimeout)
			defer cancel()
			_ = s.js.DeleteConsumer(dctx, s.opts.Stream, info.Name) // else the server drops it after readLinger
		}
	}()
	last := from - 1
	for last < through {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch, err := oc.Fetch(readBatch, jetstream.FetchMaxWait(readWait))
		if err != nil {
			return fmt.Errorf("natsstream: read from %d: %w", last+1, err)
		}
		n := 0
		for m := range batch.Messages() { // drained whole: the next pull starts after the last message delivered
			msg, err := s.msg(m)
			if err != nil {
				return fmt.Errorf("natsstream: read: %w", err)
			}
			if msg.Seq <= last || msg.Seq > through {
				continue
			}
			last = msg.Seq
			n++
			msg.m = nil // an ordered consumer's messages take no acks
			if err := fn(msg); err != nil {
				return err
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) {
			return fmt.Errorf("natsstream: read from %d: %w", last+1, err)
		}
		if n == 0 { // a whole wait without a message: is anything left?
			next, ok, err := s.NextHeld(ctx, last+1)
			if err != nil {
				return err
			}
			if !ok || next > through {
				return nil
			}
		}
	}
	return nil
}

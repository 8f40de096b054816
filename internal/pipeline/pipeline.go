// Package pipeline runs the consumers of the events stream: the processor,
// which applies every event to the analytics aggregates, and the archiver,
// which writes every event to the Parquet archive. Both read the stream at
// least once and write effectively once: the aggregates ignore an event
// they have applied, and the archive skips sequences it has committed.
//
// Each Run loop runs in the goroutine that calls it and returns nil when its
// context ends. Neither keeps other goroutines.
package pipeline

import (
	"context"
	"log/slog"
	"time"

	"github.com/souq-commerce/souq/internal/natsstream"
)

// Consumer is a durable consumer of the events stream.
type Consumer interface {
	Fetch(ctx context.Context, max int, wait time.Duration) ([]natsstream.Msg, error)
	AckBatch(ctx context.Context, msgs []natsstream.Msg) error
	// Pending is the consumer's lag: messages not yet acknowledged.
	Pending(ctx context.Context) (uint64, error)
}

// OpenConsumer opens a consumer that delivers from stream sequence from
// on, forgetting earlier deliveries (natsstream.Stream.ConsumerFrom).
type OpenConsumer func(ctx context.Context, from uint64) (Consumer, error)

// Durable opens stream's durable consumer named durable afresh.
func Durable(stream *natsstream.Stream, durable string) OpenConsumer {
	return func(ctx context.Context, from uint64) (Consumer, error) {
		return stream.ConsumerFrom(ctx, durable, from)
	}
}

// DeadLetters records events a consumer cannot use, with the reason.
type DeadLetters interface {
	DeadLetter(ctx context.Context, subjectSuffix string, raw []byte, reason string) error
}

// backoff waits after a failure, growing to a limit, or until ctx ends.
type backoff struct{ d time.Duration }

func (b *backoff) wait(ctx context.Context) {
	b.d = min(max(2*b.d, 50*time.Millisecond), 5*time.Second)
	t := time.NewTimer(b.d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (b *backoff) reset() { b.d = 0 }

func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}

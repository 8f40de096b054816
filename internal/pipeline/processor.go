package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/tracing"
)

// Applier applies events to the aggregates, ignoring those it has applied
// before. analytics.Aggregator is the implementation.
type Applier interface {
	ApplyMany(ctx context.Context, recs []analytics.Record) ([]analytics.Result, error)
}

// ProcessorBatch is the most messages the processor fetches at a time.
const ProcessorBatch = 500

// processorWait is how long one fetch waits for a message when none is
// pending.
const processorWait = time.Second

// Processor applies the events stream to the aggregates.
type Processor struct {
	consumer Consumer
	agg      Applier
	dead     DeadLetters
	log      *slog.Logger

	applied, duplicates, deadLettered atomic.Uint64
	batches, lastSeq                  atomic.Uint64

	// latency, when set, observes for each applied event the time from
	// its receipt by Souq to its being visible in the aggregates.
	latency func(time.Duration)
}

// NewProcessor returns a processor reading from consumer.
func NewProcessor(consumer Consumer, agg Applier, dead DeadLetters, log *slog.Logger) *Processor {
	return &Processor{consumer: consumer, agg: agg, dead: dead, log: orDiscard(log).With("component", "processor")}
}

// ProcessorStats counts what the processor has done since it started.
type ProcessorStats struct {
	Applied      uint64 `json:"applied"`
	Duplicates   uint64 `json:"duplicates"` // delivered again, or of a kind the aggregates do not count
	DeadLettered uint64 `json:"dead_lettered"`
	LastSeq      uint64 `json:"last_seq"` // the highest sequence handled
	// Batches counts the fetches applied, each in one call to the hot
	// store (one round trip to Redis).
	Batches uint64 `json:"batches"`
}

// Stats returns the processor's counters.
func (p *Processor) Stats() ProcessorStats {
	return ProcessorStats{Applied: p.applied.Load(), Duplicates: p.duplicates.Load(),
		DeadLettered: p.deadLettered.Load(), LastSeq: p.lastSeq.Load(), Batches: p.batches.Load()}
}

// Run fetches and applies events until ctx ends, each fetch's events
// together (one round trip to a remote hot store). A message is
// acknowledged once its event is applied (or found applied before, or
// dead-lettered as malformed); when applying fails for another reason (the
// hot store is down), the fetch is left unacknowledged and is redelivered.
func (p *Processor) Run(ctx context.Context) error {
	var b backoff
	for ctx.Err() == nil {
		// Take what is pending without waiting for a full batch (a fetch
		// with a wait returns when the batch is full or the wait is over,
		// so at a low rate it would hold the first event back for the whole
		// wait); when nothing is pending, wait for the next message.
		msgs, err := p.consumer.Fetch(ctx, ProcessorBatch, 0)
		if err == nil && len(msgs) == 0 {
			msgs, err = p.consumer.Fetch(ctx, 1, processorWait)
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			p.log.Warn("fetch", "err", err)
			b.wait(ctx)
			continue
		}
		done, err := p.apply(ctx, msgs)
		if aerr := p.consumer.AckBatch(ctx, done); aerr != nil && ctx.Err() == nil {
			p.log.Warn("ack", "err", aerr)
		}
		if err != nil && ctx.Err() == nil {
			p.log.Warn("apply", "err", err)
			b.wait(ctx)
			continue
		}
		b.reset()
	}
	return nil
}

// apply applies msgs, all at once, and returns those that may be
// acknowledged: all of them, unless the aggregates could not be written
// (none then) or a dead letter could not be (those before it).
func (p *Processor) apply(ctx context.Context, msgs []natsstream.Msg) ([]natsstream.Msg, error) {
	recs := make([]analytics.Record, 0, len(msgs))
	bad := make([]error, len(msgs)) // why a message is dead-lettered
	var spans map[int]trace.Span    // by index in recs: events in a traced request's trace
	for i, m := range msgs {
		ev, err := m.Event()
		if err != nil {
			bad[i] = err
			continue
		}
		if tp := ev.Traceparent(); tp != "" {
			if spans == nil {
				spans = map[int]trace.Span{}
			}
			_, spans[len(recs)] = tracing.Tracer().Start(tracing.WithTraceparent(ctx, tp), "processor.apply",
				trace.WithSpanKind(trace.SpanKindConsumer),
				trace.WithAttributes(attribute.String("messaging.system", "nats"), attribute.String("messaging.destination.name", m.Subject),
					attribute.Int64("messaging.message.sequence", int64(m.Seq)), attribute.String("messaging.message.id", ev.MessageID)))
		}
		recs = append(recs, analytics.Record{Seq: m.Seq, Event: ev})
	}
	res, err := p.agg.ApplyMany(ctx, recs)
	for j, span := range spans {
		switch {
		case err != nil:
			tracing.End(span, err)
		default:
			span.SetAttributes(attribute.Bool("souq.duplicate", res[j].Err == nil && !res[j].Applied))
			tracing.End(span, res[j].Err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("apply seqs %d-%d: %w", msgs[0].Seq, msgs[len(msgs)-1].Seq, err)
	}
	p.batches.Add(1)
	done := msgs[:0:0]
	j := 0 // the next result
	for i, m := range msgs {
		if bad[i] == nil {
			r := res[j]
			switch {
			case r.Err != nil:
				bad[i] = r.Err
			case r.Applied:
				p.applied.Add(1)
				if ev := &recs[j].Event; p.latency != nil && !ev.ReceivedAt.IsZero() {
					p.latency(time.Since(ev.ReceivedAt))
				}
			default:
				p.duplicates.Add(1)
			}
			j++
		}
		if bad[i] != nil {
			if derr := p.dead.DeadLetter(ctx, "processor", m.Data, bad[i].Error()); derr != nil {
				return done, fmt.Errorf("dead-letter seq %d: %w", m.Seq, derr)
			}
			p.deadLettered.Add(1)
		}
		raise(&p.lastSeq, m.Seq) // a redelivery may come after newer messages
		done = append(done, m)
	}
	return done, nil
}

// raise sets v to n if n is greater.
func raise(v *atomic.Uint64, n uint64) {
	for old := v.Load(); n > old && !v.CompareAndSwap(old, n); old = v.Load() {
	}
}

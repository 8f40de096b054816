// Package relay owns the outbox relay: it moves the events that checkout
// wrote into the database's outbox, in the same transaction as the order,
// onto the event stream, and marks them published once the stream has
// acknowledged them.
//
// # Delivery
//
// The relay publishes each event with its outbox id as the stream's message
// id and marks it only after the stream's ack, so every committed event
// reaches the stream at least once. A crash (or a failed mark) between
// publish and mark leaves the event pending; it is published again on the
// next pass, and the stream drops the copy if it arrives within the
// stream's duplicate window (Stats.Duplicates counts those) — otherwise the
// processor removes it by event id.
//
// A payload that is not a souq.Event cannot be published under a subject.
// It is stored as a dead letter with the reason, then marked, so it never
// holds up the events behind it; if the dead letter cannot be stored the
// event stays pending and is tried again.
//
// # Several relays
//
// With replicas sharing one database every replica runs a relay over the
// same outbox. An outbox that implements Exclusive lets one relay at a
// time make a pass (read, publish, mark): the others skip their turn and
// pause. Passes then never publish the same events side by side, and the
// events keep their order; a relay that dies mid-pass gives up its turn
// with its process, and the events it published but did not mark are
// published again by the next pass under the same message id, which the
// stream drops as a duplicate.
//
// # Goroutines
//
// Run works in the caller's goroutine until its context ends; it starts
// none. Notify may be called from any goroutine.
package relay

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/tracing"
)

// Outbox is where the relay reads pending events and marks them published.
type Outbox interface {
	// PendingOutbox returns up to limit unpublished events, oldest first.
	PendingOutbox(ctx context.Context, limit int) ([]souq.OutboxEvent, error)
	// MarkOutboxPublished marks events published; unknown or already
	// published ids are ignored.
	MarkOutboxPublished(ctx context.Context, ids []souq.ID, at time.Time) error
	// DeleteOutboxPublishedBefore deletes the events published before t
	// and returns how many; unpublished events stay.
	DeleteOutboxPublishedBefore(ctx context.Context, t time.Time) (int, error)
}

// Exclusive is implemented by an outbox that several processes' relays
// share (the PostgreSQL store): Exclusively runs fn unless another relay
// is running a pass, in which case it returns ran false without running
// it. fn's error is returned.
type Exclusive interface {
	Exclusively(ctx context.Context, fn func(ctx context.Context) error) (ran bool, err error)
}

// Publisher is the stream the relay publishes to.
type Publisher interface {
	// PublishRawBatch publishes encoded events and waits for each ack.
	PublishRawBatch(ctx context.Context, msgs []natsstream.RawMsg) ([]natsstream.PublishResult, error)
	// DeadLetter stores a payload that cannot be published, with why.
	DeadLetter(ctx context.Context, subjectSuffix string, raw []byte, reason string) error
}

// deadLetterSuffix is the dead-letter subject suffix of bad outbox payloads:
// souq.deadletters.outbox.
const deadLetterSuffix = "outbox"

// Options configure a Relay. Zero values take the defaults named.
type Options struct {
	// Batch is the most events read and published in one pass; default 100.
	Batch int
	// Interval is the pause between passes when the outbox is empty, and
	// the first pause after a failed pass (doubling up to maxBackoff);
	// default 100ms. Notify ends a pause early.
	Interval time.Duration
	// Now is the clock recorded as the publication time; default time.Now.
	Now func() time.Time
	// Logger; nil discards.
	Logger *slog.Logger
}

// maxBackoff bounds the pause after consecutive failed passes.
const maxBackoff = 5 * time.Second

// Relay moves outbox events to the stream. It is safe for concurrent use,
// but one Run per outbox is enough unless the outbox is Exclusive: two
// would publish the same events twice (harmless, as duplicates are
// dropped, but wasted).
type Relay struct {
	outbox Outbox
	pub    Publisher
	batch  int
	every  time.Duration
	now    func() time.Time
	log    *slog.Logger
	wake   chan struct{} // buffered 1: Notify never blocks

	published, duplicates, deadLetters, failures atomic.Uint64
	// oldest is when the oldest event the last pass found pending was
	// written, in Unix nanoseconds; 0 when none was, or when another
	// relay holds the turn (it reports the outbox then).
	oldest atomic.Int64

	// afterPublish, when set by tests, runs between the stream's acks and
	// the marking of the events: the window in which a crash leaves a
	// published event pending.
	afterPublish func(ctx context.Context)
}

// Prune deletes the outbox events published longer than retention ago,
// and returns how many; a retention of 0 or less keeps them all. A
// published event has done its job (the stream holds it and dropped its
// duplicates within the stream's window); its row is kept for retention
// only so that souq audit can match orders with their events.
func (r *Relay) Prune(ctx context.Context, retention time.Duration) (int, error) {
	if retention <= 0 {
		return 0, nil
	}
	n, err := r.outbox.DeleteOutboxPublishedBefore(ctx, r.now().Add(-retention))
	if err != nil {
		return n, fmt.Errorf("prune outbox: %w", err)
	}
	return n, nil
}

// Stats are the relay's counters since New.
type Stats struct {
	Published   uint64 // events the stream acknowledged as new and that were then marked
	Duplicates  uint64 // events the stream acknowledged as duplicates (republished after a crash or failed mark)
	DeadLetters uint64 // undecodable payloads stored as dead letters and marked
	Failures    uint64 // events that failed to publish or to be marked, and passes that failed to read (not counting shutdown)
}

// New returns a relay from outbox to pub.
func New(outbox Outbox, pub Publisher, opts Options) *Relay {
	r := &Relay{outbox: outbox, pub: pub, batch: opts.Batch, every: opts.Interval, now: opts.Now,
		log: opts.Logger, wake: make(chan struct{}, 1)}
	if r.batch <= 0 {
		r.batch = 100
	}
	if r.every <= 0 {
		r.every = 100 * time.Millisecond
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.log = r.log.With("component", "relay")
	return r
}

// Notify wakes a Run that is pausing, so an event just committed is
// published without waiting for the interval. It never blocks.
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Stats returns the relay's counters.
func (r *Relay) Stats() Stats {
	return Stats{
		Published:   r.published.Load(),
		Duplicates:  r.duplicates.Load(),
		DeadLetters: r.deadLetters.Load(),
		Failures:    r.failures.Load(),
	}
}

// Run relays events until ctx ends, then returns nil. A full batch is
// followed at once by the next pass; after an empty pass it pauses for the
// interval or until Notify; after a failed pass (logged) it backs off.
func (r *Relay) Run(ctx context.Context) error {
	backoff := r.every
	for {
		n, err := r.RunOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		pause := r.every
		switch {
		case err != nil:
			r.log.Warn("relay pass failed", "err", err, "retry_in", backoff)
			pause, backoff = backoff, min(2*backoff, maxBackoff)
		case n == r.batch:
			backoff = r.every
			continue // more may be waiting
		default:
			backoff = r.every
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-r.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// RunOnce makes one pass: it reads up to Batch pending events, publishes
// them and marks those the stream acknowledged (and the dead-lettered
// ones). It returns how many events it read, and an error if any event
// was left pending. When the outbox is Exclusive and another relay is
// making a pass, it does nothing and returns 0.
func (r *Relay) RunOnce(ctx context.Context) (int, error) {
	ex, ok := r.outbox.(Exclusive)
	if !ok {
		return r.pass(ctx)
	}
	var n int
	ran, err := ex.Exclusively(ctx, func(ctx context.Context) error {
		var err error
		n, err = r.pass(ctx)
		return err
	})
	if !ran && err != nil {
		r.fail(ctx, 1)
		return 0, fmt.Errorf("relay: take the relay's turn: %w", err)
	}
	if !ran {
		r.oldest.Store(0)
	}
	return n, err
}

// OldestPending returns when the oldest event the relay's last pass found
// unpublished was written, or the zero time when it found none (or
// another relay made the pass): the outbox's age is now minus this.
func (r *Relay) OldestPending() time.Time {
	if ns := r.oldest.Load(); ns != 0 {
		return time.Unix(0, ns).UTC()
	}
	return time.Time{}
}

// pass is RunOnce's work.
func (r *Relay) pass(ctx context.Context) (int, error) {
	events, err := r.outbox.PendingOutbox(ctx, r.batch)
	if err != nil {
		r.fail(ctx, 1)
		return 0, fmt.Errorf("relay: read outbox: %w", err)
	}
	if len(events) == 0 {
		r.oldest.Store(0)
		return 0, nil
	}
	r.oldest.Store(events[0].CreatedAt.UnixNano()) // oldest first

	var (
		msgs   = make([]natsstream.RawMsg, 0, len(events))
		msgIDs = make([]souq.ID, 0, len(events)) // msgIDs[i] is msgs[i]'s outbox id
		done   = make([]souq.ID, 0, len(events)) // to mark
		dead   int
		errs   []error
		spans  []trace.Span // spans[i] is msgs[i]'s publish, when tracing is on
	)
	for _, ev := range events {
		subject, traceparent, err := subjectOf(ev)
		if err == nil {
			msgs = append(msgs, natsstream.RawMsg{Subject: subject, MsgID: string(ev.ID), Data: ev.Payload})
			msgIDs = append(msgIDs, ev.ID)
			if tracing.Enabled() {
				spans = append(spans, publishSpan(ctx, ev, subject, traceparent))
			}
			continue
		}
		r.log.Error("undecodable outbox event", "id", ev.ID, "name", ev.Name, "err", err)
		if dlErr := r.pub.DeadLetter(ctx, deadLetterSuffix, ev.Payload, fmt.Sprintf("outbox event %s (%s): %v", ev.ID, ev.Name, err)); dlErr != nil {
			errs = append(errs, fmt.Errorf("dead letter %s: %w", ev.ID, dlErr))
			continue
		}
		done = append(done, ev.ID)
		dead++
	}

	var published, duplicates int
	if len(msgs) > 0 {
		results, err := r.pub.PublishRawBatch(ctx, msgs) // per-event errors are in results
		for i, span := range spans {
			if i < len(results) {
				tracing.End(span, results[i].Err)
			} else {
				tracing.End(span, cmp.Or(err, errors.New("no acknowledgement")))
			}
		}
		for i, res := range results {
			// Only an acknowledgement with a stream sequence says the
			// stream holds the event (a duplicate's names the copy it
			// holds); anything else leaves the row to publish again.
			if res.Err == nil && res.Ack.Seq == 0 {
				res.Err = fmt.Errorf("relay: %s: acknowledgement without a stream sequence", msgIDs[i])
			}
			if res.Err != nil {
				errs = append(errs, res.Err)
				continue
			}
			done = append(done, msgIDs[i])
			if res.Ack.Duplicate {
				duplicates++
			} else {
				published++
			}
		}
	}

	if r.afterPublish != nil {
		r.afterPublish(ctx)
	}
	if err := r.outbox.MarkOutboxPublished(ctx, done, r.now()); err != nil {
		r.fail(ctx, len(done)+len(errs))
		return len(events), errors.Join(append(errs, fmt.Errorf("relay: mark %d events published: %w", len(done), err))...)
	}
	r.published.Add(uint64(published))
	r.duplicates.Add(uint64(duplicates))
	r.deadLetters.Add(uint64(dead))
	if len(errs) > 0 {
		r.fail(ctx, len(errs))
		return len(events), fmt.Errorf("relay: %d of %d events left pending: %w", len(errs), len(events), errors.Join(errs...))
	}
	return len(events), nil
}

// fail counts n failures, unless ctx has ended: a pass cut short by
// shutdown has not failed.
func (r *Relay) fail(ctx context.Context, n int) {
	if ctx.Err() == nil {
		r.failures.Add(uint64(n))
	}
}

// subjectOf decodes an outbox payload as a souq.Event and returns its
// stream subject and the traceparent its context carries.
func subjectOf(ev souq.OutboxEvent) (subject, traceparent string, err error) {
	var e souq.Event
	if err := json.Unmarshal(ev.Payload, &e); err != nil {
		return "", "", fmt.Errorf("payload is not an event: %w", err)
	}
	if e.Type == "" {
		return "", "", errors.New("payload is not an event: no type")
	}
	if e.MessageID != string(ev.ID) {
		return "", "", fmt.Errorf("payload's message id %q is not the outbox id", e.MessageID)
	}
	return e.Subject(), e.Traceparent(), nil
}

// publishSpan starts the span of one event's publish, in the trace of the
// request that wrote it when the event names one.
func publishSpan(ctx context.Context, ev souq.OutboxEvent, subject, traceparent string) trace.Span {
	_, span := tracing.Tracer().Start(tracing.WithTraceparent(ctx, traceparent), "relay.publish",
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("messaging.system", "nats"), attribute.String("messaging.destination.name", subject),
			attribute.String("messaging.message.id", string(ev.ID)), attribute.String("souq.event", ev.Name)))
	return span
}

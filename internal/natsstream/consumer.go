package natsstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	json "github.com/segmentio/encoding/json"

	"github.com/souq-commerce/souq/internal/souq"
)

// ackFlushTimeout bounds AckBatch's flush when its context has no deadline.
const ackFlushTimeout = 30 * time.Second

// Consumer is a durable pull consumer of the events stream: the server
// remembers which messages it has acknowledged, across restarts of either
// side. It is safe for concurrent use; processes that open the same durable
// share its messages.
type Consumer struct {
	s    *Stream
	name string
	c    jetstream.Consumer
}

// Msg is one message fetched from the events stream.
type Msg struct {
	Seq       uint64    // stream sequence
	Subject   string    // e.g. souq.events.track.order_completed (without a namespace)
	Data      []byte    // the souq.Event in JSON
	Delivered uint64    // deliveries of this message so far, 1 the first time
	Stored    time.Time // when the stream stored it

	m jetstream.Msg
}

// Consumer creates the durable consumer named durable, or binds to it if it
// exists (updating its settings but never where it delivers from, so
// processes sharing it keep their place). A new one delivers every message
// of the events stream from the first; any redelivers a message not
// acknowledged within Options.AckWait. Processes that open the same
// durable share its messages: each message goes to one of them at a time.
// durable is letters, digits, '-' and '_'.
func (s *Stream) Consumer(ctx context.Context, durable string) (*Consumer, error) {
	cfg := jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	c, err := s.js.Consumer(ctx, s.opts.Stream, durable)
	switch {
	case err == nil:
		have := c.CachedInfo().Config
		cfg.DeliverPolicy, cfg.OptStartSeq, cfg.OptStartTime = have.DeliverPolicy, have.OptStartSeq, have.OptStartTime
	case !errors.Is(err, jetstream.ErrConsumerNotFound):
		return nil, fmt.Errorf("natsstream: consumer %s: %w", durable, err)
	}
	return s.consumer(ctx, durable, cfg)
}

// Ephemeral creates a consumer of its own for this process, named prefix
// and a random suffix, delivering every message of the events stream from
// the first: for a processor whose aggregates live in its memory, which
// must see every event itself. The server deletes it once nobody has
// fetched from it for a minute, so a process that dies leaves nothing
// behind.
func (s *Stream) Ephemeral(ctx context.Context, prefix string) (*Consumer, error) {
	return s.consumer(ctx, prefix+"-"+nuid.Next(), jetstream.ConsumerConfig{
		DeliverPolicy: jetstream.DeliverAllPolicy, InactiveThreshold: ephemeralIdle})
}

// ephemeralIdle is how long an Ephemeral consumer outlives its last fetch.
const ephemeralIdle = time.Minute

// ConsumerFrom replaces the durable consumer named durable with one that
// delivers from stream sequence start on (from the first message kept, if
// start is older). Whatever the old one had delivered and not had
// acknowledged is forgotten, so delivery starts again in sequence order: a
// consumer that skips what it has already handled by sequence (the
// archiver) must not see an old delivery come back after newer ones.
func (s *Stream) ConsumerFrom(ctx context.Context, durable string, start uint64) (*Consumer, error) {
	if err := s.DeleteConsumer(ctx, durable); err != nil {
		return nil, err
	}
	return s.consumer(ctx, durable, jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: max(start, 1)})
}

// consumer creates or updates the durable with the delivery settings of
// cfg (and its FilterSubject, without the namespace; default every event)
// and the rest of the settings every Souq consumer has.
func (s *Stream) consumer(ctx context.Context, durable string, cfg jetstream.ConsumerConfig) (*Consumer, error) {
	if !namespacePattern.MatchString(durable) {
		return nil, fmt.Errorf("%w: consumer name %q: letters, digits, '-' and '_' only", ErrInvalidOptions, durable)
	}
	cfg.Durable = durable
	cfg.Description = "Souq consumer " + durable
	cfg.AckPolicy = jetstream.AckExplicitPolicy
	cfg.AckWait = s.opts.AckWait
	cfg.MaxAckPending = consumerMaxAck
	if cfg.FilterSubject == "" {
		cfg.FilterSubject = s.eventsFilter()
	} else {
		cfg.FilterSubject = s.prefix + cfg.FilterSubject
	}
	cfg.ReplayPolicy = jetstream.ReplayInstantPolicy
	cfg.Replicas = s.opts.Replicas
	c, err := s.js.CreateOrUpdateConsumer(ctx, s.opts.Stream, cfg)
	if err != nil {
		return nil, fmt.Errorf("natsstream: consumer %s: %w", durable, err)
	}
	return &Consumer{s: s, name: durable, c: c}, nil
}

// Fetch returns up to max messages, waiting up to wait for the first ones
// to arrive (wait <= 0: only those available now). It returns fewer, or
// none, when wait passes. When ctx ends first it returns ctx's error, and
// the messages delivered meanwhile are redelivered after Options.AckWait.
//
// The wait is the pull request's expiry on the server, so the server ends
// the pull and the client does not give up while messages are on their
// way; ctx is only watched between messages. A delivery can still fail to
// reach the caller (the connection drops, the client is starved of CPU
// for over a second between two messages): the server then redelivers it
// after the ack wait, out of order. Callers must not take the order of
// deliveries for the order of the stream (the archiver checks sequences;
// the processor deduplicates by event id).
func (c *Consumer) Fetch(ctx context.Context, max int, wait time.Duration) ([]Msg, error) {
	if max <= 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var (
		batch jetstream.MessageBatch
		err   error
	)
	if wait <= 0 {
		batch, err = c.c.FetchNoWait(max)
	} else {
		batch, err = c.c.Fetch(max, jetstream.FetchMaxWait(wait))
	}
	if err != nil {
		return nil, fmt.Errorf("natsstream: fetch %s: %w", c.name, err)
	}
	msgs := make([]Msg, 0, max)
	for {
		var (
			m  jetstream.Msg
			ok bool
		)
		select {
		case m, ok = <-batch.Messages():
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if !ok {
			break
		}
		msg, err := c.s.msg(m)
		if err != nil {
			return nil, fmt.Errorf("natsstream: fetch %s: %w", c.name, err)
		}
		msgs = append(msgs, msg)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) {
		return nil, fmt.Errorf("natsstream: fetch %s: %w", c.name, err)
	}
	return msgs, nil
}

// msg makes a Msg of a delivered message.
func (s *Stream) msg(m jetstream.Msg) (Msg, error) {
	meta, err := m.Metadata()
	if err != nil {
		return Msg{}, err
	}
	return Msg{Seq: meta.Sequence.Stream, Subject: strings.TrimPrefix(m.Subject(), s.prefix), Data: m.Data(),
		Delivered: meta.NumDelivered, Stored: meta.Timestamp, m: m}, nil
}

// Event decodes the message's data.
func (m Msg) Event() (souq.Event, error) {
	var ev souq.Event
	if err := json.Unmarshal(m.Data, &ev); err != nil {
		return souq.Event{}, fmt.Errorf("%w: message %d: %w", ErrInvalidEvent, m.Seq, err)
	}
	return ev, nil
}

// Ack acknowledges the message and waits for the server to confirm it, so
// that after a nil error the message is not delivered again to this
// consumer.
func (m Msg) Ack(ctx context.Context) error {
	if m.m == nil {
		return fmt.Errorf("natsstream: ack %d: message was not fetched", m.Seq)
	}
	if err := m.m.DoubleAck(ctx); err != nil && !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
		return fmt.Errorf("natsstream: ack %d: %w", m.Seq, err)
	}
	return nil
}

// AckBatch acknowledges every message and then flushes the connection,
// which returns once the server has received every ack: one round trip for
// the batch, however long. Unlike Msg.Ack it does not wait for the server
// to confirm each ack, so if the server stops before it has applied them
// the messages come again after the ack wait; the pipeline's consumers are
// idempotent, so a redelivery costs time, never correctness.
func (c *Consumer) AckBatch(ctx context.Context, msgs []Msg) error {
	for _, m := range msgs {
		if m.m == nil {
			return fmt.Errorf("natsstream: ack %d: message was not fetched", m.Seq)
		}
		if err := m.m.Ack(); err != nil && !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
			return fmt.Errorf("natsstream: ack %d: %w", m.Seq, err)
		}
	}
	if _, ok := ctx.Deadline(); !ok { // the flush needs a deadline
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ackFlushTimeout)
		defer cancel()
	}
	if err := c.s.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("natsstream: flush %d acks: %w", len(msgs), err)
	}
	return nil
}

// Pending is the consumer's lag: messages not yet delivered plus those
// delivered and not yet acknowledged. The server counts a published
// message shortly after acknowledging the publish, so the figure may trail
// the stream by a few milliseconds.
func (c *Consumer) Pending(ctx context.Context) (uint64, error) {
	info, err := c.c.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("natsstream: consumer %s info: %w", c.name, err)
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}

// DeleteConsumer removes the durable consumer named durable, if it exists,
// so the next Consumer call starts it again from the first message.
func (s *Stream) DeleteConsumer(ctx context.Context, durable string) error {
	err := s.js.DeleteConsumer(ctx, s.opts.Stream, durable)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("natsstream: delete consumer %s: %w", durable, err)
	}
	return nil
}

// Delete removes everything this Stream keeps on the server: the events
// and dead-letter streams, with their messages and consumers, and the
// lease bucket. It is for tearing down a namespace (a test's or a
// benchmark's); the Stream is unusable afterwards, and any other process
// using the namespace loses its data.
func (s *Stream) Delete(ctx context.Context) error {
	var errs []error
	for _, name := range []string{s.opts.Stream, s.opts.DeadLetterStream} {
		if err := s.js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			errs = append(errs, fmt.Errorf("natsstream: delete stream %s: %w", name, err))
		}
	}
	if err := s.js.DeleteKeyValue(ctx, s.leaseBucket()); err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) {
		errs = append(errs, fmt.Errorf("natsstream: delete lease bucket %s: %w", s.leaseBucket(), err))
	}
	return errors.Join(errs...)
}

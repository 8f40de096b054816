package natsstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// SubjectConsumer creates the durable consumer named durable for the events
// of one subject (without the namespace, e.g.
// souq.events.track.order_completed), or binds to it if it exists, keeping
// its place. A new one delivers only what the stream stores from now on: it
// is for side effects on people (e-mails), which must not be set off again
// for the week of events the stream keeps when the consumer is first
// created. Like Consumer, it redelivers what is not acknowledged within
// Options.AckWait, and processes that open the same durable share its
// messages.
func (s *Stream) SubjectConsumer(ctx context.Context, durable, subject string) (*Consumer, error) {
	cfg := jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy, FilterSubject: subject}
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

// InProgress tells the server that the message is still being worked on,
// so it is not redelivered for another Options.AckWait.
func (m Msg) InProgress(ctx context.Context) error {
	if m.m == nil {
		return fmt.Errorf("natsstream: in progress %d: message was not fetched", m.Seq)
	}
	if err := m.m.InProgress(); err != nil {
		return fmt.Errorf("natsstream: in progress %d: %w", m.Seq, err)
	}
	return nil
}

// Marks is a bucket of keys that record that something was done once, for
// consumers whose effects cannot be undone (an e-mail sent): a key is
// written after the effect, and looked up before it. Keys expire after the
// bucket's time to live. It is safe for concurrent use.
type Marks struct {
	kv     jetstream.KeyValue
	bucket string
}

// Marks opens the bucket of marks named name (letters, digits, '-' and
// '_'; the namespace is added), creating it if needed, keeping each key
// for ttl.
func (s *Stream) Marks(ctx context.Context, name string, ttl time.Duration) (*Marks, error) {
	if !namespacePattern.MatchString(name) {
		return nil, fmt.Errorf("%w: marks name %q: letters, digits, '-' and '_' only", ErrInvalidOptions, name)
	}
	bucket := "SOUQ_MARKS_" + strings.ToUpper(name)
	if s.opts.Namespace != "" {
		bucket = strings.ToUpper(s.opts.Namespace) + "_" + bucket
	}
	kv, err := s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: bucket, Description: "Souq marks: " + name + " done once",
		History: 1, TTL: ttl, Storage: jetstream.FileStorage, Replicas: s.opts.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("natsstream: marks bucket %s: %w", bucket, err)
	}
	return &Marks{kv: kv, bucket: bucket}, nil
}

// Has reports whether key is marked.
func (m *Marks) Has(ctx context.Context, key string) (bool, error) {
	_, err := m.kv.Get(ctx, key)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	}
	return false, fmt.Errorf("natsstream: marks %s: get %s: %w", m.bucket, key, err)
}

// Mark marks key, with value saying what was done; marking it again
// changes nothing that Has reports.
func (m *Marks) Mark(ctx context.Context, key string, value []byte) error {
	if _, err := m.kv.Put(ctx, key, value); err != nil {
		return fmt.Errorf("natsstream: marks %s: put %s: %w", m.bucket, key, err)
	}
	return nil
}

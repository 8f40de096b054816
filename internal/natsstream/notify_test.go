package natsstream

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// TestSubjectConsumer: a new subject consumer delivers only its subject,
// and only what the stream stores after it was created; bound again, it
// keeps its place. The namespace is added to its filter.
func TestSubjectConsumer(t *testing.T) {
	s := openStream(t, Options{StoreDir: filepath.Join(t.TempDir(), "nats"), Namespace: "shop1"})
	order := func() souq.Event {
		ev := testEvent(1)
		ev.MessageID, ev.Event = string(souq.NewID(souq.EventPrefix)), souq.EventOrderCompleted
		return ev
	}
	_, err := s.Publish(t.Context(), order()) // before the consumer: not delivered
	must(t, "Publish", err)
	const subject = "souq.events.track.order_completed"
	c, err := s.SubjectConsumer(t.Context(), "orders-only", subject)
	must(t, "SubjectConsumer", err)
	want := order()
	for _, ev := range []souq.Event{testEvent(2), want, testEvent(3)} {
		_, err := s.Publish(t.Context(), ev)
		must(t, "Publish", err)
	}
	msgs, err := c.Fetch(t.Context(), 10, time.Second)
	must(t, "Fetch", err)
	if len(msgs) != 1 || msgs[0].Subject != subject {
		t.Fatalf("Fetch: got %d messages %v, want the one order event published after the consumer", len(msgs), msgs)
	}
	got, err := msgs[0].Event()
	must(t, "Event", err)
	if got.MessageID != want.MessageID {
		t.Errorf("event: got %s, want %s", got.MessageID, want.MessageID)
	}
	must(t, "InProgress", msgs[0].InProgress(t.Context()))
	must(t, "Ack", msgs[0].Ack(t.Context()))
	again, err := s.SubjectConsumer(t.Context(), "orders-only", subject)
	must(t, "SubjectConsumer again", err)
	msgs, err = again.Fetch(t.Context(), 10, 200*time.Millisecond)
	must(t, "Fetch again", err)
	if len(msgs) != 0 {
		t.Errorf("Fetch after binding again: got %d messages, want none (its place kept)", len(msgs))
	}
}

// TestMarks: a key is marked once marked, and only then; the bucket is the
// namespace's.
func TestMarks(t *testing.T) {
	s := openStream(t, Options{StoreDir: filepath.Join(t.TempDir(), "nats"), Namespace: "shop1"})
	m, err := s.Marks(t.Context(), "email-sent", time.Hour)
	must(t, "Marks", err)
	if m.bucket != "SHOP1_SOUQ_MARKS_EMAIL-SENT" {
		t.Errorf("bucket: got %s, want SHOP1_SOUQ_MARKS_EMAIL-SENT", m.bucket)
	}
	has, err := m.Has(t.Context(), "evt_1")
	must(t, "Has", err)
	if has {
		t.Fatal("Has before Mark: got true, want false")
	}
	must(t, "Mark", m.Mark(t.Context(), "evt_1", []byte("sent")))
	must(t, "Mark again", m.Mark(t.Context(), "evt_1", []byte("sent")))
	if has, err := m.Has(t.Context(), "evt_1"); err != nil || !has {
		t.Errorf("Has after Mark: got %v, %v; want true", has, err)
	}
	if _, err := s.Marks(t.Context(), "email.sent", time.Hour); err == nil {
		t.Error("Marks with a dot in the name: got nil error, want one")
	}
}

package webhook_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/sqlite"
	"github.com/souq-commerce/souq/internal/webhook"
)

// redeliveringSource hands out the same events, as a stream does, until
// they are acknowledged; afterwards it waits for ctx.
type redeliveringSource struct {
	evs []souq.Event

	mu        sync.Mutex
	fetches   int
	ackedAt   int // the fetch whose ack went through; 0 before
	ackedOnce chan struct{}
}

func (s *redeliveringSource) Next(ctx context.Context) ([]souq.Event, func(context.Context) error, error) {
	s.mu.Lock()
	acked := s.ackedAt > 0
	if !acked {
		s.fetches++
	}
	fetch := s.fetches
	s.mu.Unlock()
	if acked {
		<-ctx.Done()
		return nil, nil, ctx.Err()
	}
	return s.evs, func(context.Context) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.ackedAt == 0 {
			s.ackedAt = fetch
			close(s.ackedOnce)
		}
		return nil
	}, nil
}

// flakyStore fails its first failures enqueues, as a database that is
// briefly unreachable does.
type flakyStore struct {
	*sqlite.DB
	mu       sync.Mutex
	failures int
}

func (f *flakyStore) EnqueueWebhookDeliveries(ctx context.Context, ds []webhook.Delivery) (int, error) {
	f.mu.Lock()
	fail := f.failures > 0
	f.failures--
	f.mu.Unlock()
	if fail {
		return 0, errors.New("database unreachable")
	}
	return f.DB.EnqueueWebhookDeliveries(ctx, ds)
}

// TestFeedAcksOnlyStoredEvents: a batch whose deliveries could not be
// stored is not acknowledged, so the stream delivers it again, and it is
// acknowledged once they are; nothing is lost and nothing doubled.
func TestFeedAcksOnlyStoredEvents(t *testing.T) {
	db := openStore(t)
	clk := &clock{t: t0}
	e := register(t, db, clk.now, "https://erp.example.ae/hooks", webhook.TypeOrderCreated)
	clk.add(time.Minute)
	src := &redeliveringSource{ackedOnce: make(chan struct{}),
		evs: []souq.Event{orderEvent(t, souq.EventOrderCompleted, clk.now(), "prd_1", 1), orderEvent(t, souq.EventOrderCompleted, clk.now(), "prd_2", 1)}}
	store := &flakyStore{DB: db, failures: 2}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- webhook.NewFeed(src, store, nil, 5, nil).Run(ctx) }()
	select {
	case <-src.ackedOnce:
	case <-time.After(20 * time.Second):
		t.Fatal("the feed acknowledged nothing within 20 s")
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	src.mu.Lock()
	ackedAt := src.ackedAt
	src.mu.Unlock()
	if ackedAt != 3 {
		t.Errorf("acknowledged after fetch %d, want 3 (the first two failed to store)", ackedAt)
	}
	if got := deliveriesOf(t, db, e.ID); len(got) != 2 {
		t.Errorf("deliveries: got %d, want 2 (one per order)", len(got))
	}
}

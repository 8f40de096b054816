package webhook_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/postgres"
	"github.com/souq-commerce/souq/internal/postgres/pgtest"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/webhook"
)

// TestReplicaWorkersSendEachOnce runs three workers, as on three
// replicas, each with its own connection pool to one PostgreSQL database,
// passing at the same moment: the receiver gets every delivery exactly
// once.
func TestReplicaWorkersSendEachOnce(t *testing.T) {
	url := pgtest.Schema(t)
	open := func() *postgres.DB {
		db, err := postgres.Open(t.Context(), url, postgres.Options{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		return db
	}
	first := open()
	clk := &clock{t: t0}
	rc := newReceiver(t)
	register(t, first, clk.now, rc.URL, webhook.TypeOrderCreated)
	clk.add(time.Minute)
	const orders = 150
	var evs []souq.Event
	for i := range orders {
		evs = append(evs, orderEvent(t, souq.EventOrderCompleted, clk.now(), fmt.Sprintf("prd_%d", i), 1))
	}
	if err := webhook.NewFeed(nil, first, nil, 5, nil).Handle(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	stores := []*postgres.DB{first, open(), open()}
	var wg sync.WaitGroup
	for _, st := range stores {
		w := webhook.NewWorker(st, webhook.WorkerOptions{Now: clk.now, Client: &http.Client{Timeout: 10 * time.Second}})
		wg.Go(func() {
			for {
				n, err := w.Pass(t.Context())
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for _, r := range rc.requests() {
		seen[r.id]++
	}
	if len(seen) != orders {
		t.Errorf("receiver got %d distinct events, want %d", len(seen), orders)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s sent %d times, want once", id, n)
		}
	}
	if n, _, err := first.PendingWebhookDeliveries(t.Context()); err != nil || n != 0 {
		t.Errorf("pending after the workers: got %d, %v; want 0", n, err)
	}
}

package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// TestCloseWhileOrdering closes the database while orders are being placed:
// every CreateOrder returns, and exactly the orders that returned nil are in
// the reopened database.
func TestCloseWhileOrdering(t *testing.T) {
	path := filepath.Join(t.TempDir(), "souq.db")
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := souq.Product{ID: "prd_close", SKU: "CLOSE-1", Slug: "close-1", Brand: "B", Category: "skincare",
		Name: souq.Localized{EN: "Close", AR: "إغلاق"}, Prices: map[souq.MarketCode]int64{souq.AE: 100}, Stock: 1_000_000}
	if err := db.CreateProduct(t.Context(), p, "close"); err != nil {
		t.Fatal(err)
	}
	const n = 300
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		ok       int
		unexpect []error
	)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			o := benchOrder(int64(i), []souq.Product{p})
			ev, _ := souq.NewOrderEvent(souq.EventOrderCompleted, o, o.CreatedAt)
			err := db.CreateOrder(t.Context(), o, ev, nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, errClosed):
				unexpect = append(unexpect, err)
			}
		}()
	}
	close(start)
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	if len(unexpect) > 0 {
		t.Fatalf("CreateOrder errors other than closed: %v", unexpect[0])
	}
	db = openTest(t, path, Options{})
	_, total, err := db.ListOrders(t.Context(), 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if total != ok {
		t.Errorf("orders after reopen: got %d, want %d (the ones that returned nil)", total, ok)
	}
	got, err := db.Product(t.Context(), p.ID)
	if err != nil || got.Stock != 1_000_000-ok {
		t.Errorf("stock after reopen: got %d, %v; want %d", got.Stock, err, 1_000_000-ok)
	}
}

// TestGroupCommitIsolatesFailures places, in one burst, orders that fit and
// orders that cannot be filled: each failure rolls back alone.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "souq.db"), Options{})
	scarce := souq.Product{ID: "prd_scarce", SKU: "SCARCE-1", Slug: "scarce-1", Brand: "B", Category: "skincare",
		Name: souq.Localized{EN: "Scarce", AR: "نادر"}, Prices: map[souq.MarketCode]int64{souq.AE: 100}, Stock: 10}
	plenty := scarce
	plenty.ID, plenty.SKU, plenty.Slug, plenty.Stock = "prd_plenty", "PLENTY-1", "plenty-1", 1000
	for _, p := range []souq.Product{scarce, plenty} {
		if err := db.CreateProduct(t.Context(), p, "x"); err != nil {
			t.Fatal(err)
		}
	}
	var (
		wg             sync.WaitGroup
		mu             sync.Mutex
		placed, failed int
	)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each order takes one of plenty and one of scarce: once scarce
			// runs out, the whole order must roll back, plenty included.
			o := benchOrder(int64(i), []souq.Product{plenty, scarce})
			ev, _ := souq.NewOrderEvent(souq.EventOrderCompleted, o, o.CreatedAt)
			err := db.CreateOrder(t.Context(), o, ev, nil)
			mu.Lock()
			defer mu.Unlock()
			var oos *souq.OutOfStockError
			switch {
			case err == nil:
				placed++
			case errors.As(err, &oos) && oos.ProductID == scarce.ID:
				failed++
			default:
				t.Errorf("order %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	check := func(id souq.ID, want int) {
		p, err := db.Product(t.Context(), id)
		if err != nil || p.Stock != want {
			t.Errorf("stock of %s: got %d, %v; want %d", id, p.Stock, err, want)
		}
	}
	if placed != 10 || failed != 90 {
		t.Fatalf("got %d placed and %d out of stock, want 10 and 90", placed, failed)
	}
	check(scarce.ID, 0)
	check(plenty.ID, 990)
	evs, err := db.PendingOutbox(t.Context(), 1000)
	if err != nil || len(evs) != 10 {
		t.Errorf("outbox: got %d events, %v; want 10", len(evs), err)
	}
}

// TestKeyClaimsWriteNothing shows that claiming and releasing idempotency
// keys costs no commit of its own: with the committer held busy, claims and
// releases still answer, and no commit is made for them. Only the order
// completing a key writes it, in the order's own transaction.
func TestKeyClaimsWriteNothing(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "souq.db"), Options{})
	release := make(chan struct{})
	busy := make(chan error, 1)
	go func() { // holds the committer until release is closed
		busy <- db.groupWrite(t.Context(), true, func(context.Context, execer) error { <-release; return nil })
	}()
	waitFor(t, "the committer to be busy", func() bool { return db.pending.Load() == 1 })
	before := db.commits.Load()

	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	for i := range 50 {
		key := fmt.Sprintf("key-%d", i)
		st, err := db.ClaimKey(t.Context(), key, "hash", "owner", now, now.Add(-time.Hour))
		if err != nil || st.Exists {
			t.Fatalf("claim %s: got %+v, %v; want a new claim", key, st, err)
		}
		st, err = db.ClaimKey(t.Context(), key, "other", "owner", now.Add(time.Second), now.Add(-time.Hour))
		if err != nil || !st.InFlight || st.Hash != "hash" {
			t.Fatalf("second claim of %s: got %+v, %v; want in flight under hash", key, st, err)
		}
		if i%2 == 0 {
			if err := db.ReleaseKey(t.Context(), key, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := db.commits.Load() - before; got != 0 {
		t.Errorf("commits while claiming and releasing: got %d, want 0", got)
	}
	close(release)
	if err := <-busy; err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := db.read.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM idempotency_keys`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("key rows after claims and releases: got %d, want 0", rows)
	}
}

// waitFor polls cond until it holds, for at most 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

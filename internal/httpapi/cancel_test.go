package httpapi

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/sqlite"
)

// spinningStore is a catalog store whose listing is as expensive as a
// query can be: it keeps a core busy until its context ends, as SQLite
// does with a statement whose context ends (the sqlite package's
// TestQueryStopsWhenContextEnds).
type spinningStore struct {
	*sqlite.DB
	started, stopped chan struct{}
}

func (s spinningStore) ListProducts(ctx context.Context, q catalog.Query) ([]souq.Product, error) {
	close(s.started)
	defer close(s.stopped)
	return spin(ctx)
}

// spin keeps a core busy until ctx ends.
func spin(ctx context.Context) ([]souq.Product, error) {
	for x := 0; ; x++ {
		if x%1_000_000 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

func cpuUsed(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// newSpinningServer serves the API over a spinningStore.
func newSpinningServer(t *testing.T) (*httptest.Server, spinningStore) {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "souq.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	store := spinningStore{DB: db, started: make(chan struct{}), stopped: make(chan struct{})}
	cat := catalog.New(store, time.Now, testLogger(t))
	srv := httptest.NewServer(NewServer(Deps{Catalog: cat, Registry: prometheus.NewRegistry(), Ready: db.Ready}))
	t.Cleanup(srv.Close)
	return srv, store
}

// TestListingHasATimeLimit sends a listing whose database work never ends
// and stays connected: the request ends after catalog.QueryTimeout with a
// 503 that says to retry, and the work stops.
func TestListingHasATimeLimit(t *testing.T) {
	srv, store := newSpinningServer(t)
	client := &http.Client{Timeout: 10 * catalog.QueryTimeout}
	resp, err := client.Get(srv.URL + "/api/v1/products?market=AE&q=serum")
	if err != nil {
		t.Fatalf("the listing did not answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantProblem(t, resp.StatusCode, resp.Header, body, http.StatusServiceUnavailable)
	if resp.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	select {
	case <-store.stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the listing's database work went on after its request ended")
	}
}

// TestListingStopsWhenClientLeaves sends a listing whose database work
// never ends, closes the connection, and checks that the work stops and
// the server's CPU goes idle again.
func TestListingStopsWhenClientLeaves(t *testing.T) {
	srv, store := newSpinningServer(t)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /api/v1/products?market=AE&q=serum HTTP/1.1\r\nHost: souq.test\r\n\r\n")
	select {
	case <-store.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the listing never reached the store")
	}
	conn.Close()
	select {
	case <-store.stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the listing's database work went on 10 s after the client left")
	}
	const window = 200 * time.Millisecond
	for deadline := time.Now().Add(10 * time.Second); ; {
		before, start := cpuUsed(t), time.Now()
		time.Sleep(window)
		if used := (cpuUsed(t) - before) * window / time.Since(start); used < window/4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server's CPU did not go idle after the client left")
		}
	}
}

// busyStore is a catalog store whose database is unavailable, as a
// PostgreSQL store is when a statement or lock times out.
type busyStore struct{ *sqlite.DB }

func (busyStore) ListProducts(context.Context, catalog.Query) ([]souq.Product, error) {
	return nil, fmt.Errorf("list products: %w: canceling statement due to lock timeout", souq.ErrUnavailable)
}

// TestUnavailableStoreAnswers503: a store that cannot do the work just now
// makes the API answer 503 with Retry-After and a problem document.
func TestUnavailableStoreAnswers503(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "souq.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	cat := catalog.New(busyStore{db}, time.Now, testLogger(t))
	srv := httptest.NewServer(NewServer(Deps{Catalog: cat, Registry: prometheus.NewRegistry(), Ready: db.Ready}))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/api/v1/products?market=AE")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	p := wantProblem(t, resp.StatusCode, resp.Header, body, http.StatusServiceUnavailable)
	if resp.Header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After: got %q, want 1", resp.Header.Get("Retry-After"))
	}
	if p.Detail != "the shop is busy; retry shortly" {
		t.Errorf("detail: got %q", p.Detail)
	}
}

package sqlite

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storetest"
)

// openTest opens a database file in a fresh temporary directory and closes
// it when the test ends.
func openTest(t testing.TB, path string, opt Options) *DB {
	t.Helper()
	db, err := Open(t.Context(), path, opt)
	if err != nil {
		t.Fatalf("Open(%s): got error %v, want nil", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return openTest(t, filepath.Join(t.TempDir(), "souq.db"), Options{})
	})
}

func TestMigrationsReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "souq.db")
	db := openTest(t, path, Options{})
	if err := db.Ready(t.Context()); err != nil {
		t.Fatalf("Ready after first open: got %v, want nil", err)
	}
	first := appliedMigrations(t, db)
	if len(first) != len(migrations()) {
		t.Fatalf("recorded migrations: got %d, want %d", len(first), len(migrations()))
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: got %v, want nil", err)
	}

	db = openTest(t, path, Options{})
	if err := db.Ready(t.Context()); err != nil {
		t.Fatalf("Ready after reopening: got %v, want nil", err)
	}
	again := appliedMigrations(t, db)
	for v, when := range first {
		if again[v] != when {
			t.Errorf("migration %d applied at: got %d after reopening, want %d (not re-applied)", v, again[v], when)
		}
	}
	if len(again) != len(first) {
		t.Errorf("recorded migrations after reopening: got %d, want %d", len(again), len(first))
	}
}

// appliedMigrations returns applied_at per recorded version.
func appliedMigrations(t *testing.T, db *DB) map[int]int64 {
	t.Helper()
	rows, err := db.read.QueryContext(t.Context(), `SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	out := map[int]int64{}
	for rows.Next() {
		var v int
		var when int64
		if err := rows.Scan(&v, &when); err != nil {
			t.Fatalf("read schema_migrations: %v", err)
		}
		out[v] = when
	}
	return out
}

func TestReadyFailsWhenBehind(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "souq.db"), Options{})
	if _, err := db.write.ExecContext(t.Context(), `DELETE FROM schema_migrations WHERE version = ?`, latestVersion()); err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(t.Context()); err == nil {
		t.Errorf("Ready with the latest migration unrecorded: got nil, want an error")
	}
}

func TestSynchronous(t *testing.T) {
	tests := []struct {
		opt    string
		want   string
		pragma int // as SQLite reports it: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
	}{
		{"", SyncFull, 2},
		{"full", SyncFull, 2},
		{"FULL", SyncFull, 2},
		{"normal", SyncNormal, 1},
	}
	for _, tt := range tests {
		t.Run(tt.opt, func(t *testing.T) {
			db := openTest(t, filepath.Join(t.TempDir(), "souq.db"), Options{Synchronous: tt.opt})
			if got := db.Synchronous(); got != tt.want {
				t.Errorf("Synchronous(): got %q, want %q", got, tt.want)
			}
			var got int
			if err := db.write.QueryRowContext(t.Context(), `PRAGMA synchronous`).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.pragma {
				t.Errorf("PRAGMA synchronous on the writer: got %d, want %d", got, tt.pragma)
			}
			var mode string
			if err := db.read.QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil {
				t.Fatal(err)
			}
			if mode != "wal" {
				t.Errorf("journal_mode: got %q, want %q", mode, "wal")
			}
		})
	}
	if _, err := Open(t.Context(), filepath.Join(t.TempDir(), "souq.db"), Options{Synchronous: "off"}); err == nil {
		t.Errorf(`Open with synchronous "off": got nil error, want an error`)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "souq.db")
	db := openTest(t, path, Options{Synchronous: SyncNormal})
	p := souq.Product{
		ID: "prd_a", SKU: "SKN-001", Slug: "snail", Brand: "Cosrx", Category: "skincare",
		Name: souq.Localized{EN: "Snail Mucin", AR: "مخاط الحلزون"}, Prices: map[souq.MarketCode]int64{souq.AE: 100},
		Stock: 3, CreatedAt: time.UnixMicro(1_800_000_000_123_456).UTC(), UpdatedAt: time.UnixMicro(1_800_000_000_123_457).UTC(),
	}
	if err := db.CreateProduct(t.Context(), p, catalog.SearchText(p)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: got %v, want nil", err)
	}
	db = openTest(t, path, Options{})
	got, err := db.Product(t.Context(), p.ID)
	if err != nil {
		t.Fatalf("Product after reopening: got error %v, want nil", err)
	}
	if got.SKU != p.SKU || !got.CreatedAt.Equal(p.CreatedAt) || !got.UpdatedAt.Equal(p.UpdatedAt) || got.Prices[souq.AE] != 100 {
		t.Errorf("Product after reopening: got %+v, want %+v", got, p)
	}
	found, err := db.ListProducts(t.Context(), catalog.Query{Terms: []string{"snail"}})
	if err != nil || len(found) != 1 {
		t.Errorf("search after reopening: got %d products (error %v), want 1", len(found), err)
	}
}

// TestSearchTermsAreNotSyntax shows that FTS5 query syntax in a term is
// matched as text, never parsed.
func TestSearchTermsAreNotSyntax(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "souq.db"), Options{})
	p := souq.Product{ID: "prd_a", SKU: "SKN-001", Slug: "snail", Prices: map[souq.MarketCode]int64{}}
	if err := db.CreateProduct(t.Context(), p, "snail mucin or and"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		terms []string
		want  int
	}{
		{[]string{`"`}, 0},
		{[]string{`sn"ail`}, 0},
		{[]string{"snail OR"}, 0},
		{[]string{"NEAR(snail"}, 0},
		{[]string{"*"}, 0},
		{[]string{"or"}, 1},
		{[]string{"AND"}, 1},
		{[]string{"search_text:snail"}, 0},
		{[]string{"", " "}, 1}, // blank terms do not filter
	}
	for _, tt := range tests {
		got, err := db.ListProducts(t.Context(), catalog.Query{Terms: tt.terms})
		if err != nil {
			t.Errorf("terms %q: got error %v, want nil", tt.terms, err)
			continue
		}
		total, err := db.CountProducts(t.Context(), catalog.Query{Terms: tt.terms}, 0)
		if err != nil {
			t.Errorf("terms %q: count: got error %v, want nil", tt.terms, err)
			continue
		}
		if total != tt.want || len(got) != tt.want {
			t.Errorf("terms %q: got %d products (total %d), want %d", tt.terms, len(got), total, tt.want)
		}
	}
}

// TestCompleteKeyNotHeld shows that an order cannot complete a key that was
// released (or taken over and completed by another request).
func TestCompleteKeyNotHeld(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "souq.db"), Options{})
	p := souq.Product{ID: "prd_a", SKU: "SKN-001", Slug: "snail", Stock: 5, Prices: map[souq.MarketCode]int64{}}
	if err := db.CreateProduct(t.Context(), p, ""); err != nil {
		t.Fatal(err)
	}
	o := souq.Order{ID: "ord_1", Status: souq.StatusPlaced, Lines: []souq.OrderLine{{ProductID: p.ID, SKU: p.SKU, Quantity: 1}}}
	err := db.CreateOrder(t.Context(), o, souq.OutboxEvent{ID: "evt_1"}, &checkout.KeyResult{Key: "never-claimed", Status: 201})
	if !errors.Is(err, souq.ErrConflict) {
		t.Errorf("CreateOrder completing an unclaimed key: got %v, want ErrConflict", err)
	}
	got, err := db.Product(t.Context(), p.ID)
	if err != nil || got.Stock != 5 {
		t.Errorf("stock after the refused order: got %d (error %v), want 5", got.Stock, err)
	}
}

func TestOpenRejectsBadPath(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:souq.db", "souq.db?mode=ro"} {
		if db, err := Open(t.Context(), path, Options{}); err == nil {
			db.Close()
			t.Errorf("Open(%q): got nil error, want an error", path)
		}
	}
}

// TestDoneKeyIsNeverDoneTwice shows the guard under the in-memory claims:
// even when a claim is made on a key that is done already (as a second
// process on the same file, which is not supported, would), the order
// completing it again does not commit.
func TestDoneKeyIsNeverDoneTwice(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "souq.db"), Options{})
	p := souq.Product{ID: "prd_a", SKU: "SKN-001", Slug: "snail", Stock: 5, Prices: map[souq.MarketCode]int64{}}
	if err := db.CreateProduct(t.Context(), p, ""); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	order := func(id souq.ID, claimedAt time.Time) error {
		o := souq.Order{ID: id, Status: souq.StatusPlaced, Lines: []souq.OrderLine{{ProductID: p.ID, SKU: p.SKU, Quantity: 1}}}
		return db.CreateOrder(t.Context(), o, souq.OutboxEvent{ID: souq.ID("evt_" + id)},
			&checkout.KeyResult{Key: "k", ClaimedAt: claimedAt, Status: 201, Body: []byte(`{"id":"` + string(id) + `"}`)})
	}
	if st, err := db.ClaimKey(t.Context(), "k", "hash", "me", t0, t0.Add(-time.Hour)); err != nil || st.Exists {
		t.Fatalf("claim: got %+v, %v", st, err)
	}
	if err := order("ord_1", t0); err != nil {
		t.Fatalf("first order: %v", err)
	}
	t1 := t0.Add(time.Minute)
	db.claims.take("k", claim{hash: "hash", owner: "other process", at: t1}, t1)
	if err := order("ord_2", t1); !errors.Is(err, souq.ErrConflict) {
		t.Errorf("second order under a done key: got %v, want ErrConflict", err)
	}
	if _, err := db.Order(t.Context(), "ord_2"); !errors.Is(err, souq.ErrNotFound) {
		t.Errorf("second order: got %v, want not found", err)
	}
	st, err := db.ClaimKey(t.Context(), "k", "hash", "me", t1.Add(time.Hour), t1.Add(time.Hour))
	if err != nil || !st.Exists || st.InFlight || string(st.Result.Body) != `{"id":"ord_1"}` {
		t.Errorf("key after both: got %+v, %v; want done with the first order's response", st, err)
	}
}

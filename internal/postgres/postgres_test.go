package postgres

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/souq-commerce/souq/internal/postgres/pgtest"
	"github.com/souq-commerce/souq/internal/souq"
)

// testURL is a fresh schema on the test server (pgtest.Schema).
func testURL(t *testing.T) string { return pgtest.Schema(t) }

func openTest(t *testing.T, url string, opt Options) *DB {
	t.Helper()
	db, err := Open(t.Context(), url, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// TestMigrateConcurrently opens ten databases on one fresh schema at once,
// as ten replicas starting together do: every migration is applied
// exactly once and every one of them is ready.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	const n = 10
	dbs := make([]*DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dbs[i], errs[i] = Open(t.Context(), url, Options{MaxConns: 2}) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Open %d: %v", i, errs[i])
		}
		defer dbs[i].Close()
		if err := dbs[i].Ready(t.Context()); err != nil {
			t.Errorf("Ready %d: %v", i, err)
		}
	}
	var rows, distinct int
	err := dbs[0].pool.QueryRow(t.Context(), `SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(migrations()); rows != want || distinct != want {
		t.Errorf("schema_migrations: %d rows, %d versions; want %d of each", rows, distinct, want)
	}
}

// TestNotReadyBeforeMigrations: a database without the schema is not ready.
func TestNotReadyBeforeMigrations(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	cfg, err := poolConfig(url, &Options{})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := &DB{pool: pool, log: slog.New(slog.DiscardHandler)}
	defer db.Close()
	if err := db.Ready(t.Context()); err == nil {
		t.Error("Ready before any migration: got nil, want an error")
	}
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(t.Context()); err != nil {
		t.Errorf("Ready after Migrate: %v", err)
	}
}

// TestTimeouts: a statement past the statement timeout fails (SQLSTATE
// 57014) instead of running on, and so does a wait for a lock past the
// lock timeout (55P03); the migration lock is not bound by them.
func TestTimeouts(t *testing.T) {
	t.Parallel()
	db := openTest(t, testURL(t), Options{StatementTimeout: 200 * time.Millisecond, LockTimeout: 100 * time.Millisecond})
	_, err := db.pool.Exec(t.Context(), `SELECT pg_sleep(5)`)
	if code := sqlState(err); code != "57014" {
		t.Errorf("a statement past the timeout: got %v, want SQLSTATE 57014", err)
	}

	holder, err := db.pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(context.Background())
	if _, err := holder.Exec(t.Context(), `LOCK TABLE carts IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	_, err = db.pool.Exec(t.Context(), `SELECT COUNT(*) FROM carts`)
	if code := sqlState(err); code != "55P03" {
		t.Errorf("a lock wait past the timeout: got %v, want SQLSTATE 55P03", err)
	}
}

// TestSalesCannotOverlap: the schema itself refuses overlapping sales
// (exclusion constraint, SQLSTATE 23P01), whatever the concurrency.
func TestSalesCannotOverlap(t *testing.T) {
	t.Parallel()
	db := openTest(t, testURL(t), Options{})
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	insert := func(id string, from, to time.Time) error {
		_, err := db.pool.Exec(t.Context(), `INSERT INTO sales (id, name_en, name_ar, starts_at, ends_at, created_at)
			VALUES ($1, 'Sale', 'تخفيضات', $2, $3, $2)`, id, from, to)
		return err
	}
	if err := insert("sale_a", t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := insert("sale_b", t0.Add(30*time.Minute), t0.Add(2*time.Hour)); sqlState(err) != "23P01" {
		t.Errorf("an overlapping sale: got %v, want SQLSTATE 23P01", err)
	}
	if err := insert("sale_c", t0.Add(time.Hour), t0.Add(2*time.Hour)); err != nil {
		t.Errorf("a sale starting as the other ends: %v", err)
	}
}

func TestBadOptions(t *testing.T) {
	for _, opt := range []Options{{MaxConns: -1}, {StatementTimeout: time.Microsecond}, {LockTimeout: time.Nanosecond}} {
		if _, err := poolConfig("postgres://localhost/test", &opt); err == nil {
			t.Errorf("poolConfig(%+v): got nil error", opt)
		}
	}
	if _, err := poolConfig("postgres://%zz", &Options{}); err == nil {
		t.Error("a malformed URL: got nil error")
	}
}

// TestTimeoutIsUnavailable: a store method whose statement waits past the
// lock timeout fails with souq.ErrUnavailable (the API's 503 with
// Retry-After), not with an error the API would answer 500.
func TestTimeoutIsUnavailable(t *testing.T) {
	t.Parallel()
	db := openTest(t, testURL(t), Options{LockTimeout: 100 * time.Millisecond})
	insertProduct(t, db, "prd_locked", 5)
	holder, err := db.pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(context.Background())
	if _, err := holder.Exec(t.Context(), `SELECT 1 FROM products WHERE id = 'prd_locked' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	err = db.SetStock(t.Context(), "prd_locked", 9, time.Now())
	if !errors.Is(err, souq.ErrUnavailable) {
		t.Errorf("SetStock on a row locked past the lock timeout: got %v, want souq.ErrUnavailable", err)
	}
}

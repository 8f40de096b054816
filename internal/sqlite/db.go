// Package sqlite stores Souq's catalog, carts, orders, outbox and idempotency
// keys in one SQLite database file, using the pure-Go driver
// modernc.org/sqlite (no cgo). It is the embedded default behind
// catalog.Store, cart.Store and checkout.Store and holds no business rules:
// prices, VAT and validation are decided by the area packages before a value
// reaches this package.
//
// # Connections
//
// A DB opens two pools on the same file. The writer pool has exactly one
// connection and begins every transaction with BEGIN IMMEDIATE, so writers
// queue in the pool instead of failing with SQLITE_BUSY, and a conditional
// stock decrement can never race another writer. The reader pool has several
// query-only connections; in WAL mode readers see the last committed state
// and never block the writer or each other. The writer puts the file in WAL
// mode (journal_mode=WAL, which the file remembers); every connection sets
// busy_timeout=10000 (ms) and foreign_keys=1. A transaction on either pool
// sees one consistent snapshot, so a page of products and its total agree.
//
// # Durability
//
// Options.Synchronous chooses PRAGMA synchronous for the writer:
//
//   - "full" (the default): a transaction that committed survives both a
//     crash of the process and a power loss or operating-system crash,
//     because SQLite syncs the write-ahead log to storage at every commit.
//   - "normal": a committed transaction survives a crash of the process, but
//     the last transactions committed before a power loss or operating-system
//     crash may be rolled back; the database stays consistent. Commits are
//     cheaper because the log is synced only at checkpoints.
//
// Souq promises that an order answered with 2xx is never lost, which only
// "full" keeps across power loss; choose "normal" only where losing the
// last moments of orders on power failure is acceptable.
//
// # Schema
//
// Migrations are embedded SQL files (migrations/NNNN_name.sql) applied by
// Open, each in its own transaction and recorded in schema_migrations. Times
// are stored as INTEGER unix microseconds in UTC and read back as UTC
// time.Time values, so they round-trip at microsecond precision.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/checkout"
)

// The stores this package implements.
var (
	_ catalog.Store  = (*DB)(nil)
	_ cart.Store     = (*DB)(nil)
	_ checkout.Store = (*DB)(nil)
)

// Synchronous modes accepted by Options.Synchronous.
const (
	SyncFull   = "full"
	SyncNormal = "normal"
)

// busyTimeout is how long a connection waits for a lock before SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Options configure Open.
type Options struct {
	// Synchronous is "full" (the default when empty) or "normal"; see the
	// package documentation for what each promises.
	Synchronous string
	// Logger receives migration and lifecycle messages; nil discards them.
	Logger *slog.Logger
}

// DB is a Souq database in one SQLite file. It is safe for concurrent use.
type DB struct {
	write *sql.DB // one connection, BEGIN IMMEDIATE
	read  *sql.DB // query-only connections
	sync  string
	log   *slog.Logger

	jobs      chan *writeJob // orders and key claims → committer; unbuffered
	pending   atomic.Int64   // writes sent to the committer and not yet answered
	commits   atomic.Int64   // group commits made
	closing   chan struct{}  // closed by Close to stop the committer
	committed chan struct{}  // closed when the committer has stopped
	closeOnce sync.Once

	stmts     map[string]*sql.Stmt // hot statements prepared on the writer pool; read-only after Open
	readStmts readStmts            // listing statements prepared on the reader pool on first use
	claims    claims               // idempotency keys in flight (idempotency.go)
}

// Open opens (creating if needed) the database file at path, applies the
// embedded migrations that are not yet applied, and returns the database.
func Open(ctx context.Context, path string, opt Options) (*DB, error) {
	sync := strings.ToLower(strings.TrimSpace(opt.Synchronous))
	if sync == "" {
		sync = SyncFull
	}
	if sync != SyncFull && sync != SyncNormal {
		return nil, fmt.Errorf("sqlite: synchronous must be %q or %q, not %q", SyncFull, SyncNormal, opt.Synchronous)
	}
	if path == "" || strings.ContainsRune(path, '?') || strings.HasPrefix(path, "file:") || strings.Contains(path, ":memory:") {
		return nil, fmt.Errorf("sqlite: %q is not a database file path", path)
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db := &DB{sync: sync, log: log.With("component", "sqlite"), stmts: make(map[string]*sql.Stmt)}

	var err error
	if db.write, err = openPool(ctx, dsn(path, sync, true), 1); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, db.write, db.log); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	if db.read, err = openPool(ctx, dsn(path, sync, false), readers()); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	if err := db.prepareHot(ctx); err != nil {
		db.read.Close()
		db.write.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.jobs, db.closing, db.committed = make(chan *writeJob), make(chan struct{}), make(chan struct{})
	go db.commit()
	db.log.Info("database open", "path", path, "synchronous", sync)
	return db, nil
}

// readers is the size of the reader pool: one per CPU, between 4 and 8.
func readers() int { return min(max(runtime.GOMAXPROCS(0), 4), 8) }

// dsn builds the modernc.org/sqlite data source name for one pool.
func dsn(path, sync string, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+strings.ToUpper(sync)+")")
	if writer {
		q.Add("_pragma", "journal_mode(WAL)")
		// Savepoints of group-committed orders keep their sub-journal in
		// memory instead of a temporary file.
		q.Add("_pragma", "temp_store(MEMORY)")
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return path + "?" + q.Encode()
}

// openPool opens a pool of at most n connections and checks it can connect.
func openPool(ctx context.Context, dsn string, n int) (*sql.DB, error) {
	pool, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	pool.SetConnMaxLifetime(0)
	pool.SetConnMaxIdleTime(0)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// Close stops the order committer (letting a batch being written finish),
// then closes both pools. Orders placed after Close fail.
func (db *DB) Close() error {
	var err error
	db.closeOnce.Do(func() {
		close(db.closing)
		<-db.committed
		err = errors.Join(db.read.Close(), db.write.Close())
	})
	return err
}

// Synchronous reports the configured synchronous mode, "full" or "normal".
func (db *DB) Synchronous() string { return db.sync }

// Ready reports whether the database can be read and every embedded
// migration has been applied. It backs the /readyz probe.
func (db *DB) Ready(ctx context.Context) error {
	var have int
	err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have)
	if err != nil {
		return fmt.Errorf("sqlite: not ready: %w", err)
	}
	if want := latestVersion(); have < want {
		return fmt.Errorf("sqlite: not ready: schema version %d, want %d", have, want)
	}
	return nil
}

// Optimize gathers the statistics the query planner weighs indexes by
// (ANALYZE). Run it after loading many rows at once; the queries of the
// shop do not depend on it (their plans are fixed by how they are
// written), but ad-hoc ones do.
func (db *DB) Optimize(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("sqlite: analyze: %w", err)
	}
	return nil
}

// writeTx runs fn in a write transaction (BEGIN IMMEDIATE) and commits it,
// or rolls it back when fn fails. fn's error is returned unchanged.
func (db *DB) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return inTx(ctx, db.write, fn)
}

// readTx runs fn in a read transaction: every query in fn sees the same
// snapshot of the database.
func (db *DB) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return inTx(ctx, db.read, fn)
}

func inTx(ctx context.Context, pool *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// micros converts a time to the stored form, unix microseconds.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts a stored time back to a UTC time.Time.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullMicros is the stored form of an optional time: NULL for nil.
func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return micros(*t)
}

// timeOrNil reads an optional stored time back.
func timeOrNil(us sql.NullInt64) *time.Time {
	if !us.Valid {
		return nil
	}
	t := fromMicros(us.Int64)
	return &t
}

// queryer is what reads need from a *sql.Tx or a *sql.DB.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// maxInParams bounds the ids bound in one "IN (…)" list, far below
// SQLite's limit on parameters per statement.
const maxInParams = 500

// queryIn runs query once per chunk of ids, with the "(?)" in query expanded
// to a list of that many parameters, and calls scan for every row.
func queryIn(ctx context.Context, q queryer, query string, ids []any, scan func(rows *sql.Rows) error) error {
	for chunk := range slices.Chunk(ids, maxInParams) {
		expanded := strings.Replace(query, "(?)", "("+placeholders(len(chunk))+")", 1)
		if err := queryRows(ctx, q, expanded, chunk, scan); err != nil {
			return err
		}
	}
	return nil
}

// queryRows runs query and calls scan for every row.
func queryRows(ctx context.Context, q queryer, query string, args []any, scan func(rows *sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	return eachRow(rows, err, scan)
}

// eachRow calls scan for every row of a query that returned rows and err,
// closes the rows, and returns the first error.
func eachRow(rows *sql.Rows, err error, scan func(rows *sql.Rows) error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// placeholders returns "?, ?, …" with n markers.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// rowsAffected returns how many rows a statement changed.
func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Package postgres stores Souq's catalog, carts, orders, outbox and
// idempotency keys in PostgreSQL through pgx (pgxpool), for several
// `souq serve` replicas sharing one database (Amazon RDS in production).
// Like the sqlite package it holds no business rules.
//
// # Time limits
//
// Every connection runs with statement_timeout and lock_timeout set
// (Options), so a query that cannot finish fails instead of hanging its
// request. Such a failure, a pool that cannot hand out a connection in
// time and a server that cannot be reached are souq.ErrUnavailable: the
// HTTP layer answers 503 with Retry-After.
//
// # Migrations
//
// Migrations are embedded SQL files (migrations/NNNN_name.sql), applied
// by Open (or `souq migrate`) each in its own transaction and recorded in
// schema_migrations, while holding a session advisory lock: ten replicas
// starting at once apply each migration exactly once, the others waiting
// and then finding nothing left to do.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/souq-commerce/souq/internal/audit"
	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// The stores this package implements.
var (
	_ catalog.Store  = (*DB)(nil)
	_ cart.Store     = (*DB)(nil)
	_ checkout.Store = (*DB)(nil)
	_ audit.Database = (*DB)(nil)
)

// Defaults of Options.
const (
	DefaultStatementTimeout = 5 * time.Second
	DefaultLockTimeout      = 2 * time.Second
)

// Options configure Open. Zero values take the defaults.
type Options struct {
	// MaxConns bounds the pool; default 4 per CPU, at least 8.
	MaxConns int32
	// StatementTimeout bounds every statement; default
	// DefaultStatementTimeout.
	StatementTimeout time.Duration
	// LockTimeout bounds every wait for a lock; default DefaultLockTimeout.
	LockTimeout time.Duration
	// Logger receives migration and lifecycle messages; nil discards them.
	Logger *slog.Logger
}

// DB is a Souq database on PostgreSQL. It is safe for concurrent use.
type DB struct {
	opt   Options // as applied
	pool  *pgxpool.Pool
	log   *slog.Logger
	batch batcher // orders waiting for a group commit (commit.go)
}

// Open connects to the database at url (postgres://…), applies the
// embedded migrations not yet applied and returns the database.
func Open(ctx context.Context, url string, opt Options) (*DB, error) {
	cfg, err := poolConfig(url, &opt)
	if err != nil {
		return nil, err
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	db := &DB{pool: pool, log: log.With("component", "postgres"), opt: opt}
	db.opt.MaxConns = cfg.MaxConns
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := db.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	db.startCommitters()
	db.log.Info("database open", "host", cfg.ConnConfig.Host, "database", cfg.ConnConfig.Database, "max_conns", cfg.MaxConns)
	return db, nil
}

// poolConfig parses url and applies the options, filling in the defaults
// of opt.
func poolConfig(url string, opt *Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	switch {
	case opt.MaxConns < 0:
		return nil, errors.New("postgres: the pool size must not be negative")
	case opt.MaxConns == 0:
		opt.MaxConns = int32(max(4*runtime.GOMAXPROCS(0), 8))
	}
	if opt.StatementTimeout == 0 {
		opt.StatementTimeout = DefaultStatementTimeout
	}
	if opt.LockTimeout == 0 {
		opt.LockTimeout = DefaultLockTimeout
	}
	if opt.StatementTimeout < time.Millisecond || opt.LockTimeout < time.Millisecond {
		return nil, errors.New("postgres: the statement and lock timeouts must be at least 1ms")
	}
	cfg.MaxConns = opt.MaxConns
	params := cfg.ConnConfig.RuntimeParams
	params["statement_timeout"] = strconv.FormatInt(opt.StatementTimeout.Milliseconds(), 10)
	params["lock_timeout"] = strconv.FormatInt(opt.LockTimeout.Milliseconds(), 10)
	params["timezone"] = "UTC"
	if params["application_name"] == "" {
		params["application_name"] = "souq"
	}
	return cfg, nil
}

// Close stops the order committers (letting the batches being written
// finish), then closes the pool. Orders placed after Close fail.
func (db *DB) Close() {
	if db.batch.jobs != nil {
		db.stopCommitters()
	}
	db.pool.Close()
}

// Ready reports whether the database answers and every embedded migration
// has been applied. It backs the /readyz probe.
func (db *DB) Ready(ctx context.Context) error {
	var have int
	err := db.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have)
	if err != nil {
		return fmt.Errorf("postgres: not ready: %w", err)
	}
	if want := latestVersion(); have < want {
		return fmt.Errorf("postgres: not ready: schema version %d, want %d", have, want)
	}
	return nil
}

// writeTx runs fn in a read-committed transaction and commits it, or
// rolls it back when fn fails. fn's error is returned as it is, except
// that a failure of the database itself (a timeout, a lost connection) is
// also an ErrUnavailable (see unavailable).
func (db *DB) writeTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return unavailable(pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{}, fn))
}

// readTx runs fn in a read-only repeatable-read transaction: every query
// in fn sees the same snapshot of the database.
func (db *DB) readTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	return unavailable(pgx.BeginTxFunc(ctx, db.pool, opts, fn))
}

// SQLSTATE codes the adapter acts on.
const (
	codeUniqueViolation    = "23505"
	codeExclusionViolation = "23P01"
	codeSerialization      = "40001"
	codeDeadlock           = "40P01"
	codeQueryCanceled      = "57014" // statement_timeout
	codeLockNotAvailable   = "55P03" // lock_timeout
	codeTooManyConnections = "53300"
)

// sqlState returns err's SQLSTATE, or "" when it is not a server error.
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// constraintOf returns the name of the constraint a server error broke.
func constraintOf(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.ConstraintName
	}
	return ""
}

// unavailable marks err as souq.ErrUnavailable when it says the database
// could not do the work just now rather than that the work was wrong: a
// statement or lock timeout, a deadlock or serialization failure, too many
// connections, a connection that could not be made or was lost. Other
// errors, and nil, are returned unchanged.
func unavailable(err error) error {
	if err == nil || errors.Is(err, souq.ErrUnavailable) {
		return err
	}
	switch sqlState(err) {
	case codeQueryCanceled, codeLockNotAvailable, codeSerialization, codeDeadlock, codeTooManyConnections:
		return fmt.Errorf("%w: %w", souq.ErrUnavailable, err)
	case "":
		var ce *pgconn.ConnectError
		if errors.As(err, &ce) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("%w: %w", souq.ErrUnavailable, err)
		}
	}
	return err
}

// Describe says how the pool is set up, for people.
func (db *DB) Describe() string {
	return fmt.Sprintf("pool %d, statement timeout %s, lock timeout %s", db.opt.MaxConns, db.opt.StatementTimeout, db.opt.LockTimeout)
}

// Optimize gathers the statistics the query planner weighs indexes by
// (ANALYZE). Autovacuum does it too, in its own time; run it after loading
// many rows at once.
func (db *DB) Optimize(ctx context.Context) error {
	if _, err := db.pool.Exec(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("postgres: analyze: %w", err)
	}
	return nil
}

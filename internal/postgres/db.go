// Package postgres stores Souq's catalog, carts, orders, outbox and
// idempotency keys in PostgreSQL through pgx (pgxpool), for several
// `souq serve` replicas sharing one database (Amazon RDS in production).
// Like the sqlite package it holds no business rules.
//
// This is the adapter's first part: the connection pool with its time
// limits, the embedded migrations applied under an advisory lock, and
// readiness. The storage seams come next.
//
// # Time limits
//
// Every connection runs with statement_timeout and lock_timeout set
// (Options), so a query that cannot finish fails instead of hanging its
// request.
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

	"github.com/jackc/pgx/v5/pgxpool"
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
	pool *pgxpool.Pool
	log  *slog.Logger
}

// Open connects to the database at url (postgres://…), applies the
// embedded migrations not yet applied and returns the database.
func Open(ctx context.Context, url string, opt Options) (*DB, error) {
	cfg, err := poolConfig(url, opt)
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
	db := &DB{pool: pool, log: log.With("component", "postgres")}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := db.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	db.log.Info("database open", "host", cfg.ConnConfig.Host, "database", cfg.ConnConfig.Database, "max_conns", cfg.MaxConns)
	return db, nil
}

// poolConfig parses url and applies the options.
func poolConfig(url string, opt Options) (*pgxpool.Config, error) {
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

// Close closes the pool.
func (db *DB) Close() { db.pool.Close() }

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

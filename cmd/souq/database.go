package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/audit"
	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/delivery"
	"github.com/souq-commerce/souq/internal/postgres"
	"github.com/souq-commerce/souq/internal/relay"
	"github.com/souq-commerce/souq/internal/sqlite"
	"github.com/souq-commerce/souq/internal/webhook"
)

// database is what the commands need of a store: the shop's three stores,
// the relay's outbox, the webhooks, the delivery settings, the audit's reads, readiness and
// statistics. Both engines implement it.
type database interface {
	catalog.Store
	cart.Store
	checkout.Store
	relay.Outbox
	webhook.Store
	delivery.Store
	audit.Database
	Ready(ctx context.Context) error
	Optimize(ctx context.Context) error
}

// dbConfig is where the database is and how to use it.
type dbConfig struct {
	data       string // data directory: the default SQLite file lives in it
	url        string // --database
	sqliteSync string
	pg         postgres.Options
}

// openedDB is an open database with what the commands say about it.
type openedDB struct {
	database
	// shared is true when other processes may use the database at the
	// same time (PostgreSQL): replicas.
	shared bool
	// where describes the database for people, without secrets.
	where string
	close func() error
}

// isPostgres reports whether a --database URL names PostgreSQL.
func isPostgres(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// databaseFlagUsage documents --database for every command.
const databaseFlagUsage = "database `URL`: postgres://user:password@host:5432/db?sslmode=require or sqlite:///path/to/souq.db (default <data>/souq.db)"

// openDatabase opens (creating and migrating as needed) the database
// c names.
func openDatabase(ctx context.Context, c dbConfig, log *slog.Logger) (*openedDB, error) {
	if isPostgres(c.url) {
		opt := c.pg
		opt.Logger = log
		db, err := postgres.Open(ctx, c.url, opt)
		if err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		return &openedDB{database: db, shared: true, where: "PostgreSQL " + redactURL(c.url) + " (" + db.Describe() + ")",
			close: func() error { db.Close(); return nil }}, nil
	}
	path, err := sqlitePath(serveConfig{data: c.data, database: c.url})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	db, err := sqlite.Open(ctx, path, sqlite.Options{Synchronous: c.sqliteSync, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return &openedDB{database: db, where: fmt.Sprintf("%s (SQLite, synchronous=%s)", path, db.Synchronous()), close: db.Close}, nil
}

// redactURL returns a URL, or comma-separated URLs (a NATS cluster's),
// without passwords and queries, for printing. A plain path is returned as
// it is.
func redactURL(raw string) string {
	parts := strings.Split(raw, ",")
	for i, p := range parts {
		u, err := url.Parse(p)
		if err != nil {
			return "(unparsable URL)"
		}
		if u.User != nil {
			name := u.User.Username()
			u.User = nil
			if name != "" {
				u.User = url.User(name)
			}
		}
		u.RawQuery = ""
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}

// pgFlags are the PostgreSQL pool and time limits flags of serve.
type pgFlags struct {
	maxConns               int
	statementTimeout, lock time.Duration
}

// options turns them into postgres.Options.
func (f pgFlags) options() postgres.Options {
	return postgres.Options{MaxConns: int32(f.maxConns), StatementTimeout: f.statementTimeout, LockTimeout: f.lock}
}

// problems lists what is wrong with them.
func (f pgFlags) problems() []string {
	var out []string
	if f.maxConns < 1 || f.maxConns > 1000 {
		out = append(out, fmt.Sprintf("--pg-max-conns must be between 1 and 1000, not %d", f.maxConns))
	}
	if f.statementTimeout < time.Millisecond || f.lock < time.Millisecond {
		out = append(out, "--pg-statement-timeout and --pg-lock-timeout must be at least 1ms")
	}
	return out
}

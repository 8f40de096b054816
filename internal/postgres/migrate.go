package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/souq-commerce/souq/internal/schemafiles"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded migrations in version order; a
// malformed set is a programming error and panics.
func migrations() []schemafiles.File {
	files, err := schemafiles.Load(migrationFiles, "migrations")
	if err != nil {
		panic("postgres: " + err.Error())
	}
	return files
}

// latestVersion is the version of the newest embedded migration.
func latestVersion() int {
	all := migrations()
	return all[len(all)-1].Version
}

// migrationLock is the key of the session advisory lock held while
// migrating: "souq" in ASCII, then 1.
const migrationLock = 0x736f7571_00000001

// Migrate applies every embedded migration not yet recorded in
// schema_migrations, each in its own transaction, holding the migration
// advisory lock so that concurrent callers (replicas starting together)
// apply each exactly once. It waits for the lock as long as ctx allows,
// whatever the lock timeout of ordinary statements.
func (db *DB) Migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	c := conn.Conn()
	// Migrations may take longer than an ordinary statement, and the wait
	// for another replica's migrations longer than an ordinary lock.
	if _, err := c.Exec(ctx, `SET statement_timeout = 0; SET lock_timeout = 0`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer func() {
		// The connection goes back to the pool: restore its limits.
		_, _ = c.Exec(context.WithoutCancel(ctx), `RESET statement_timeout; RESET lock_timeout`)
	}()
	if _, err := c.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
		return fmt.Errorf("postgres: migrate: take the migration lock: %w", err)
	}
	defer func() {
		_, _ = c.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLock))
	}()

	if _, err := c.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("postgres: migrate: create schema_migrations: %w", err)
	}
	for _, m := range migrations() {
		applied, err := applyMigration(ctx, c, m)
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
		}
		if applied {
			db.log.Info("applied migration", "version", m.Version, "file", m.Name)
		}
	}
	return nil
}

// applyMigration applies m unless it is already recorded, and reports
// whether it applied it.
func applyMigration(ctx context.Context, c *pgx.Conn, m schemafiles.File) (bool, error) {
	applied := false
	err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil || n > 0 {
			return err
		}
		// Without arguments pgx sends the file with the simple protocol,
		// which runs every statement in it.
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version); err != nil {
			return err
		}
		applied = true
		return nil
	})
	return applied, err
}

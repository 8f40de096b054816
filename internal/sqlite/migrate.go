package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"log/slog"
	"time"

	"github.com/souq-commerce/souq/internal/schemafiles"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded migrations in version order; a
// malformed set is a programming error and panics.
func migrations() []schemafiles.File {
	files, err := schemafiles.Load(migrationFiles, "migrations")
	if err != nil {
		panic("sqlite: " + err.Error())
	}
	return files
}

// latestVersion is the version of the newest embedded migration.
func latestVersion() int {
	all := migrations()
	return all[len(all)-1].Version
}

// migrate applies every embedded migration not yet recorded in
// schema_migrations, each in its own write transaction. Because the writer
// begins with BEGIN IMMEDIATE, two processes opening the same file apply
// each migration once.
func migrate(ctx context.Context, w *sql.DB, log *slog.Logger) error {
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	)`
	if _, err := w.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range migrations() {
		applied, err := applyMigration(ctx, w, m)
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if applied {
			log.Info("applied migration", "version", m.Version, "file", m.Name)
		}
	}
	return nil
}

// applyMigration applies m unless it is already recorded, and reports
// whether it applied it.
func applyMigration(ctx context.Context, w *sql.DB, m schemafiles.File) (bool, error) {
	applied := false
	err := inTx(ctx, w, func(tx *sql.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n)
		if err != nil || n > 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
			m.Version, micros(time.Now()))
		applied = err == nil
		return err
	})
	return applied, err
}

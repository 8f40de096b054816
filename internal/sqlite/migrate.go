package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one embedded schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. File names
// are NNNN_description.sql; a malformed name or a repeated version is a
// programming error and panics.
func migrations() []migration {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		panic(fmt.Sprintf("sqlite: read embedded migrations: %v", err))
	}
	var out []migration
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v < 1 {
			panic(fmt.Sprintf("sqlite: migration %s is not named NNNN_description.sql", e.Name()))
		}
		body, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			panic(fmt.Sprintf("sqlite: read migration %s: %v", e.Name(), err))
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(body)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			panic(fmt.Sprintf("sqlite: migrations %s and %s share a version", out[i-1].name, out[i].name))
		}
	}
	return out
}

// latestVersion is the version of the newest embedded migration.
func latestVersion() int {
	all := migrations()
	return all[len(all)-1].version
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
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if applied {
			log.Info("applied migration", "version", m.version, "file", m.name)
		}
	}
	return nil
}

// applyMigration applies m unless it is already recorded, and reports
// whether it applied it.
func applyMigration(ctx context.Context, w *sql.DB, m migration) (bool, error) {
	applied := false
	err := inTx(ctx, w, func(tx *sql.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n)
		if err != nil || n > 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
			m.version, micros(time.Now()))
		applied = err == nil
		return err
	})
	return applied, err
}

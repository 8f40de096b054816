package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/souq-commerce/souq/internal/postgres/pgtest"
)

func TestMigrateSQLite(t *testing.T) {
	data := t.TempDir()
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"migrate", "--data", data}, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("migrate: %v (%s)", err, errOut.String())
	}
	if !strings.Contains(out.String(), "up to date") {
		t.Errorf("migrate printed %q", out.String())
	}
	if _, err := os.Stat(filepath.Join(data, "souq.db")); err != nil {
		t.Errorf("database file: %v", err)
	}
}

func TestMigratePostgres(t *testing.T) {
	dbURL := pgtest.Schema(t)
	admin, err := pgxpool.New(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

	for range 2 { // the second run finds nothing to do
		var out, errOut bytes.Buffer
		if err := run(t.Context(), []string{"migrate", "--database", dbURL}, func(string) string { return "" }, &out, &errOut); err != nil {
			t.Fatalf("migrate: %v (%s)", err, errOut.String())
		}
		if !strings.Contains(out.String(), "PostgreSQL schema is up to date") {
			t.Errorf("migrate printed %q", out.String())
		}
	}
	var tables int
	err = admin.QueryRow(t.Context(), `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&tables)
	if err != nil || tables < 10 {
		t.Errorf("tables in the migrated schema: got %d (%v), want the whole schema", tables, err)
	}
}

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
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
	base := os.Getenv("SOUQ_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("SOUQ_TEST_POSTGRES_URL is not set: PostgreSQL tests skipped (.ci/run sets it)")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "souq_test_" + hex.EncodeToString(b)
	admin, err := pgxpool.New(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(t.Context(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	defer admin.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	for range 2 { // the second run finds nothing to do
		var out, errOut bytes.Buffer
		if err := run(t.Context(), []string{"migrate", "--database", u.String()}, func(string) string { return "" }, &out, &errOut); err != nil {
			t.Fatalf("migrate: %v (%s)", err, errOut.String())
		}
		if !strings.Contains(out.String(), "PostgreSQL schema is up to date") {
			t.Errorf("migrate printed %q", out.String())
		}
	}
	var tables int
	err = admin.QueryRow(t.Context(), `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1`, schema).Scan(&tables)
	if err != nil || tables < 10 {
		t.Errorf("tables in the migrated schema: got %d (%v), want the whole schema", tables, err)
	}
}

// Package pgtest gives tests a database of their own on the test
// PostgreSQL server (SOUQ_TEST_POSTGRES_URL, which .ci/run sets): a fresh
// schema, dropped when the test ends, so tests run in parallel and leave
// nothing behind.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvURL names the variable holding the test server's URL.
const EnvURL = "SOUQ_TEST_POSTGRES_URL"

// Schema creates a fresh schema and returns the URL of the test server
// with search_path set to it; the schema is dropped when t ends. Without
// the variable the test skips, saying so.
func Schema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		t.Skip(EnvURL + " is not set: PostgreSQL tests skipped (.ci/run sets it)")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "souq_test_" + hex.EncodeToString(b)
	admin, err := pgxpool.New(t.Context(), base)
	if err != nil {
		t.Fatalf("connect to %s: %v", base, err)
	}
	if _, err := admin.Exec(t.Context(), `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

package main

import (
	"bytes"
	"io"
	"net/http"
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
		if !strings.Contains(out.String(), "schema is up to date: PostgreSQL postgres://") {
			t.Errorf("migrate printed %q", out.String())
		}
	}
	var tables int
	err = admin.QueryRow(t.Context(), `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&tables)
	if err != nil || tables < 10 {
		t.Errorf("tables in the migrated schema: got %d (%v), want the whole schema", tables, err)
	}
}

// TestServePostgres: souq serve --demo on PostgreSQL migrates, seeds the
// demo catalogue, takes an order and says where its database is (without
// the password).
func TestServePostgres(t *testing.T) {
	dbURL := pgtest.Schema(t)
	withPassword := strings.Replace(dbURL, "postgres://postgres@", "postgres://postgres:s3cret@", 1)
	base, stdout, _ := startServe(t, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo", "--shoppers", "0",
		"--database", withPassword}, nil)
	if out := stdout.String(); !strings.Contains(out, "database:  PostgreSQL postgres://postgres@") || strings.Contains(out, "s3cret") {
		t.Errorf("serve's banner should name the PostgreSQL database without its password:\n%s", out)
	}
	var list productList
	if status := getJSON(t, base+"/api/v1/products?market=AE&page_size=20", &list); status != 200 || list.Total == 0 {
		t.Fatalf("products: got %d with %d products", status, list.Total)
	}
	body := `{"market":"AE","items":[{"product_id":"` + list.inStock(t) + `","quantity":1}],
		"customer":{"name":"Maryam Al Mansoori","phone":"+971501234567"},
		"shipping_address":{"line1":"Villa 12, Street 4","area":"Jumeirah 1","city":"Dubai","country":"AE"},
		"payment":{"method":"cod"}}`
	for range 2 { // the second is a replay
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/orders", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "pg-order-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("order: got %d %s, want 201", resp.StatusCode, out)
		}
	}
	admin, err := pgxpool.New(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var orders, events int
	if err := admin.QueryRow(t.Context(), `SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM outbox)`).Scan(&orders, &events); err != nil {
		t.Fatal(err)
	}
	if orders != 1 || events != 1 {
		t.Errorf("database: got %d orders and %d outbox events, want 1 of each", orders, events)
	}
}

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/sqlite"
)

// TestServeFreesClaimsOfACrashedProcess: a process that crashed while it
// placed an order leaves the order's Idempotency-Key in flight, with no
// order committed under it. The next souq serve frees the key at start, so
// the client's retry places the order at once instead of answering 409
// until the claim goes stale.
func TestServeFreesClaimsOfACrashedProcess(t *testing.T) {
	data := t.TempDir()
	base, _, stop := startServe(t, []string{"--addr", "127.0.0.1:0", "--data", data, "--demo", "--shoppers", "0"}, nil)
	var list productList
	getJSON(t, base+"/api/v1/products?market=AE&page_size=20", &list)
	product := list.inStock(t)
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// The crashed process had claimed the key a moment ago for this body
	// (hashed as the API hashes it) and died before its order committed.
	body := `{"market":"AE","items":[{"product_id":"` + product + `","quantity":1}],
		"customer":{"name":"Maryam Al Mansoori","phone":"+971501234567"},
		"shipping_address":{"line1":"Villa 12, Street 4","area":"Jumeirah 1","city":"Dubai","country":"AE"},
		"payment":{"method":"cod"}}`
	var req checkout.OrderRequest
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	canonical, _ := json.Marshal(req)
	sum := sha256.Sum256(canonical)
	db, err := sqlite.Open(t.Context(), filepath.Join(data, "souq.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if st, err := db.ClaimKey(t.Context(), "crash-key", hex.EncodeToString(sum[:]), "own_crashed", now, now.Add(-checkout.KeyStaleAfter)); err != nil || st.Exists {
		t.Fatalf("claim: got %+v, %v", st, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	base, _, _ = startServe(t, []string{"--addr", "127.0.0.1:0", "--data", data, "--shoppers", "0"}, nil)
	r, _ := http.NewRequest(http.MethodPost, base+"/api/v1/orders", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Idempotency-Key", "crash-key")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("retry after the restart: got %d (Retry-After %q) %s, want 201", resp.StatusCode, resp.Header.Get("Retry-After"), out)
	}
}

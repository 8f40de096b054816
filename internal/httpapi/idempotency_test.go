package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/checkout"
)

// TestKeyLeftInFlightByACrash: a process that died mid-request leaves its
// Idempotency-Key claimed. Retries answer 409 with Retry-After until the
// next process starts and releases the dead claim; then the retry places
// the order at once, instead of after the claim goes stale.
func TestKeyLeftInFlightByACrash(t *testing.T) {
	f := newFixture(t)
	p := f.product(5, 8900)
	body, _ := json.Marshal(orderBody(item(p.ID, 1)))
	var req checkout.OrderRequest
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	canonical, _ := json.Marshal(req)
	sum := sha256.Sum256(canonical)
	st, err := f.db.ClaimKey(t.Context(), "crashed-key", hex.EncodeToString(sum[:]), "proc-dead", f.clock(), f.clock().Add(-time.Hour))
	if err != nil || st.Exists {
		t.Fatalf("claim as the dead process: %+v, %v", st, err)
	}

	status, hdr, out := f.do("POST", "/api/v1/orders", body, "Idempotency-Key", "crashed-key")
	wantProblem(t, status, hdr, out, 409)
	if got := hdr.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After on a key in flight: got %q, want 1", got)
	}

	// The next process on the database releases the dead claim at start.
	next := checkout.New(f.db, f.catalog, cart.New(f.db, f.catalog, f.clock, testLogger(t)), checkout.Payments{}, f.clock, testLogger(t))
	if n, err := next.ReleaseDeadClaims(t.Context()); err != nil || n != 1 {
		t.Fatalf("ReleaseDeadClaims: got %d, %v; want 1", n, err)
	}
	if status, _, out := f.do("POST", "/api/v1/orders", body, "Idempotency-Key", "crashed-key"); status != 201 {
		t.Fatalf("retry after the restart: got %d %s, want 201", status, out)
	}
	if got := f.orderCount(); got != 1 {
		t.Errorf("orders: got %d, want 1", got)
	}
}

package storetest

import (
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// owner is the process the contract's claims are made by.
const owner = "proc-live"

// completeKey completes the key claimed at claimedAt through an order, the
// only way the contract offers, and returns the stored result.
func completeKey(t *testing.T, s Store, key string, claimedAt time.Time, d time.Duration) checkout.KeyResult {
	t.Helper()
	p := newProduct("prd_"+key, "SKU-"+key)
	createProducts(t, s, p)
	o := newOrder("ord_"+key, d, orderLine(p, 1))
	done := checkout.KeyResult{Key: key, ClaimedAt: claimedAt, Status: 201, Body: []byte(`{"id":"ord_` + key + `"}`)}
	must(t, "CreateOrder", s.CreateOrder(t.Context(), o, orderEvent(t, o), &done))
	return done
}

func testKeyClaim(t *testing.T, s Store) {
	claim(t, s, "k1", "hash-a", t0)
	tests := []struct {
		name string
		hash string
		want checkout.KeyState
	}{
		{"in flight, same request", "hash-a", checkout.KeyState{Exists: true, Hash: "hash-a", InFlight: true}},
		{"in flight, different request", "hash-b", checkout.KeyState{Exists: true, Hash: "hash-a", InFlight: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ClaimKey(t.Context(), "k1", tt.hash, owner, at(time.Second), t0)
			must(t, "ClaimKey", err)
			checkDiff(t, "ClaimKey", got, tt.want)
		})
	}

	done := completeKey(t, s, "k1", t0, time.Minute)
	for _, hash := range []string{"hash-a", "hash-b"} {
		got, err := s.ClaimKey(t.Context(), "k1", hash, owner, at(2*time.Minute), at(2*time.Minute))
		must(t, "ClaimKey of a done key", err)
		checkDiff(t, "ClaimKey of a done key with "+hash, got, checkout.KeyState{Exists: true, Hash: "hash-a", Result: done})
	}
	claim(t, s, "k2", "hash-c", at(3*time.Minute)) // other keys are independent
}

func testKeyStale(t *testing.T, s Store) {
	claim(t, s, "k1", "hash-a", t0)
	// In flight since t0, which is not before staleBefore: the claim is refused.
	got, err := s.ClaimKey(t.Context(), "k1", "hash-b", owner, at(time.Minute), t0)
	must(t, "ClaimKey of a fresh in-flight key", err)
	checkDiff(t, "ClaimKey of a fresh in-flight key", got, checkout.KeyState{Exists: true, Hash: "hash-a", InFlight: true})

	// In flight since before staleBefore: taken over as if new, with the new hash.
	got, err = s.ClaimKey(t.Context(), "k1", "hash-b", owner, at(10*time.Minute), at(5*time.Minute))
	must(t, "ClaimKey of a stale key", err)
	checkDiff(t, "ClaimKey of a stale key", got, checkout.KeyState{})
	got, err = s.ClaimKey(t.Context(), "k1", "hash-b", owner, at(11*time.Minute), at(5*time.Minute))
	must(t, "ClaimKey after the takeover", err)
	checkDiff(t, "ClaimKey after the takeover", got, checkout.KeyState{Exists: true, Hash: "hash-b", InFlight: true})

	// The request that held the key before the takeover cannot complete it:
	// its order does not commit.
	p := newProduct("prd_late", "SKU-LATE")
	createProducts(t, s, p)
	late := newOrder("ord_late", 11*time.Minute, orderLine(p, 1))
	err = s.CreateOrder(t.Context(), late, orderEvent(t, late), &checkout.KeyResult{Key: "k1", ClaimedAt: t0, Status: 201, Body: []byte("{}")})
	checkKind(t, "CreateOrder under a claim that was taken over", err, souq.ErrConflict)
	_, err = s.Order(t.Context(), late.ID)
	checkKind(t, "Order after a refused completion", err, souq.ErrNotFound)
	checkStock(t, s, p.ID, p.Stock)

	// A done key is never stale.
	done := completeKey(t, s, "k1", at(10*time.Minute), 12*time.Minute)
	got, err = s.ClaimKey(t.Context(), "k1", "hash-c", owner, at(24*time.Hour), at(24*time.Hour))
	must(t, "ClaimKey of an old done key", err)
	checkDiff(t, "ClaimKey of an old done key", got, checkout.KeyState{Exists: true, Hash: "hash-b", Result: done})
}

func testKeyRelease(t *testing.T, s Store) {
	claim(t, s, "k1", "hash-a", t0)
	must(t, "ReleaseKey", s.ReleaseKey(t.Context(), "k1", t0))
	claim(t, s, "k1", "hash-b", at(time.Second)) // free again, for any request

	// Releasing under another claim (an older holder) leaves the key held.
	must(t, "ReleaseKey(old claim)", s.ReleaseKey(t.Context(), "k1", t0))
	must(t, "ReleaseKey(never claimed)", s.ReleaseKey(t.Context(), "k-none", t0))
	got, err := s.ClaimKey(t.Context(), "k1", "hash-b", owner, at(2*time.Second), t0)
	must(t, "ClaimKey", err)
	checkDiff(t, "key after releasing another", got, checkout.KeyState{Exists: true, Hash: "hash-b", InFlight: true})
}

func testKeyDeleteBefore(t *testing.T, s Store) {
	claim(t, s, "k-old", "hash-a", t0)
	completeKey(t, s, "k-old", t0, time.Minute)
	claim(t, s, "k-mid", "hash-b", at(time.Hour))
	claim(t, s, "k-new", "hash-c", at(3*time.Hour))

	n, err := s.DeleteKeysBefore(t.Context(), at(2*time.Hour))
	must(t, "DeleteKeysBefore", err)
	if n != 2 {
		t.Errorf("DeleteKeysBefore: got %d removed, want 2", n)
	}
	got, err := s.ClaimKey(t.Context(), "k-new", "hash-c", owner, at(3*time.Hour), t0)
	must(t, "ClaimKey(kept key)", err)
	checkDiff(t, "kept key", got, checkout.KeyState{Exists: true, Hash: "hash-c", InFlight: true})
	for _, key := range []string{"k-old", "k-mid"} {
		claim(t, s, key, "hash-z", at(4*time.Hour)) // deleted, so new again
	}
}

// testKeyReleaseClaims: a process starting on the store releases the
// claims other processes left in flight, and only those: its own claims
// and completed keys stay.
func testKeyReleaseClaims(t *testing.T, s Store) {
	for _, k := range []string{"dead-1", "dead-2"} {
		st, err := s.ClaimKey(t.Context(), k, "hash-"+k, "proc-dead", t0, t0.Add(-time.Hour))
		must(t, "ClaimKey by another process", err)
		checkDiff(t, "ClaimKey by another process", st, checkout.KeyState{})
	}
	claim(t, s, "live", "hash-live", t0)
	claim(t, s, "done", "hash-done", t0)
	done := completeKey(t, s, "done", t0, time.Minute)
	doneDead, err := s.ClaimKey(t.Context(), "done-dead", "hash-dd", "proc-dead", t0, t0.Add(-time.Hour))
	must(t, "ClaimKey", err)
	checkDiff(t, "ClaimKey", doneDead, checkout.KeyState{})
	ddone := completeKey(t, s, "done-dead", t0, 2*time.Minute)

	n, err := s.ReleaseClaims(t.Context(), owner)
	must(t, "ReleaseClaims", err)
	if n != 2 {
		t.Errorf("ReleaseClaims: got %d released, want 2", n)
	}
	// The released keys are free at once, well before they would go stale.
	got, err := s.ClaimKey(t.Context(), "dead-1", "hash-retry", owner, at(time.Second), t0.Add(-time.Hour))
	must(t, "ClaimKey of a released key", err)
	checkDiff(t, "ClaimKey of a released key", got, checkout.KeyState{})
	got, err = s.ClaimKey(t.Context(), "live", "hash-live", owner, at(time.Second), t0.Add(-time.Hour))
	must(t, "ClaimKey of a live claim", err)
	checkDiff(t, "ClaimKey of a live claim", got, checkout.KeyState{Exists: true, Hash: "hash-live", InFlight: true})
	for _, c := range []struct {
		key  string
		hash string
		want checkout.KeyResult
	}{{"done", "hash-done", done}, {"done-dead", "hash-dd", ddone}} {
		got, err := s.ClaimKey(t.Context(), c.key, c.hash, owner, at(time.Hour), at(time.Hour))
		must(t, "ClaimKey of a done key", err)
		checkDiff(t, "ClaimKey of done key "+c.key, got, checkout.KeyState{Exists: true, Hash: c.hash, Result: c.want})
	}
	if n, err := s.ReleaseClaims(t.Context(), owner); err != nil || n != 0 {
		t.Errorf("ReleaseClaims again: got %d, %v; want 0 (only this owner's claims are left)", n, err)
	}
}

// testKeyNanoseconds: the checkout service claims keys at the clock's
// full precision, finer than stores keep; the claim must still be
// recognised when its order completes it, and released by ReleaseKey.
func testKeyNanoseconds(t *testing.T, s Store) {
	claimedAt := t0.Add(789 * time.Nanosecond)
	claim(t, s, "k-ns", "hash-a", claimedAt)
	completeKey(t, s, "k-ns", claimedAt, time.Minute)

	claim(t, s, "k-ns-2", "hash-b", claimedAt)
	must(t, "ReleaseKey", s.ReleaseKey(t.Context(), "k-ns-2", claimedAt))
	claim(t, s, "k-ns-2", "hash-c", claimedAt.Add(time.Second)) // free again
}

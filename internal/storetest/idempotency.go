package storetest

import (
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

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
			got, err := s.ClaimKey(t.Context(), "k1", tt.hash, at(time.Second), t0)
			must(t, "ClaimKey", err)
			checkDiff(t, "ClaimKey", got, tt.want)
		})
	}

	done := completeKey(t, s, "k1", t0, time.Minute)
	for _, hash := range []string{"hash-a", "hash-b"} {
		got, err := s.ClaimKey(t.Context(), "k1", hash, at(2*time.Minute), at(2*time.Minute))
		must(t, "ClaimKey of a done key", err)
		checkDiff(t, "ClaimKey of a done key with "+hash, got, checkout.KeyState{Exists: true, Hash: "hash-a", Result: done})
	}
	claim(t, s, "k2", "hash-c", at(3*time.Minute)) // other keys are independent
}

func testKeyStale(t *testing.T, s Store) {
	claim(t, s, "k1", "hash-a", t0)
	// In flight since t0, which is not before staleBefore: the claim is refused.
	got, err := s.ClaimKey(t.Context(), "k1", "hash-b", at(time.Minute), t0)
	must(t, "ClaimKey of a fresh in-flight key", err)
	checkDiff(t, "ClaimKey of a fresh in-flight key", got, checkout.KeyState{Exists: true, Hash: "hash-a", InFlight: true})

	// In flight since before staleBefore: taken over as if new, with the new hash.
	got, err = s.ClaimKey(t.Context(), "k1", "hash-b", at(10*time.Minute), at(5*time.Minute))
	must(t, "ClaimKey of a stale key", err)
	checkDiff(t, "ClaimKey of a stale key", got, checkout.KeyState{})
	got, err = s.ClaimKey(t.Context(), "k1", "hash-b", at(11*time.Minute), at(5*time.Minute))
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
	got, err = s.ClaimKey(t.Context(), "k1", "hash-c", at(24*time.Hour), at(24*time.Hour))
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
	got, err := s.ClaimKey(t.Context(), "k1", "hash-b", at(2*time.Second), t0)
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
	got, err := s.ClaimKey(t.Context(), "k-new", "hash-c", at(3*time.Hour), t0)
	must(t, "ClaimKey(kept key)", err)
	checkDiff(t, "kept key", got, checkout.KeyState{Exists: true, Hash: "hash-c", InFlight: true})
	for _, key := range []string{"k-old", "k-mid"} {
		claim(t, s, key, "hash-z", at(4*time.Hour)) // deleted, so new again
	}
}

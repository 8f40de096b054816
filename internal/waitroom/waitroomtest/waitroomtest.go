// Package waitroomtest is the contract suite of waitroom.State: every
// implementation (the in-process one, Redis) must pass it.
package waitroomtest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/waitroom"
)

// start is the sale's start in every test.
var start = time.Date(2026, 11, 27, 20, 0, 0, 0, time.UTC)

const grace = 2 * time.Minute

// Run runs the suite. open returns an empty state for a subtest; sale
// names it may prefix for isolation are chosen by the suite.
func Run(t *testing.T, open func(t *testing.T) waitroom.State) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s waitroom.State)
	}{
		{"DrawAtStart", testDraw},
		{"Grace", testGrace},
		{"Advance", testAdvance},
		{"Claim", testClaim},
		{"ConcurrentJoins", testConcurrentJoins},
		{"SalesApart", testSalesApart},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

func join(t *testing.T, s waitroom.State, sale, visitor string, draw uint64, now time.Time) (waitroom.Place, waitroom.Queue) {
	t.Helper()
	p, q, err := s.Join(t.Context(), sale, visitor, draw, now, start, grace)
	if err != nil {
		t.Fatalf("Join(%s): %v", visitor, err)
	}
	return p, q
}

func advance(t *testing.T, s waitroom.State, sale string, n int64, started, soldOut bool) waitroom.Queue {
	t.Helper()
	q, err := s.Advance(t.Context(), sale, n, started, soldOut)
	if err != nil {
		t.Fatalf("Advance(%d): %v", n, err)
	}
	return q
}

func testDraw(t *testing.T, s waitroom.State) {
	draws := map[string]uint64{"amal": 30, "badr": 10, "chadi": 20}
	for _, v := range []string{"amal", "badr", "chadi"} {
		p, q := join(t, s, "sale_1", v, draws[v], start.Add(-time.Minute))
		if p.Position != 0 || q.Started {
			t.Fatalf("before the start %s got position %d (started %v), want 0 (in the draw)", v, p.Position, q.Started)
		}
	}
	// A second visit before the start keeps the first draw number.
	join(t, s, "sale_1", "amal", 1, start.Add(-30*time.Second))
	got, err := s.Draw(t.Context(), "sale_1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint64{10, 20, 30}, got); diff != "" {
		t.Errorf("Draw (-want +got):\n%s", diff)
	}
	q := advance(t, s, "sale_1", 0, true, false)
	if !q.Started || q.Early != 3 || q.Tail != 3 || q.Head != 0 {
		t.Fatalf("after the start the queue is %+v, want started, 3 early, tail 3, head 0", q)
	}
	// A late arrival whose clock says "before the start" is not drawn:
	// the draw closed.
	late, q := join(t, s, "sale_1", "dana", 1, start.Add(-time.Second))
	if late.Position != 4 || q.Tail != 4 {
		t.Errorf("arrival after the draw closed got position %d (tail %d), want 4", late.Position, q.Tail)
	}
	for v, want := range map[string]int64{"badr": 1, "chadi": 2, "amal": 3} {
		p, _ := join(t, s, "sale_1", v, draws[v], start.Add(time.Second))
		if p.Position != want || p.Rejoined {
			t.Errorf("%s: position %d (rejoined %v), want %d by its draw number", v, p.Position, p.Rejoined, want)
		}
	}
}

func testGrace(t *testing.T, s waitroom.State) {
	join(t, s, "sale_g", "early", 5, start.Add(-time.Hour))
	p, _ := join(t, s, "sale_g", "fatima", 0, start.Add(time.Minute))
	if p.Position != 2 {
		t.Fatalf("first arrival after the start: position %d, want 2 (after the one early arrival)", p.Position)
	}
	// Back within the grace period: same place.
	p, _ = join(t, s, "sale_g", "fatima", 0, start.Add(time.Minute+grace))
	if p.Position != 2 || p.Rejoined || !p.Joined.Equal(start.Add(time.Minute)) {
		t.Errorf("back after exactly the grace period: %+v, want position 2 joined at %v", p, start.Add(time.Minute))
	}
	// The early arrival's grace counts from the start, not its last visit.
	p, _ = join(t, s, "sale_g", "early", 5, start.Add(grace))
	if p.Position != 1 || p.Rejoined {
		t.Errorf("early arrival back at start+grace: %+v, want position 1", p)
	}
	// Away too long: a new place at the end.
	p, q := join(t, s, "sale_g", "fatima", 0, start.Add(2*time.Minute+2*grace+time.Millisecond))
	if p.Position != 3 || !p.Rejoined || q.Tail != 3 {
		t.Errorf("back after more than the grace period: %+v (tail %d), want position 3, rejoined", p, q.Tail)
	}
}

func testAdvance(t *testing.T, s waitroom.State) {
	if q := advance(t, s, "sale_a", 5, false, false); q.Head != 0 || q.Started {
		t.Fatalf("advance before the start: %+v, want nothing admitted", q)
	}
	for i := range 4 {
		join(t, s, "sale_a", fmt.Sprint("v", i), 0, start.Add(time.Duration(i)*time.Second))
	}
	if q := advance(t, s, "sale_a", 3, true, false); q.Head != 3 || q.Tail != 4 || q.Waiting() != 1 {
		t.Errorf("advance 3 of 4: %+v, want head 3, tail 4", q)
	}
	if q := advance(t, s, "sale_a", 10, true, false); q.Head != 4 {
		t.Errorf("advance beyond the tail: head %d, want 4 (the tail)", q.Head)
	}
	join(t, s, "sale_a", "v9", 0, start.Add(time.Minute))
	if q := advance(t, s, "sale_a", 1, true, true); !q.SoldOut || q.Head != 4 {
		t.Errorf("advance when sold out: %+v, want sold out, head still 4", q)
	}
	if q := advance(t, s, "sale_a", 1, true, false); !q.SoldOut || q.Head != 4 {
		t.Errorf("sold out must stay: %+v", q)
	}
}

func testClaim(t *testing.T, s waitroom.State) {
	ctx := t.Context()
	claim := func(nonce, key string, want bool) {
		t.Helper()
		got, err := s.Claim(ctx, "sale_c", nonce, key, time.Minute)
		if err != nil || got != want {
			t.Fatalf("Claim(%s, %s) = %v, %v; want %v", nonce, key, got, err, want)
		}
	}
	claimed := func(nonce string, want bool) {
		t.Helper()
		if got, err := s.Claimed(ctx, "sale_c", nonce); err != nil || got != want {
			t.Fatalf("Claimed(%s) = %v, %v; want %v", nonce, got, err, want)
		}
	}
	claimed("n1", false)
	claim("n1", "key-a", true)
	claimed("n1", true)
	claimed("n2", false)
	claim("n1", "key-a", true) // the same request again
	claim("n1", "key-b", false)
	claim("n2", "key-b", true)
	if err := s.Release(ctx, "sale_c", "n1", "key-b"); err != nil { // not the holder: no effect
		t.Fatal(err)
	}
	claim("n1", "key-c", false)
	if q := advance(t, s, "sale_c", 0, false, false); q.Used != 2 {
		t.Errorf("Used = %d, want 2", q.Used)
	}
	if err := s.Release(ctx, "sale_c", "n1", "key-a"); err != nil {
		t.Fatal(err)
	}
	claimed("n1", false)
	claim("n1", "key-c", true)
	if q := advance(t, s, "sale_c", 0, false, false); q.Used != 2 {
		t.Errorf("after a release and a new claim Used = %d, want 2", q.Used)
	}
}

func testConcurrentJoins(t *testing.T, s waitroom.State) {
	const n = 60
	positions := make([]int64, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			p, _, err := s.Join(t.Context(), "sale_p", fmt.Sprint("visitor-", i), 0, start.Add(time.Second), start, grace)
			errs <- err
			positions[i] = p.Position
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(positions)
	for i, p := range positions {
		if p != int64(i+1) {
			t.Fatalf("positions of %d concurrent arrivals: %v, want 1…%d each once", n, positions, n)
		}
	}
}

func testSalesApart(t *testing.T, s waitroom.State) {
	join(t, s, "sale_x", "v", 0, start.Add(time.Second))
	join(t, s, "sale_x", "w", 0, start.Add(time.Second))
	p, q := join(t, s, "sale_y", "v", 0, start.Add(time.Second))
	if p.Position != 1 || q.Tail != 1 {
		t.Errorf("first visitor of another sale: position %d, tail %d; want 1, 1", p.Position, q.Tail)
	}
}

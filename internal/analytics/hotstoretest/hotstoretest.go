// Package hotstoretest is the contract suite of analytics.HotStore. Every
// implementation runs it unchanged from its own tests:
//
//	func TestHotStore(t *testing.T) {
//		hotstoretest.Run(t, func(t *testing.T) analytics.HotStore { return openFresh(t) })
//	}
//
// It checks only what the interface's documentation promises, the
// distinct-visitor sketches (Reach) included.
package hotstoretest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/analytics/analyticstest"
)

// Run runs the suite. open must return a new, empty store for each subtest
// and arrange for it to be closed when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) analytics.HotStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s analytics.HotStore)
	}{
		{"CommitRead", testCommitRead},
		{"Duplicate", testDuplicate},
		{"HourOnly", testHourOnly},
		{"RangeBounds", testRangeBounds},
		{"Progress", testProgress},
		{"Prune", testPrune},
		{"BadRange", testBadRange},
		{"ConcurrentReads", testConcurrentReads},
		{"CommitMany", testCommitMany},
		{"ConcurrentWriters", testConcurrentWriters},
		{"EveryCounter", testEveryCounter},
	}
	tests = append(tests, reachTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// t0 is 10:00 UTC on a fixed day.
var t0 = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

// cell is one visited cell.
type cell struct {
	Start    time.Time
	Member   string
	Counters analytics.Counters
}

// batch returns a batch of id in the minute at t0+d: one view of product p
// in AE.
func batch(id string, seq uint64, d time.Duration, p string) *analytics.Batch {
	at := t0.Add(d)
	c := analytics.Counters{Views: 1}
	return &analytics.Batch{
		ID: id, Seq: seq, Minute: at.Truncate(time.Minute), Hour: at.Truncate(time.Hour), Watermark: at,
		Deltas: []analytics.Delta{
			{Dim: analytics.Total, Member: analytics.All, Counters: c},
			{Dim: analytics.Market, Member: "AE", Counters: c},
			{Dim: analytics.Product, Member: p, Counters: c},
		},
	}
}

func commit(t *testing.T, s analytics.HotStore, b *analytics.Batch, wantApplied bool) {
	t.Helper()
	applied, err := s.Commit(t.Context(), b)
	if err != nil {
		t.Fatalf("Commit(%s): %v", b.ID, err)
	}
	if applied != wantApplied {
		t.Fatalf("Commit(%s): got applied %v, want %v", b.ID, applied, wantApplied)
	}
}

func read(t *testing.T, s analytics.HotStore, r analytics.Range) []cell {
	t.Helper()
	var got []cell
	err := s.Read(t.Context(), r, func(start time.Time, member string, c *analytics.Counters) {
		got = append(got, cell{start, member, *c})
	})
	if err != nil {
		t.Fatalf("Read(%+v): %v", r, err)
	}
	return got
}

func checkCells(t *testing.T, what string, got, want []cell) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

func views(n int64) analytics.Counters { return analytics.Counters{Views: n} }

func testCommitRead(t *testing.T, s analytics.HotStore) {
	commit(t, s, batch("e1", 1, 90*time.Second, "prd_a"), true)
	commit(t, s, batch("e2", 2, 95*time.Second, "prd_b"), true)
	commit(t, s, batch("e3", 3, 61*time.Minute, "prd_a"), true)
	all := time.Time{}
	tests := []struct {
		name string
		r    analytics.Range
		want []cell
	}{
		{"minute totals", analytics.Range{Res: analytics.Minute, Dim: analytics.Total, From: all},
			[]cell{{t0.Add(time.Minute), "all", views(2)}, {t0.Add(61 * time.Minute), "all", views(1)}}},
		{"hour totals", analytics.Range{Res: analytics.Hour, Dim: analytics.Total, From: all},
			[]cell{{t0, "all", views(2)}, {t0.Add(time.Hour), "all", views(1)}}},
		{"one product", analytics.Range{Res: analytics.Minute, Dim: analytics.Product, Member: "prd_a", From: all},
			[]cell{{t0.Add(time.Minute), "prd_a", views(1)}, {t0.Add(61 * time.Minute), "prd_a", views(1)}}},
		{"absent member", analytics.Range{Res: analytics.Hour, Dim: analytics.Product, Member: "prd_z", From: all}, nil},
		{"some products", analytics.Range{Res: analytics.Minute, Dim: analytics.Product, Members: []string{"prd_b", "prd_z"}, From: all},
			[]cell{{t0.Add(time.Minute), "prd_b", views(1)}}},
		{"dimension without deltas", analytics.Range{Res: analytics.Minute, Dim: analytics.City, From: all}, nil},
	}
	for _, tt := range tests {
		checkCells(t, tt.name, read(t, s, tt.r), tt.want)
	}
	got := read(t, s, analytics.Range{Res: analytics.Hour, Dim: analytics.Product, To: t0.Add(time.Hour)})
	if len(got) != 2 || got[0].Member == got[1].Member {
		t.Errorf("hour 10 products: got %v, want prd_a and prd_b once each", got)
	}
}

func testDuplicate(t *testing.T, s analytics.HotStore) {
	commit(t, s, batch("e1", 1, 0, "prd_a"), true)
	commit(t, s, batch("e1", 2, 0, "prd_a"), false)
	checkCells(t, "after a duplicate", read(t, s, analytics.Range{Res: analytics.Minute, Dim: analytics.Total}),
		[]cell{{t0, "all", views(1)}})
	checkCells(t, "hour after a duplicate", read(t, s, analytics.Range{Res: analytics.Hour, Dim: analytics.Total}),
		[]cell{{t0, "all", views(1)}})
	p := analyticstest.Progress(t, s)
	if p.Applied != 1 || p.Duplicates != 1 || p.MaxSeq != 1 {
		t.Errorf("progress: got applied %d, duplicates %d, max seq %d; want 1, 1, 1", p.Applied, p.Duplicates, p.MaxSeq)
	}
}

func testHourOnly(t *testing.T, s analytics.HotStore) {
	b := batch("late", 1, 5*time.Minute, "prd_a")
	b.Minute = time.Time{}
	commit(t, s, b, true)
	commit(t, s, b, false)
	checkCells(t, "minutes", read(t, s, analytics.Range{Res: analytics.Minute, Dim: analytics.Total}), nil)
	checkCells(t, "hours", read(t, s, analytics.Range{Res: analytics.Hour, Dim: analytics.Total}),
		[]cell{{t0, "all", views(1)}})
}

func testRangeBounds(t *testing.T, s analytics.HotStore) {
	for i := range 4 {
		commit(t, s, batch(string(rune('a'+i)), uint64(i+1), time.Duration(3-i)*time.Minute, "prd_a"), true)
	}
	m := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	tests := []struct {
		name     string
		from, to time.Time
		want     []cell
	}{
		{"half open", m(1), m(3), []cell{{m(1), "all", views(1)}, {m(2), "all", views(1)}}},
		{"no upper limit, oldest first", m(2), time.Time{}, []cell{{m(2), "all", views(1)}, {m(3), "all", views(1)}}},
		{"empty", m(1), m(1), nil},
		{"from mid-minute excludes that minute", m(1).Add(time.Second), m(3), []cell{{m(2), "all", views(1)}}},
	}
	for _, tt := range tests {
		got := read(t, s, analytics.Range{Res: analytics.Minute, Dim: analytics.Total, From: tt.from, To: tt.to})
		checkCells(t, tt.name, got, tt.want)
	}
}

func testProgress(t *testing.T, s analytics.HotStore) {
	if p := analyticstest.Progress(t, s); p != (analytics.Progress{}) {
		t.Errorf("empty store: got %+v, want zero", p)
	}
	commit(t, s, batch("e1", 7, 2*time.Minute, "prd_a"), true)
	commit(t, s, batch("e2", 3, time.Minute, "prd_a"), true) // older, lower sequence: a redelivery
	p := analyticstest.Progress(t, s)
	want := analytics.Progress{Watermark: t0.Add(2 * time.Minute), MaxSeq: 7, Applied: 2, IDs: 2}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}

func testPrune(t *testing.T, s analytics.HotStore) {
	commit(t, s, batch("old", 1, 0, "prd_a"), true)
	b := batch("new", 2, 2*time.Hour, "prd_a")
	b.Floors = analytics.Floors{Minutes: t0.Add(time.Minute), Hours: t0.Add(time.Hour)}
	commit(t, s, b, true)
	checkCells(t, "minutes after prune", read(t, s, analytics.Range{Res: analytics.Minute, Dim: analytics.Total}),
		[]cell{{t0.Add(2 * time.Hour), "all", views(1)}})
	checkCells(t, "hours after prune", read(t, s, analytics.Range{Res: analytics.Hour, Dim: analytics.Total}),
		[]cell{{t0.Add(2 * time.Hour), "all", views(1)}})
	if p := analyticstest.Progress(t, s); p.IDs != 1 || p.Applied != 2 {
		t.Errorf("after prune: got %d ids, %d applied; want 1, 2", p.IDs, p.Applied)
	}
	b = batch("older", 3, 30*time.Second, "prd_a")
	b.Floors = analytics.Floors{Minutes: t0.Add(time.Minute), Hours: t0.Add(time.Hour)}
	if _, err := s.Commit(t.Context(), b); err != nil { // below the floors: never visible
		t.Fatalf("Commit(older): %v", err)
	}
	checkCells(t, "hours after a commit below the floors", read(t, s, analytics.Range{Res: analytics.Hour, Dim: analytics.Total}),
		[]cell{{t0.Add(2 * time.Hour), "all", views(1)}})
}

func testBadRange(t *testing.T, s analytics.HotStore) {
	for _, r := range []analytics.Range{
		{Res: "day", Dim: analytics.Total},
		{Res: analytics.Minute, Dim: "colour"},
	} {
		err := s.Read(t.Context(), r, func(time.Time, string, *analytics.Counters) {})
		if err == nil {
			t.Errorf("Read(%+v): got no error, want one", r)
		}
	}
}

func testConcurrentReads(t *testing.T, s analytics.HotStore) {
	const n = 500
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var sum int64
				err := s.Read(t.Context(), analytics.Range{Res: analytics.Hour, Dim: analytics.Product},
					func(_ time.Time, _ string, c *analytics.Counters) { sum += c.Views })
				if err != nil || sum > n {
					t.Errorf("concurrent Read: got %d views, %v; want at most %d", sum, err, n)
					return
				}
			}
		})
	}
	for i := range n {
		commit(t, s, batch("e"+string(rune(0x4e00+i)), uint64(i+1), time.Duration(i)*time.Second, "prd_"+string(rune('a'+i%7))), true)
	}
	close(stop)
	wg.Wait()
	var sum int64
	for _, c := range read(t, s, analytics.Range{Res: analytics.Hour, Dim: analytics.Product}) {
		sum += c.Counters.Views
	}
	if sum != n {
		t.Errorf("after concurrent reads: got %d views, want %d", sum, n)
	}
}

func testCommitMany(t *testing.T, s analytics.HotStore) {
	commit(t, s, batch("e1", 1, 0, "prd_a"), true)
	late := batch("late", 5, 2*time.Minute, "prd_c")
	late.Minute = time.Time{}
	bs := []*analytics.Batch{
		batch("e2", 2, time.Minute, "prd_b"),
		batch("e1", 3, 0, "prd_a"), // applied before
		batch("e3", 4, time.Minute, "prd_a"),
		batch("e2", 2, time.Minute, "prd_b"), // earlier in this call
		late,
	}
	applied, err := s.CommitMany(t.Context(), bs)
	if err != nil {
		t.Fatalf("CommitMany: %v", err)
	}
	if diff := cmp.Diff([]bool{true, false, true, false, true}, applied); diff != "" {
		t.Errorf("CommitMany applied (-want +got):\n%s", diff)
	}
	checkCells(t, "minutes", read(t, s, analytics.Range{Res: analytics.Minute, Dim: analytics.Total}),
		[]cell{{t0, "all", views(1)}, {t0.Add(time.Minute), "all", views(2)}})
	checkCells(t, "hours", read(t, s, analytics.Range{Res: analytics.Hour, Dim: analytics.Total}),
		[]cell{{t0, "all", views(4)}})
	p := analyticstest.Progress(t, s)
	want := analytics.Progress{Watermark: t0.Add(2 * time.Minute), MaxSeq: 5, Applied: 4, Duplicates: 2, IDs: 4}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	if applied, err := s.CommitMany(t.Context(), nil); err != nil || len(applied) != 0 {
		t.Errorf("CommitMany(nil): got %v, %v; want nothing, nil", applied, err)
	}
}

// testConcurrentWriters plays processor replicas that were delivered the
// same events (a redelivery after a lost acknowledgement): each event
// counts once, whichever writer commits it first.
func testConcurrentWriters(t *testing.T, s analytics.HotStore) {
	const n, writers = 300, 3
	var wg sync.WaitGroup
	appliedBy := make([]int, writers)
	for w := range writers {
		wg.Go(func() {
			for i := 0; i < n; i += 50 {
				var bs []*analytics.Batch
				for j := i; j < i+50; j++ {
					k := (j + w*100) % n // each writer starts elsewhere
					bs = append(bs, batch(fmt.Sprintf("ev-%03d", k), uint64(k+1), time.Duration(k)*time.Second, "prd_"+string(rune('a'+k%5))))
				}
				applied, err := s.CommitMany(t.Context(), bs)
				if err != nil {
					t.Errorf("writer %d: CommitMany: %v", w, err)
					return
				}
				for _, ok := range applied {
					if ok {
						appliedBy[w]++
					}
				}
			}
		})
	}
	wg.Wait()
	if total := appliedBy[0] + appliedBy[1] + appliedBy[2]; total != n {
		t.Errorf("writers applied %v events, %d in all; want %d in all", appliedBy, total, n)
	}
	var sum int64
	for _, c := range read(t, s, analytics.Range{Res: analytics.Minute, Dim: analytics.Product}) {
		sum += c.Counters.Views
	}
	if sum != n {
		t.Errorf("views by product in minute buckets: got %d, want %d", sum, n)
	}
	if p := analyticstest.Progress(t, s); p.Applied != n || p.Duplicates != (writers-1)*n || p.MaxSeq != n {
		t.Errorf("progress: got applied %d, duplicates %d, max seq %d; want %d, %d, %d",
			p.Applied, p.Duplicates, p.MaxSeq, n, (writers-1)*n, n)
	}
}

// testEveryCounter checks that every counter field, and members with any
// printable text, survive the store. Members hold no control characters
// but analytics.PairSep, which joins the parts of a product × market or
// × city member.
func testEveryCounter(t *testing.T, s analytics.HotStore) {
	var c analytics.Counters
	for i, name := range analytics.CounterFields() {
		*c.Field(name) = int64(1000*i + 7)
	}
	c.RevenueAED = -5 // a refund-like negative survives too
	members := []string{"Riyadh", "الرياض", "Umm Al Quwain: Dubai", "100% Pure", "x{y}z", "unknown",
		analytics.ProductCityMember("AE", "Umm Al Quwain: Dubai", "prd_a")}
	b := batch("every", 1, 0, "prd_a")
	for _, m := range members {
		b.Deltas = append(b.Deltas, analytics.Delta{Dim: analytics.City, Member: m, Counters: c})
	}
	commit(t, s, b, true)
	got := map[string]analytics.Counters{}
	for _, cl := range read(t, s, analytics.Range{Res: analytics.Minute, Dim: analytics.City}) {
		got[cl.Member] = cl.Counters
	}
	want := map[string]analytics.Counters{}
	for _, m := range members {
		want[m] = c
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cities (-want +got):\n%s", diff)
	}
	one := read(t, s, analytics.Range{Res: analytics.Hour, Dim: analytics.City, Member: "الرياض"})
	checkCells(t, "one member's hour", one, []cell{{t0, "الرياض", c}})
}

package hotstoretest

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/analytics"
)

// reachTests are the cases of the distinct-visitor sketches.
var reachTests = []struct {
	name string
	fn   func(t *testing.T, s analytics.HotStore)
}{
	{"ReachUnion", testReachUnion},
	{"ReachDuplicate", testReachDuplicate},
	{"ReachHourOnly", testReachHourOnly},
	{"ReachMixedRanges", testReachMixedRanges},
	{"ReachByBucket", testReachByBucket},
	{"ReachPrune", testReachPrune},
	{"ReachBadRange", testReachBadRange},
	{"ReachMany", testReachMany},
}

// visit returns batch's batch with visitor v in market m, a buyer when
// buyer is set.
func visit(id string, seq uint64, d time.Duration, v, m string, buyer bool) *analytics.Batch {
	b := batch(id, seq, d, "prd_a")
	b.Deltas[1].Member = m
	b.Visitor = v
	b.Visits = []analytics.Visit{{Dim: analytics.Total, Member: analytics.All, Buyer: buyer}, {Dim: analytics.Market, Member: m, Buyer: buyer}}
	return b
}

func reach(t *testing.T, s analytics.HotStore, rs ...analytics.Range) map[string]analytics.Reach {
	t.Helper()
	got, err := s.Reach(t.Context(), rs)
	if err != nil {
		t.Fatalf("Reach(%+v): %v", rs, err)
	}
	return got
}

func checkReach(t *testing.T, what string, got, want map[string]analytics.Reach) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// story commits, in the minutes 10:00 and 10:01 and the hour 11:00:
//
//	10:00  v1 AE, v2 AE (buyer), v3 SA
//	10:01  v1 AE (again), v4 SA (buyer), v2 AE (buyer again)
//	11:05  v1 AE, v5 OM
func story(t *testing.T, s analytics.HotStore) {
	t.Helper()
	for _, b := range []*analytics.Batch{
		visit("e1", 1, 0, "v1", "AE", false),
		visit("e2", 2, 10*time.Second, "v2", "AE", true),
		visit("e3", 3, 20*time.Second, "v3", "SA", false),
		visit("e4", 4, 60*time.Second, "v1", "AE", false),
		visit("e5", 5, 70*time.Second, "v4", "SA", true),
		visit("e6", 6, 80*time.Second, "v2", "AE", true),
		visit("e7", 7, 65*time.Minute, "v1", "AE", false),
		visit("e8", 8, 66*time.Minute, "v5", "OM", false),
	} {
		commit(t, s, b, true)
	}
}

func testReachUnion(t *testing.T, s analytics.HotStore) {
	story(t, s)
	m := func(dim analytics.Dimension, from, to time.Duration) analytics.Range {
		return analytics.Range{Res: analytics.Minute, Dim: dim, From: t0.Add(from), To: t0.Add(to)}
	}
	tests := []struct {
		name string
		r    analytics.Range
		want map[string]analytics.Reach
	}{
		{"10:00 total", m(analytics.Total, 0, time.Minute), map[string]analytics.Reach{"all": {Visitors: 3, Buyers: 1}}},
		{"10:00–10:02 total", m(analytics.Total, 0, 2*time.Minute), map[string]analytics.Reach{"all": {Visitors: 4, Buyers: 2}}},
		{"10:00–10:02 markets", m(analytics.Market, 0, 2*time.Minute),
			map[string]analytics.Reach{"AE": {Visitors: 2, Buyers: 1}, "SA": {Visitors: 2, Buyers: 1}}},
		{"one market", analytics.Range{Res: analytics.Minute, Dim: analytics.Market, Member: "SA"},
			map[string]analytics.Reach{"SA": {Visitors: 2, Buyers: 1}}},
		{"hours, no limits", analytics.Range{Res: analytics.Hour, Dim: analytics.Total},
			map[string]analytics.Reach{"all": {Visitors: 5, Buyers: 2}}},
		{"hour 11 markets", analytics.Range{Res: analytics.Hour, Dim: analytics.Market, From: t0.Add(time.Hour)},
			map[string]analytics.Reach{"AE": {Visitors: 1}, "OM": {Visitors: 1}}},
		{"nothing", m(analytics.Total, 2*time.Minute, 3*time.Minute), map[string]analytics.Reach{}},
	}
	for _, tt := range tests {
		checkReach(t, tt.name, reach(t, s, tt.r), tt.want)
	}
}

// testReachDuplicate redelivers batches: the same batch again, and a
// batch with an applied id but another visitor (whatever it carries, an
// applied id changes nothing).
func testReachDuplicate(t *testing.T, s analytics.HotStore) {
	story(t, s)
	all := analytics.Range{Res: analytics.Hour, Dim: analytics.Market}
	before := reach(t, s, all)
	commit(t, s, visit("e2", 2, 10*time.Second, "v2", "AE", true), false)
	commit(t, s, visit("e3", 9, 20*time.Second, "v9", "SA", true), false)
	applied, err := s.CommitMany(t.Context(), []*analytics.Batch{visit("e5", 5, 70*time.Second, "v10", "KW", true)})
	if err != nil || applied[0] {
		t.Fatalf("CommitMany(e5 again): got %v, %v; want not applied", applied, err)
	}
	checkReach(t, "markets after redeliveries", reach(t, s, all), before)
	checkReach(t, "minute 10:00 after redeliveries",
		reach(t, s, analytics.Range{Res: analytics.Minute, Dim: analytics.Total, From: t0, To: t0.Add(time.Minute)}),
		map[string]analytics.Reach{"all": {Visitors: 3, Buyers: 1}})
}

func testReachHourOnly(t *testing.T, s analytics.HotStore) {
	b := visit("late", 1, 5*time.Minute, "v1", "AE", true)
	b.Minute = time.Time{}
	commit(t, s, b, true)
	checkReach(t, "minutes", reach(t, s, analytics.Range{Res: analytics.Minute, Dim: analytics.Total}), map[string]analytics.Reach{})
	checkReach(t, "hours", reach(t, s, analytics.Range{Res: analytics.Hour, Dim: analytics.Total}),
		map[string]analytics.Reach{"all": {Visitors: 1, Buyers: 1}})
}

// testReachMixedRanges reads 10:00 from its hour bucket and 11:00–11:06
// from minute buckets: v1, in both, counts once.
func testReachMixedRanges(t *testing.T, s analytics.HotStore) {
	story(t, s)
	got := reach(t, s,
		analytics.Range{Res: analytics.Hour, Dim: analytics.Total, Member: analytics.All, From: t0, To: t0.Add(time.Hour)},
		analytics.Range{Res: analytics.Minute, Dim: analytics.Total, Member: analytics.All, From: t0.Add(time.Hour), To: t0.Add(66 * time.Minute)})
	checkReach(t, "10:00–11:06", got, map[string]analytics.Reach{"all": {Visitors: 4, Buyers: 2}})
	if _, err := s.Reach(t.Context(), []analytics.Range{
		{Res: analytics.Hour, Dim: analytics.Total}, {Res: analytics.Hour, Dim: analytics.Market},
	}); err == nil {
		t.Errorf("Reach of two dimensions: got no error, want one")
	}
}

func testReachByBucket(t *testing.T, s analytics.HotStore) {
	story(t, s)
	type point struct {
		Start  time.Time
		Member string
		Reach  analytics.Reach
	}
	var got []point
	err := s.ReachByBucket(t.Context(), analytics.Range{Res: analytics.Minute, Dim: analytics.Market, Member: "AE", From: t0, To: t0.Add(2 * time.Hour)},
		func(start time.Time, member string, v analytics.Reach) { got = append(got, point{start, member, v}) })
	if err != nil {
		t.Fatalf("ReachByBucket: %v", err)
	}
	want := []point{
		{t0, "AE", analytics.Reach{Visitors: 2, Buyers: 1}},
		{t0.Add(time.Minute), "AE", analytics.Reach{Visitors: 2, Buyers: 1}},
		{t0.Add(65 * time.Minute), "AE", analytics.Reach{Visitors: 1}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AE by minute (-want +got):\n%s", diff)
	}
}

func testReachPrune(t *testing.T, s analytics.HotStore) {
	story(t, s)
	b := visit("new", 9, 2*time.Hour, "v6", "AE", false)
	b.Floors = analytics.Floors{Minutes: t0.Add(time.Minute), Hours: t0.Add(time.Hour)}
	commit(t, s, b, true)
	checkReach(t, "minutes after prune", reach(t, s, analytics.Range{Res: analytics.Minute, Dim: analytics.Total}),
		map[string]analytics.Reach{"all": {Visitors: 5, Buyers: 2}}) // 10:01 v1 v4 v2, 11:05 v1 v5, 12:00 v6
	checkReach(t, "hours after prune", reach(t, s, analytics.Range{Res: analytics.Hour, Dim: analytics.Total}),
		map[string]analytics.Reach{"all": {Visitors: 3}}) // 11:00 v1 v5, 12:00 v6
}

func testReachBadRange(t *testing.T, s analytics.HotStore) {
	for _, r := range []analytics.Range{
		{Res: "day", Dim: analytics.Total},
		{Res: analytics.Minute, Dim: analytics.City},
		{Res: analytics.Minute, Dim: analytics.Product},
	} {
		if _, err := s.Reach(t.Context(), []analytics.Range{r}); err == nil {
			t.Errorf("Reach(%+v): got no error, want one", r)
		}
		if err := s.ReachByBucket(t.Context(), r, func(time.Time, string, analytics.Reach) {}); err == nil {
			t.Errorf("ReachByBucket(%+v): got no error, want one", r)
		}
	}
}

// testReachMany commits 3,000 events of 2,000 visitors (every third a
// buyer) in one CommitMany: the estimates are within 2% of the truth.
func testReachMany(t *testing.T, s analytics.HotStore) {
	const n, visitors = 3000, 2000
	var bs []*analytics.Batch
	for i := range n {
		v := i % visitors
		bs = append(bs, visit(fmt.Sprintf("m%04d", i), uint64(i+1), time.Duration(i)*10*time.Millisecond, fmt.Sprintf("visitor-%04d", v), "AE", v%3 == 0))
	}
	if _, err := s.CommitMany(t.Context(), bs); err != nil {
		t.Fatalf("CommitMany: %v", err)
	}
	got := reach(t, s, analytics.Range{Res: analytics.Minute, Dim: analytics.Total})["all"]
	for _, c := range []struct {
		what      string
		got, want int64
	}{{"visitors", got.Visitors, visitors}, {"buyers", got.Buyers, (visitors + 2) / 3}} {
		if math.Abs(float64(c.got-c.want)) > 0.02*float64(c.want) {
			t.Errorf("%s: got %d, want %d ± 2%%", c.what, c.got, c.want)
		}
	}
}

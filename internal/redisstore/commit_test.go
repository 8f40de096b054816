package redisstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
)

// revenueBatch is an order of one product with revenue aed (fils).
func revenueBatch(id string, seq uint64, at time.Time, aed int64) *analytics.Batch {
	c := analytics.Counters{Orders: 1, RevenueAED: aed, Revenue: analytics.Amounts{AED: aed}}
	return &analytics.Batch{
		ID: id, Seq: seq, Minute: at.Truncate(time.Minute), Hour: at.Truncate(time.Hour), Watermark: at,
		Deltas: []analytics.Delta{{Dim: analytics.Product, Member: "prd_1", Counters: c}},
	}
}

// productCounters reads the product's counters summed over the minute
// buckets, and those of its hour bucket.
func productCounters(t *testing.T, s *Store, member string) (minutes, hours analytics.Counters) {
	t.Helper()
	for _, res := range []analytics.Resolution{analytics.Minute, analytics.Hour} {
		err := s.Read(t.Context(), analytics.Range{Res: res, Dim: analytics.Product, Member: member},
			func(_ time.Time, _ string, c *analytics.Counters) {
				if res == analytics.Minute {
					minutes.Add(c)
				} else {
					hours.Add(c)
				}
			})
		if err != nil {
			t.Fatalf("Read %s: %v", res, err)
		}
	}
	return minutes, hours
}

// TestCommitExactSums commits, in one call, increments that Lua's doubles
// cannot add exactly — one of 2^60, and three of 2^51+1 whose sum passes
// 2^53 — among ordinary ones: the stored sums are exact.
func TestCommitExactSums(t *testing.T) {
	s := openTest(t, Options{})
	amounts := []int64{7, 1 << 60, 1<<51 + 1, 1<<51 + 1, -(1 << 44), 1<<51 + 1, 3, -(1<<52 + 5)}
	var bs []*analytics.Batch
	var want int64
	for i, a := range amounts {
		bs = append(bs, revenueBatch(fmt.Sprintf("o%d", i), uint64(i+1), t0.Add(time.Duration(i)*time.Second), a))
		want += a
	}
	applied, err := s.CommitMany(t.Context(), bs)
	if err != nil {
		t.Fatal(err)
	}
	for i, ok := range applied {
		if !ok {
			t.Errorf("batch %d: not applied", i)
		}
	}
	minutes, hours := productCounters(t, s, "prd_1")
	for name, c := range map[string]analytics.Counters{"minute": minutes, "hour": hours} {
		if c.RevenueAED != want || c.Revenue.AED != want || c.Orders != int64(len(amounts)) {
			t.Errorf("%s bucket: got %d orders, revenue %d (AED %d); want %d, %d", name, c.Orders, c.RevenueAED, c.Revenue.AED, len(amounts), want)
		}
	}
}

// TestCommitManyRuns commits more batches than one script run takes, with
// an id repeated across runs: one round trip, every batch applied once,
// in order.
func TestCommitManyRuns(t *testing.T) {
	s := openTest(t, Options{})
	const n = 2*maxScriptBatches + 300
	var bs []*analytics.Batch
	for i := range n {
		id := fmt.Sprintf("e%d", i)
		if i == n-1 {
			id = "e5" // applied in the first run
		}
		bs = append(bs, viewBatch(id, uint64(i+1), t0.Add(time.Duration(i)*time.Millisecond), "p"))
	}
	before := s.RoundTrips()
	applied, err := s.CommitMany(t.Context(), bs)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.RoundTrips().Commit - before.Commit; got != 1 {
		t.Errorf("round trips: got %d, want 1", got)
	}
	for i, ok := range applied {
		if ok != (i != n-1) {
			t.Errorf("batch %d: applied %v, want %v", i, ok, i != n-1)
		}
	}
	if minutes, hours := productCounters(t, s, "p"); minutes.Views != n-1 || hours.Views != n-1 {
		t.Errorf("views: got %d in minutes, %d in the hour; want %d", minutes.Views, hours.Views, n-1)
	}
	p, err := s.Progress(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if p.Applied != n-1 || p.Duplicates != 1 || p.MaxSeq != n-1 {
		t.Errorf("progress: got %+v, want %d applied, 1 duplicate, max seq %d (the duplicate's seq not counted)", p, n-1, n-1)
	}
}

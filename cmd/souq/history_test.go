package main

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/analytics/analyticstest"
	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/fileblob"
	"github.com/souq-commerce/souq/internal/souq"
)

// lastSat is 00:00 UTC on the Saturday a week before analyticstest.T0.
var lastSat = analyticstest.T0.Add(-7*24*time.Hour - 10*time.Hour)

func histView(id string, at time.Duration, visitor, market string) souq.Event {
	ev := analyticstest.Track(id, analytics.EventProductViewed, lastSat.Add(at), map[string]any{"product_id": "prd_a"}, map[string]any{"market": market})
	ev.AnonymousID = visitor
	return ev
}

func histOrder(id string, at time.Duration, visitor string, m souq.MarketCode, price int64) souq.Event {
	ev := analyticstest.Order(id, souq.EventOrderCompleted, lastSat.Add(at), m, "", analyticstest.Line{Product: "prd_a", Quantity: 1, Price: price})
	ev.AnonymousID = visitor
	return ev
}

// archiveEvents writes evs to the archive as stream sequences first, … and
// commits them as one batch.
func archiveEvents(t *testing.T, bucket archive.Bucket, first uint64, evs ...souq.Event) {
	t.Helper()
	w := archive.New(bucket, archive.Options{})
	if _, err := w.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	for i, ev := range evs {
		_ = w.Add(first+uint64(i), ev) // a malformed event is stored or rejected: either way not counted
	}
	if _, err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestArchiveHistory reads last Saturday's totals from a directory
// archive:
//
//	Fri 19:00  view v0 (before the period)
//	08:10 view v1 AE; 08:20 order v1 AE 1 × AED 30.00
//	09:15 view v2 SA; 09:20 order v2 SA 1 × SAR 90.00 (AED 88.14), republished under a second sequence
//	09:40 view v1 (again, another hour); a malformed view
//	10:01 view v3; 10:30 view v4 (after the period); 12:00 view v5
//
// The period 08:00–10:03 has 4 views, 2 orders, 2 units, AED 118.14,
// visitors v1 v2 v3 and buyers v1 v2.
func TestArchiveHistory(t *testing.T) {
	bucket, err := fileblob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	republished := histOrder("o2", 9*time.Hour+20*time.Minute, "v2", "SA", 9000)
	bad := histView("bad", 9*time.Hour+45*time.Minute, "v9", "AE")
	bad.Properties = []byte(`{"product_id":7}`)
	archiveEvents(t, bucket, 1,
		histView("e0", -5*time.Hour, "v0", "AE"),
		histView("e1", 8*time.Hour+10*time.Minute, "v1", "AE"),
		histOrder("o1", 8*time.Hour+20*time.Minute, "v1", "AE", 3000),
		histView("e2", 9*time.Hour+15*time.Minute, "v2", "SA"),
		republished,
		republished,
		histView("e3", 9*time.Hour+40*time.Minute, "v1", "AE"),
		bad,
		histView("e4", 10*time.Hour+time.Minute, "v3", "AE"),
		histView("e5", 10*time.Hour+30*time.Minute, "v4", "AE"),
		histView("e6", 12*time.Hour, "v5", "AE"),
	)
	h := newArchiveHistory(bucket, analytics.Config{})
	h.now = func() time.Time { return analyticstest.T0 }
	from, to := lastSat.Add(8*time.Hour), lastSat.Add(10*time.Hour+3*time.Minute)
	want := analytics.Totals{Counters: analytics.Counters{Views: 4, Orders: 2, Units: 2,
		Revenue: analytics.Amounts{AED: 3000, SAR: 9000}, RevenueAED: 3000 + 8814}, Visitors: 3, Buyers: 2}
	// Three unseen hours: two read by the first call, which is not
	// covered yet, the third by the second.
	got, calls := warm(t, h, from, to)
	if calls != 2 {
		t.Errorf("covered after %d calls, want 2 (two hours read a call)", calls)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}
	if len(h.hours) != 2 {
		t.Errorf("kept %d hours' tallies, want 2 (08:00 and 09:00)", len(h.hours))
	}

	// Events archived later: one in the kept 09:00 hour and one in the
	// kept minutes of the 10:00 hour, both settled: the kept tallies do
	// not see them. A History whose hours have not settled reads afresh.
	archiveEvents(t, bucket, 12,
		histView("late9", 9*time.Hour+50*time.Minute, "v6", "AE"),
		histView("late10", 10*time.Hour+2*time.Minute, "v7", "AE"))
	got, _, err = h.Totals(t.Context(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("totals after more events, settled (-want +got):\n%s", diff)
	}
	unsettled := newArchiveHistory(bucket, analytics.Config{})
	unsettled.now = func() time.Time { return to.Add(2 * time.Minute) }
	for range 2 {
		got, _, err = unsettled.Totals(t.Context(), from, to)
		if err != nil {
			t.Fatal(err)
		}
		want.Views, want.Visitors = 6, 5
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("totals after more events, not settled (-want +got):\n%s", diff)
		}
	}
	if len(unsettled.hours)+len(unsettled.minutes) != 0 {
		t.Errorf("kept %d hours and %d hours by minute that have not settled, want none", len(unsettled.hours), len(unsettled.minutes))
	}

	for _, p := range []struct {
		name     string
		from, to time.Time
	}{
		{"after the archive's end", lastSat.Add(12*time.Hour + 30*time.Minute), lastSat.Add(13 * time.Hour)},
		{"before its start", lastSat.Add(-8 * time.Hour), lastSat.Add(-6 * time.Hour)},
	} {
		if _, ok, err := h.Totals(t.Context(), p.from, p.to); ok || err != nil {
			t.Errorf("%s: got ok %v, %v; want not ok", p.name, ok, err)
		}
	}
}

// TestArchiveHistoryInCompare wires the History into a Reader's Config:
// last week's span, past the hot store's hour retention, comes from the
// archive.
func TestArchiveHistoryInCompare(t *testing.T) {
	bucket, err := fileblob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	archiveEvents(t, bucket, 1,
		histView("e0", -5*time.Hour, "v0", "AE"), // Friday 19:00 UTC: before last Saturday in the Gulf (20:00 UTC)
		histView("e1", 8*time.Hour+10*time.Minute, "v1", "AE"),
		histOrder("o1", 8*time.Hour+20*time.Minute, "v1", "AE", 3000),
		histView("e6", 12*time.Hour, "v5", "AE"),
	)
	h := newArchiveHistory(bucket, analytics.Config{})
	h.reads = 24 // the whole of last week's day in one call
	now := analyticstest.T0.Add(2*time.Minute + 30*time.Second)
	h.now = func() time.Time { return now }
	a, err := analytics.New(t.Context(), analytics.NewMemStore(), analytics.Config{History: h})
	if err != nil {
		t.Fatal(err)
	}
	today := analyticstest.Track("t1", analytics.EventProductViewed, analyticstest.T0.Add(time.Minute), map[string]any{"product_id": "prd_a"}, nil)
	if _, err := a.Apply(t.Context(), 1, today); err != nil {
		t.Fatal(err)
	}
	c, err := a.Compare(t.Context(), now)
	if err != nil {
		t.Fatalf("Compare: %v", err)
	}
	if c.LastWeek.Source != "archive" {
		t.Fatalf("last week: got %+v, want from the archive", c.LastWeek)
	}
	got := map[string]float64{}
	for _, f := range c.Figures {
		if f.LastWeek != nil {
			got[f.Figure] = *f.LastWeek
		}
	}
	want := map[string]float64{"revenue_aed": 3000, "orders": 1, "units": 1, "visitors": 1, "buyers": 1, "conversion": 1, "average_order_aed": 3000, "views": 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("last week's figures (-want +got):\n%s", diff)
	}
}

// countingBucket is an archive.Bucket that counts its Lists and Gets.
type countingBucket struct {
	archive.Bucket
	lists, gets int
}

func (b *countingBucket) List(ctx context.Context, prefix string) ([]string, error) {
	b.lists++
	return b.Bucket.List(ctx, prefix)
}

func (b *countingBucket) Get(ctx context.Context, key string) ([]byte, error) {
	b.gets++
	return b.Bucket.Get(ctx, key)
}

// TestArchiveHistoryReadsOnce checks that Compare's minute-by-minute calls
// for a past span read the archive once: a later call whose hours have
// settled, ending a minute later in the same hour, is answered from the
// kept tallies (the partial hour's by minute) without listing manifests
// or reading files, and counts the minute it adds.
//
//	Fri 19:00 view v0; 08:10 view v1; 10:01 view v2; 10:03 view v3; 12:00 view v4
func TestArchiveHistoryReadsOnce(t *testing.T) {
	dir, err := fileblob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bucket := &countingBucket{Bucket: dir}
	archiveEvents(t, bucket, 1,
		histView("e0", -5*time.Hour, "v0", "AE"),
		histView("e1", 8*time.Hour+10*time.Minute, "v1", "AE"),
		histView("e2", 10*time.Hour+time.Minute, "v2", "AE"),
		histView("e3", 10*time.Hour+3*time.Minute, "v3", "AE"),
		histView("e4", 12*time.Hour, "v4", "AE"),
	)
	h := newArchiveHistory(bucket, analytics.Config{})
	h.now = func() time.Time { return analyticstest.T0 }
	from := lastSat.Add(8 * time.Hour)
	tests := []struct {
		name      string
		to        time.Time
		views     int64
		readsFrom bool // whether the call may read the bucket
	}{
		{"first call", lastSat.Add(10*time.Hour + 3*time.Minute), 2, true},
		{"a minute later", lastSat.Add(10*time.Hour + 4*time.Minute), 3, false},
		{"the same again", lastSat.Add(10*time.Hour + 4*time.Minute), 3, false},
		{"the hour whole", lastSat.Add(11 * time.Hour), 3, false},
	}
	for _, tt := range tests {
		bucket.lists, bucket.gets = 0, 0
		got, _ := warm(t, h, from, tt.to)
		if got.Views != tt.views || got.Visitors != tt.views {
			t.Errorf("%s: got %d views, %d visitors; want %d of each", tt.name, got.Views, got.Visitors, tt.views)
		}
		if !tt.readsFrom && bucket.lists+bucket.gets != 0 {
			t.Errorf("%s: got %d lists and %d gets of the archive, want none", tt.name, bucket.lists, bucket.gets)
		}
	}
}

// warm calls h.Totals for [from, to) until it is covered (a call reads at
// most h.reads unseen hours), and returns the totals and the calls made.
func warm(t *testing.T, h *archiveHistory, from, to time.Time) (analytics.Totals, int) {
	t.Helper()
	for calls := 1; calls <= 50; calls++ {
		got, ok, err := h.Totals(t.Context(), from, to)
		if err != nil {
			t.Fatalf("Totals, call %d: %v", calls, err)
		}
		if ok {
			return got, calls
		}
	}
	t.Fatalf("Totals of [%v, %v): not covered after 50 calls", from, to)
	return analytics.Totals{}, 0
}

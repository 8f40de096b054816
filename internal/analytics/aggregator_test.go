package analytics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/analytics/analyticstest"
	"github.com/souq-commerce/souq/internal/souq"
)

// cell is shorthand for a want cell of the minute (or hour) at t0+at.
func cell(res analytics.Resolution, at time.Duration, dim analytics.Dimension, member string, c analytics.Counters) analytics.Cell {
	return analytics.Cell{Res: res, Start: t0.Add(at), Dim: dim, Member: member, Counters: c}
}

func TestApplyMetrics(t *testing.T) {
	m, h := analytics.Minute, analytics.Hour
	const (
		total    = analytics.Total
		market   = analytics.Market
		city     = analytics.City
		product  = analytics.Product
		brand    = analytics.Brand
		category = analytics.Category
	)
	type C = analytics.Counters
	type A = analytics.Amounts
	removed := track("r1", analytics.EventProductRemoved, 7*time.Second, map[string]any{"product_id": "prd_a", "quantity": 1}, marketCtx("AE"))

	tests := []struct {
		name   string
		events []souq.Event
		res    analytics.Resolution
		dims   []analytics.Dimension
		want   []analytics.Cell
	}{
		{
			name: "views in three markets and none",
			events: []souq.Event{
				view("v1", 10*time.Second, "prd_a", "COSRX", "skincare", "AE"),
				view("v2", 20*time.Second, "prd_a", "COSRX", "skincare", "SA"),
				view("v3", 30*time.Second, "prd_a", "COSRX", "skincare", " kw "),
				view("v4", 40*time.Second, "prd_b", "", "", ""),
			},
			res: m, dims: []analytics.Dimension{market, product, brand},
			want: []analytics.Cell{
				cell(m, 0, market, "AE", C{Views: 1}),
				cell(m, 0, market, "KW", C{Views: 1}),
				cell(m, 0, market, "SA", C{Views: 1}),
				cell(m, 0, market, "unknown", C{Views: 1}),
				cell(m, 0, product, "prd_a", C{Views: 3}),
				cell(m, 0, product, "prd_b", C{Views: 1}),
				cell(m, 0, brand, "COSRX", C{Views: 3}),
				cell(m, 0, brand, "unknown", C{Views: 1}),
			},
		},
		{
			name: "odd names are cleaned, not rejected; browsers' market is the context's",
			events: []souq.Event{
				track("n1", analytics.EventProductViewed, 0, map[string]any{
					"product_id": " prd_a ", "brand": "COS\nRX\u0080", "category": strings.Repeat("é", 150), "market": "SA"}, nil),
			},
			res: m, dims: []analytics.Dimension{market, product, brand, category},
			want: []analytics.Cell{
				cell(m, 0, market, "unknown", C{Views: 1}),
				cell(m, 0, product, "prd_a", C{Views: 1}),
				cell(m, 0, brand, "COS\uFFFDRX\uFFFD", C{Views: 1}),
				cell(m, 0, category, strings.Repeat("é", 100), C{Views: 1}), // 200 bytes
			},
		},
		{
			name: "adds count events and units, removes units",
			events: []souq.Event{
				add("a1", 5*time.Second, "prd_a", 2, "AE"),
				add("a2", 6*time.Second, "prd_b", 0, "AE"), // no quantity means one
				removed,
			},
			res: m, dims: []analytics.Dimension{total, product},
			want: []analytics.Cell{
				cell(m, 0, total, "all", C{AddEvents: 2, AddUnits: 3, RemoveUnits: 1}),
				cell(m, 0, product, "prd_a", C{AddEvents: 1, AddUnits: 2, RemoveUnits: 1}),
				cell(m, 0, product, "prd_b", C{AddEvents: 1, AddUnits: 1}),
			},
		},
		{
			// AE: 2 × 89.00 + 1 × 45.50 = AED 223.50. KW: 3 × 12.500 =
			// KWD 37.500 = 37500 × 19097/16000 = 44758.59 → 44759 fils.
			name: "orders in two markets and currencies",
			events: []souq.Event{
				order("o1", souq.EventOrderCompleted, 10*time.Second, souq.AE, "Dubai",
					line("prd_a", "COSRX", "skincare", 2, 8900), line("prd_b", "Anua", "toner", 1, 4550)),
				order("o2", souq.EventOrderCompleted, 20*time.Second, souq.KW, "Kuwait City",
					line("prd_a", "COSRX", "skincare", 3, 12500)),
			},
			res: m, dims: []analytics.Dimension{total, market, city, product},
			want: []analytics.Cell{
				cell(m, 0, total, "all", C{Orders: 2, Units: 6, Revenue: A{AED: 22350, KWD: 37500}, RevenueAED: 22350 + 44759}),
				cell(m, 0, market, "AE", C{Orders: 1, Units: 3, Revenue: A{AED: 22350}, RevenueAED: 22350}),
				cell(m, 0, market, "KW", C{Orders: 1, Units: 3, Revenue: A{KWD: 37500}, RevenueAED: 44759}),
				cell(m, 0, city, "Dubai", C{Orders: 1, Units: 3, Revenue: A{AED: 22350}, RevenueAED: 22350}),
				cell(m, 0, city, "Kuwait City", C{Orders: 1, Units: 3, Revenue: A{KWD: 37500}, RevenueAED: 44759}),
				cell(m, 0, product, "prd_a", C{Orders: 2, Units: 5, Revenue: A{AED: 17800, KWD: 37500}, RevenueAED: 17800 + 44759}),
				cell(m, 0, product, "prd_b", C{Orders: 1, Units: 1, Revenue: A{AED: 4550}, RevenueAED: 4550}),
			},
		},
		{
			// SAR 115.00 = 11500 × 1469/1500 = 11262.33 → 11262 fils.
			name: "a cancellation counts in its own minute",
			events: []souq.Event{
				order("o3", souq.EventOrderCompleted, 30*time.Second, souq.SA, "Riyadh", line("prd_c", "Laneige", "makeup", 1, 11500)),
				order("c3", souq.EventOrderCancelled, 2*time.Minute+10*time.Second, souq.SA, "Riyadh", line("prd_c", "Laneige", "makeup", 1, 11500)),
			},
			res: m, dims: []analytics.Dimension{total},
			want: []analytics.Cell{
				cell(m, 0, total, "all", C{Orders: 1, Units: 1, Revenue: A{SAR: 11500}, RevenueAED: 11262}),
				cell(m, 2*time.Minute, total, "all", C{Cancellations: 1, CancelledUnits: 1, CancelledRevenue: A{SAR: 11500}, CancelledAED: 11262}),
			},
		},
		{
			name: "an order and its cancellation share the hour",
			events: []souq.Event{
				order("o3", souq.EventOrderCompleted, 30*time.Second, souq.SA, "Riyadh", line("prd_c", "Laneige", "makeup", 1, 11500)),
				order("c3", souq.EventOrderCancelled, 2*time.Minute+10*time.Second, souq.SA, "Riyadh", line("prd_c", "Laneige", "makeup", 1, 11500)),
			},
			res: h, dims: []analytics.Dimension{category},
			want: []analytics.Cell{
				cell(h, 0, category, "makeup", C{Orders: 1, Units: 1, Revenue: A{SAR: 11500}, RevenueAED: 11262,
					Cancellations: 1, CancelledUnits: 1, CancelledRevenue: A{SAR: 11500}, CancelledAED: 11262}),
			},
		},
		{
			name: "two lines of one product are one order of it",
			events: []souq.Event{
				order("o4", souq.EventOrderCompleted, 0, souq.AE, "Sharjah",
					line("prd_a", "COSRX", "skincare", 1, 8900), line("prd_a", "COSRX", "skincare", 2, 6200), line("prd_d", "COSRX", "serum", 1, 1000)),
			},
			res: m, dims: []analytics.Dimension{product, brand},
			want: []analytics.Cell{
				cell(m, 0, product, "prd_a", C{Orders: 1, Units: 3, Revenue: A{AED: 8900 + 12400}, RevenueAED: 21300}),
				cell(m, 0, product, "prd_d", C{Orders: 1, Units: 1, Revenue: A{AED: 1000}, RevenueAED: 1000}),
				cell(m, 0, brand, "COSRX", C{Orders: 1, Units: 4, Revenue: A{AED: 22300}, RevenueAED: 22300}),
			},
		},
		{
			name: "cart views, checkouts and searches; other calls are not counted",
			events: []souq.Event{
				track("cv", analytics.EventCartViewed, 0, map[string]any{"cart_id": "c1", "quantity": "lots"}, marketCtx("AE")), // properties unread
				track("cs", analytics.EventCheckoutStarted, time.Second, map[string]any{"value": 99}, marketCtx("AE")),
				track("ps", analytics.EventProductsSearched, 2*time.Second, map[string]any{"query": "sunscreen"}, nil),
				track("su", "Signed Up", 3*time.Second, nil, marketCtx("AE")),
				{MessageID: "pg", Type: "page", Name: "Home", Timestamp: t0, ReceivedAt: t0},
				{MessageID: "id", Type: "identify", Timestamp: t0, ReceivedAt: t0},
			},
			res: m, dims: []analytics.Dimension{total, market, product},
			want: []analytics.Cell{
				cell(m, 0, total, "all", C{CartViews: 1, Checkouts: 1, Searches: 1}),
				cell(m, 0, market, "AE", C{CartViews: 1, Checkouts: 1}),
				cell(m, 0, market, "unknown", C{Searches: 1}),
			},
		},
		{
			name: "searches that found nothing",
			events: []souq.Event{
				track("z1", analytics.EventProductsSearched, 0, map[string]any{"query": "oud", "result_count": 0}, marketCtx("SA")),
				track("z2", analytics.EventProductsSearched, time.Second, map[string]any{"query": "snail", "result_count": 12}, marketCtx("SA")),
				track("z3", analytics.EventProductsSearched, 2*time.Second, map[string]any{"query": "tint"}, marketCtx("SA")),
				track("z4", analytics.EventProductsSearched, 3*time.Second, map[string]any{"query": "x", "result_count": "none"}, marketCtx("SA")),
			},
			res: m, dims: []analytics.Dimension{total, market},
			want: []analytics.Cell{
				cell(m, 0, total, "all", C{Searches: 4, ZeroResultSearches: 1}),
				cell(m, 0, market, "SA", C{Searches: 4, ZeroResultSearches: 1}),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newAggregator(t, analytics.Config{})
			applyAll(t, a, tt.events...)
			checkDiff(t, "cells", cells(analyticstest.Dump(t, a), tt.res, tt.dims...), tt.want)
		})
	}
}

func TestApplyReportsWhatHappened(t *testing.T) {
	a, _ := newAggregator(t, analytics.Config{})
	v := view("v1", 0, "prd_a", "COSRX", "skincare", "AE")
	steps := []struct {
		name string
		ev   souq.Event
		want bool
	}{
		{"first time", v, true},
		{"again", v, false},
		{"a page call", souq.Event{MessageID: "pg", Type: "page", Timestamp: t0}, false},
		{"another view", view("v2", time.Second, "prd_a", "COSRX", "skincare", "AE"), true},
	}
	for i, step := range steps {
		got, err := a.Apply(t.Context(), uint64(i+1), step.ev)
		if err != nil || got != step.want {
			t.Errorf("%s: got %v, %v; want %v, nil", step.name, got, err, step.want)
		}
	}
	checkDiff(t, "stats", a.Stats(), analytics.Stats{Applied: 2, Duplicates: 1, Ignored: 1})
}

func TestBucketBoundaries(t *testing.T) {
	gst := analytics.GulfStandardTime
	at := func(h, m, s, ms int) time.Time { return time.Date(2026, 3, 14, h, m, s, ms*1e6, time.UTC) }
	tests := []struct {
		name         string
		ts, received time.Time
		minute, hour time.Time
	}{
		{"last millisecond of an hour", at(10, 59, 59, 999), at(11, 0, 0, 300), at(10, 59, 0, 0), at(10, 0, 0, 0)},
		{"first instant of an hour", at(11, 0, 0, 0), at(11, 0, 0, 200), at(11, 0, 0, 0), at(11, 0, 0, 0)},
		{"a Gulf time is bucketed in UTC", time.Date(2026, 3, 14, 14, 59, 59, 0, gst), at(11, 0, 1, 0), at(10, 59, 0, 0), at(10, 0, 0, 0)},
		{"a clock 4 minutes ahead is trusted", at(10, 4, 30, 0), at(10, 0, 40, 0), at(10, 4, 0, 0), at(10, 0, 0, 0)},
		{"a clock 6 minutes ahead is not", at(10, 6, 30, 0), at(10, 0, 40, 0), at(10, 0, 0, 0), at(10, 0, 0, 0)},
		{"no timestamp: the receive time", time.Time{}, at(10, 30, 10, 0), at(10, 30, 0, 0), at(10, 0, 0, 0)},
		{"no receive time: the timestamp", at(9, 31, 10, 0), time.Time{}, at(9, 31, 0, 0), at(9, 0, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newAggregator(t, analytics.Config{})
			ev := view("v", 0, "prd_a", "COSRX", "skincare", "AE")
			ev.Timestamp, ev.ReceivedAt = tt.ts, tt.received
			applyAll(t, a, ev)
			s := analyticstest.Dump(t, a)
			got := append(cells(s, analytics.Minute, analytics.Total), cells(s, analytics.Hour, analytics.Total)...)
			want := []analytics.Cell{
				{Res: analytics.Minute, Start: tt.minute, Dim: analytics.Total, Member: "all", Counters: analytics.Counters{Views: 1}},
				{Res: analytics.Hour, Start: tt.hour, Dim: analytics.Total, Member: "all", Counters: analytics.Counters{Views: 1}},
			}
			checkDiff(t, "total cells", got, want)
		})
	}
}

func TestRetention(t *testing.T) {
	a, store := newAggregator(t, analytics.Config{})
	totals := func(res analytics.Resolution) map[time.Duration]int64 {
		t.Helper()
		out := map[time.Duration]int64{}
		for _, c := range cells(analyticstest.Dump(t, a), res, analytics.Total) {
			out[c.Start.Sub(t0)] = c.Counters.Views
		}
		return out
	}
	apply := func(ev souq.Event, want bool) {
		t.Helper()
		got, err := a.Apply(t.Context(), 0, ev)
		if err != nil || got != want {
			t.Fatalf("Apply(%s): got %v, %v; want %v, nil", ev.MessageID, got, err, want)
		}
	}
	retainedIDs := func(want int) {
		t.Helper()
		p, err := store.Progress(t.Context())
		if err != nil || p.IDs != want {
			t.Errorf("retained ids: got %d, %v; want %d", p.IDs, err, want)
		}
	}
	v := func(id string, at time.Duration) souq.Event { return view(id, at, "prd_a", "COSRX", "skincare", "AE") }
	const day = 24 * time.Hour

	apply(v("e1", 0), true)
	apply(v("e2", 3*time.Hour), true) // the minute floor is now 10:00: e1's minute stays
	checkDiff(t, "minutes at a watermark of 13:00", totals(analytics.Minute), map[time.Duration]int64{0: 1, 3 * time.Hour: 1})

	apply(v("e3", 3*time.Hour+time.Minute), true) // floor 10:01: e1's minute goes
	checkDiff(t, "minutes at 13:01", totals(analytics.Minute), map[time.Duration]int64{3 * time.Hour: 1, 3*time.Hour + time.Minute: 1})
	checkDiff(t, "hours at 13:01", totals(analytics.Hour), map[time.Duration]int64{0: 1, 3 * time.Hour: 2})
	retainedIDs(2)

	late := v("e4", 30*time.Second) // happened at 10:00:30, received at 13:01
	late.ReceivedAt = t0.Add(3*time.Hour + time.Minute)
	apply(late, true)
	apply(late, false) // its id is kept with the hour bucket
	checkDiff(t, "hours after a late event", totals(analytics.Hour), map[time.Duration]int64{0: 2, 3 * time.Hour: 2})
	checkDiff(t, "minutes after a late event", totals(analytics.Minute), map[time.Duration]int64{3 * time.Hour: 1, 3*time.Hour + time.Minute: 1})
	retainedIDs(3)

	old := v("e5", -8*day)
	old.ReceivedAt = late.ReceivedAt
	apply(old, false)

	apply(v("e6", 7*day+2*time.Hour), true) // hour floor 10:00+2h a week later: the 10:00 hour goes
	checkDiff(t, "hours a week later", totals(analytics.Hour), map[time.Duration]int64{3 * time.Hour: 2, 7*day + 2*time.Hour: 1})
	checkDiff(t, "minutes a week later", totals(analytics.Minute), map[time.Duration]int64{7*day + 2*time.Hour: 1})
	retainedIDs(1)
	checkDiff(t, "stats", a.Stats(), analytics.Stats{Applied: 5, HourOnly: 1, Duplicates: 1, TooOld: 1})
}

func TestConfigRejected(t *testing.T) {
	tests := []struct {
		name string
		cfg  analytics.Config
	}{
		{"minute retention under an hour", analytics.Config{MinuteRetention: 30 * time.Minute}},
		{"minute retention not whole minutes", analytics.Config{MinuteRetention: 90*time.Minute + time.Second}},
		{"hour retention under a day", analytics.Config{HourRetention: 12 * time.Hour}},
		{"hour retention not whole hours", analytics.Config{HourRetention: 25*time.Hour + time.Minute}},
		{"hours kept shorter than minutes", analytics.Config{MinuteRetention: 48 * time.Hour, HourRetention: 24 * time.Hour}},
		{"negative top N", analytics.Config{TopN: -1}},
	}
	for _, tt := range tests {
		if _, err := analytics.New(t.Context(), analytics.NewMemStore(), tt.cfg); err == nil {
			t.Errorf("%s: New: got no error, want one", tt.name)
		}
	}
}

// flakyStore is a MemStore whose commits fail while down is set.
type flakyStore struct {
	*analytics.MemStore
	down bool
}

var errStoreDown = errors.New("store down")

func (s *flakyStore) Commit(ctx context.Context, b *analytics.Batch) (bool, error) {
	if s.down {
		return false, errStoreDown
	}
	return s.MemStore.Commit(ctx, b)
}

func (s *flakyStore) CommitMany(ctx context.Context, bs []*analytics.Batch) ([]bool, error) {
	if s.down {
		return nil, errStoreDown
	}
	return s.MemStore.CommitMany(ctx, bs)
}

func TestApplyStoreFailure(t *testing.T) {
	store := &flakyStore{MemStore: analytics.NewMemStore(), down: true}
	a, err := analytics.New(t.Context(), store, analytics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	v := view("v1", 0, "prd_a", "COSRX", "skincare", "AE")
	applied, err := a.Apply(t.Context(), 1, v)
	if applied || !errors.Is(err, errStoreDown) || errors.Is(err, analytics.ErrMalformed) {
		t.Errorf("Apply with the store down: got %v, %v; want false and the store's error, not ErrMalformed", applied, err)
	}
	store.down = false
	if applied, err := a.Apply(t.Context(), 1, v); !applied || err != nil {
		t.Errorf("Apply again once the store is back: got %v, %v; want true, nil", applied, err)
	}
	checkDiff(t, "stats", a.Stats(), analytics.Stats{Applied: 1})
}

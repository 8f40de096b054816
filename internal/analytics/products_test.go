package analytics_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/souq"
)

// productStory is a fixed sequence of product events:
//
//	05:00  order AE Dubai: prd_c 1 × AED 10.00 (hour buckets only by the end)
//	10:00  view prd_a AE; view prd_a SA; add prd_b × 2 AE
//	10:01  order AE Dubai: prd_a 1 × 50.00, prd_b 2 × 30.00
//	       order SA Riyadh: prd_a 1 × SAR 90.00 (AED 88.14)
//	       order AE Sharjah: prd_b 1 × 30.00
//	       cancellation AE Dubai: prd_a 1 × 50.00
//	       view prd_c, no market
func productStory(t *testing.T, a *analytics.Aggregator) {
	t.Helper()
	applyAll(t, a,
		order("o0", souq.EventOrderCompleted, -5*time.Hour, "AE", "Dubai", line("prd_c", "", "", 1, 1000)),
		view("v1", 5*time.Second, "prd_a", "", "", "AE"),
		view("v2", 6*time.Second, "prd_a", "", "", "SA"),
		add("a1", 7*time.Second, "prd_b", 2, "AE"),
		order("o1", souq.EventOrderCompleted, 61*time.Second, "AE", "Dubai", line("prd_a", "", "", 1, 5000), line("prd_b", "", "", 2, 3000)),
		order("o2", souq.EventOrderCompleted, 62*time.Second, "SA", "Riyadh", line("prd_a", "", "", 1, 9000)),
		order("o3", souq.EventOrderCompleted, 63*time.Second, "AE", "Sharjah", line("prd_b", "", "", 1, 3000)),
		order("c1", souq.EventOrderCancelled, 64*time.Second, "AE", "Dubai", line("prd_a", "", "", 1, 5000)),
		view("v3", 65*time.Second, "prd_c", "", "", ""),
	)
}

func row(id string, c analytics.Counters) analytics.ProductRow {
	return analytics.ProductRow{ProductID: id, Counters: c, NetRevenueAED: c.NetAED()}
}

func TestProducts(t *testing.T) {
	a, store := newAggregator(t, analytics.Config{})
	productStory(t, a)
	const sar90 = 8814
	from, to := t0.Add(-57*time.Minute), t0.Add(3*time.Minute) // the last hour at 10:02
	aed := func(n int64) analytics.Amounts { return analytics.Amounts{AED: n} }
	cancelA := analytics.Counters{Cancellations: 1, CancelledUnits: 1, CancelledRevenue: aed(5000), CancelledAED: 5000}
	with := func(c, more analytics.Counters) analytics.Counters { c.Add(&more); return c }

	allA := with(analytics.Counters{Views: 2, Orders: 2, Units: 2, Revenue: analytics.Amounts{AED: 5000, SAR: 9000}, RevenueAED: 5000 + sar90}, cancelA)
	allB := analytics.Counters{AddEvents: 1, AddUnits: 2, Orders: 2, Units: 3, Revenue: aed(9000), RevenueAED: 9000}
	tests := []struct {
		name string
		q    analytics.ProductQuery
		want []analytics.ProductRow
	}{
		{"last hour", analytics.ProductQuery{From: from, To: to},
			[]analytics.ProductRow{row("prd_a", allA), row("prd_b", allB), row("prd_c", analytics.Counters{Views: 1})}},
		{"last hour, AE", analytics.ProductQuery{From: from, To: to, Market: "AE"}, []analytics.ProductRow{
			row("prd_b", allB),
			row("prd_a", with(analytics.Counters{Views: 1, Orders: 1, Units: 1, Revenue: aed(5000), RevenueAED: 5000}, cancelA))}},
		{"last hour, unknown market", analytics.ProductQuery{From: from, To: to, Market: "unknown"},
			[]analytics.ProductRow{row("prd_c", analytics.Counters{Views: 1})}},
		{"last hour, Dubai", analytics.ProductQuery{From: from, To: to, City: "Dubai"}, []analytics.ProductRow{
			row("prd_b", analytics.Counters{Orders: 1, Units: 2, Revenue: aed(6000), RevenueAED: 6000}),
			row("prd_a", with(analytics.Counters{Orders: 1, Units: 1, Revenue: aed(5000), RevenueAED: 5000}, cancelA))}},
		{"Dubai is not in SA", analytics.ProductQuery{From: from, To: to, City: "Dubai", Market: "SA"}, []analytics.ProductRow{}},
		{"one product in Riyadh, SA", analytics.ProductQuery{From: from, To: to, City: "Riyadh", Market: "SA", IDs: []string{"prd_a"}},
			[]analytics.ProductRow{row("prd_a", analytics.Counters{Orders: 1, Units: 1, Revenue: analytics.Amounts{SAR: 9000}, RevenueAED: sar90})}},
		{"some products", analytics.ProductQuery{From: from, To: to, IDs: []string{"prd_b", "prd_z"}},
			[]analytics.ProductRow{row("prd_b", allB)}},
		{"some products of AE", analytics.ProductQuery{From: from, To: to, Market: "AE", IDs: []string{"prd_a"}}, []analytics.ProductRow{
			row("prd_a", with(analytics.Counters{Views: 1, Orders: 1, Units: 1, Revenue: aed(5000), RevenueAED: 5000}, cancelA))}},
		{"one minute", analytics.ProductQuery{From: t0, To: t0.Add(time.Minute)}, []analytics.ProductRow{
			row("prd_a", analytics.Counters{Views: 2}), row("prd_b", analytics.Counters{AddEvents: 1, AddUnits: 2})}},
		{"since 04:00: hour buckets", analytics.ProductQuery{From: t0.Add(-6 * time.Hour), To: to}, []analytics.ProductRow{
			row("prd_a", allA), row("prd_b", allB),
			row("prd_c", analytics.Counters{Views: 1, Orders: 1, Units: 1, Revenue: aed(1000), RevenueAED: 1000})}},
		{"since 04:00 in Dubai", analytics.ProductQuery{From: t0.Add(-6 * time.Hour), To: to, City: "Dubai"}, []analytics.ProductRow{
			row("prd_b", analytics.Counters{Orders: 1, Units: 2, Revenue: aed(6000), RevenueAED: 6000}),
			row("prd_a", with(analytics.Counters{Orders: 1, Units: 1, Revenue: aed(5000), RevenueAED: 5000}, cancelA)),
			row("prd_c", analytics.Counters{Orders: 1, Units: 1, Revenue: aed(1000), RevenueAED: 1000})}},
	}
	fresh, err := analytics.NewReader(struct{ analytics.HotStore }{store}, analytics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		got, err := a.Products(t.Context(), tt.q)
		if err != nil {
			t.Fatalf("%s: Products: %v", tt.name, err)
		}
		checkDiff(t, tt.name, got, tt.want)
		got, err = fresh.Products(t.Context(), tt.q)
		if err != nil {
			t.Fatalf("%s: Products of a Reader of another process: %v", tt.name, err)
		}
		checkDiff(t, tt.name+", read afresh", got, tt.want)
	}
	if _, err := a.Products(t.Context(), analytics.ProductQuery{From: to, To: to}); !errors.Is(err, souq.ErrInvalid) {
		t.Errorf("an empty period: got %v, want an error of kind invalid", err)
	}
}

// TestProductsInOffTheHour checks periods that start or end off the hour
// once their start is older than the minute buckets: whole hours come from
// the hour buckets, the minutes still retained from the minute buckets, the
// minute-less part of the hour the minute floor falls in is its hour bucket
// less its retained minutes (exact), and an edge that cuts an hour with no
// minute buckets is prorated from the hour (Approximate).
//
//	10:05, 10:15, … 10:55  six orders of prd_s, 1 unit each
//	12:10, 12:30           one order each
//	15:20                  a view of prd_x: the minute floor is 12:20
func TestProductsInOffTheHour(t *testing.T) {
	a, _ := newAggregator(t, analytics.Config{})
	var evs []souq.Event
	for i := range 6 {
		at := time.Duration(5+10*i) * time.Minute
		evs = append(evs, order(fmt.Sprintf("o%d", i), souq.EventOrderCompleted, at, "AE", "Dubai", line("prd_s", "", "", 1, 1000)))
	}
	evs = append(evs,
		order("o12a", souq.EventOrderCompleted, 2*time.Hour+10*time.Minute, "AE", "Dubai", line("prd_s", "", "", 1, 1000)),
		order("o12b", souq.EventOrderCompleted, 2*time.Hour+30*time.Minute, "AE", "Dubai", line("prd_s", "", "", 1, 1000)),
		view("late", 5*time.Hour+20*time.Minute, "prd_x", "", "", "AE"),
	)
	applyAll(t, a, evs...)
	at := func(h, m int) time.Time { return time.Date(2026, 3, 14, h, m, 0, 0, time.UTC) }
	tests := []struct {
		name     string
		from, to time.Time
		units    int64
		approx   bool
	}{
		// [10:30, 11:00) half of hour 10 (3), hour 11 (0), [12:00, 12:20)
		// = hour 12 less minutes 12:20–13:00 (2 − 1), minutes 12:20–15:20 (1).
		{"a sale from 10:30", at(10, 30), at(15, 20), 5, true},
		// hours 05–09 (0), [10:00, 10:30) half of hour 10 (3).
		{"before a sale from 10:30", at(5, 40), at(10, 30), 3, true},
		{"from 10:00", at(10, 0), at(15, 20), 8, false},
		{"from 11:00 to the minute floor", at(11, 0), at(12, 20), 1, false},
		// [12:05, 12:20): 15 of the 20 minute-less minutes of hour 12 (1 unit) → 1; minutes 12:20–13:00 (1).
		{"inside the hour of the minute floor", at(12, 5), at(13, 0), 2, true},
		{"minutes only", at(12, 20), at(13, 0), 1, false},
	}
	for _, tt := range tests {
		got, err := a.ProductsIn(t.Context(), analytics.ProductQuery{From: tt.from, To: tt.to, IDs: []string{"prd_s"}})
		if err != nil {
			t.Fatalf("%s: ProductsIn: %v", tt.name, err)
		}
		var units int64
		for _, r := range got.Rows {
			units += r.Units
		}
		if units != tt.units || got.Span.Approximate != tt.approx {
			t.Errorf("%s: got %d units, approximate %v; want %d, %v (note %q)", tt.name, units, got.Span.Approximate, tt.units, tt.approx, got.Span.Note)
		}
		if tt.approx && got.Span.Note == "" {
			t.Errorf("%s: an approximate span without a note", tt.name)
		}
	}
}

// readCounter is a HotStore that counts its Reads.
type readCounter struct {
	analytics.HotStore
	reads int
}

func (s *readCounter) Read(ctx context.Context, r analytics.Range, fn func(time.Time, string, *analytics.Counters)) error {
	s.reads++
	return s.HotStore.Read(ctx, r, fn)
}

// TestProductsReadsItemsAtOnce checks that a few named products (a sale's
// items) are read in one store read per resolution, not one per product.
func TestProductsReadsItemsAtOnce(t *testing.T) {
	a, store := newAggregator(t, analytics.Config{})
	productStory(t, a)
	counting := &readCounter{HotStore: store}
	r, err := analytics.NewReader(struct{ analytics.HotStore }{counting}, analytics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	q := analytics.ProductQuery{From: t0, To: t0.Add(2 * time.Minute), Market: "AE", IDs: []string{"prd_a", "prd_b", "prd_z"}}
	got, err := r.Products(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || counting.reads != 1 {
		t.Errorf("three products of AE: got %d rows in %d reads, want 2 rows in 1 read", len(got), counting.reads)
	}
}

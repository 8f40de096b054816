package analytics_test

import (
	"errors"
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

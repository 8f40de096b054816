package analytics_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/analytics/analyticstest"
	"github.com/souq-commerce/souq/internal/souq"
)

// t0 is the tests' origin of time, 10:00 UTC on a Saturday of a sale.
var t0 = analyticstest.T0

// track returns a browser track event at t0+at.
func track(id, name string, at time.Duration, props, ctx map[string]any) souq.Event {
	return analyticstest.Track(id, name, t0.Add(at), props, ctx)
}

// marketCtx is a browser context naming market m ("" names none).
func marketCtx(m string) map[string]any {
	if m == "" {
		return map[string]any{"locale": "ar-AE"}
	}
	return map[string]any{"locale": "ar-AE", "market": m}
}

// view returns "Product Viewed" as a storefront sends it (Segment style:
// price is a number).
func view(id string, at time.Duration, product, brand, category, market string) souq.Event {
	props := map[string]any{"product_id": product, "sku": "SKU-" + product, "price": 89.5, "currency": "AED"}
	if brand != "" {
		props["brand"] = brand
	}
	if category != "" {
		props["category"] = category
	}
	return track(id, analytics.EventProductViewed, at, props, marketCtx(market))
}

// add returns "Product Added"; quantity 0 leaves it out (meaning one).
func add(id string, at time.Duration, product string, quantity int, market string) souq.Event {
	props := map[string]any{"product_id": product, "brand": "COSRX", "category": "skincare"}
	if quantity != 0 {
		props["quantity"] = quantity
	}
	return track(id, analytics.EventProductAdded, at, props, marketCtx(market))
}

// line is one order line: quantity × price (minor units, VAT-inclusive).
func line(product, brand, category string, quantity int, price int64) analyticstest.Line {
	return analyticstest.Line{Product: product, Brand: brand, Category: category, Quantity: quantity, Price: price}
}

// order returns "Order Completed" (or, with name EventOrderCancelled, its
// cancellation) at t0+at for an order in market m shipped to city.
func order(id, name string, at time.Duration, m souq.MarketCode, city string, lines ...analyticstest.Line) souq.Event {
	return analyticstest.Order(id, name, t0.Add(at), m, city, lines...)
}

func newAggregator(t *testing.T, cfg analytics.Config) (*analytics.Aggregator, *analytics.MemStore) {
	t.Helper()
	store := analytics.NewMemStore()
	a, err := analytics.New(t.Context(), store, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a, store
}

// applyAll applies events with sequences 1, 2, … and fails on any error.
func applyAll(t *testing.T, a *analytics.Aggregator, events ...souq.Event) {
	t.Helper()
	for i, ev := range events {
		if _, err := a.Apply(t.Context(), uint64(i+1), ev); err != nil {
			t.Fatalf("Apply(%s %q): %v", ev.MessageID, ev.Event, err)
		}
	}
}

// cells returns the cells of resolution res in the given dimensions.
func cells(s analytics.State, res analytics.Resolution, dims ...analytics.Dimension) []analytics.Cell {
	var out []analytics.Cell
	for _, c := range s.Cells {
		if c.Res != res {
			continue
		}
		for _, d := range dims {
			if c.Dim == d {
				out = append(out, c)
			}
		}
	}
	return out
}

func checkDiff(t *testing.T, what string, got, want any) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

package analytics_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/souq"
)

// t0 is 10:00 UTC (14:00 in the Gulf) on a Saturday of a sale.
var t0 = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

// receiveDelay is how long after its timestamp the test events reach Souq.
const receiveDelay = 200 * time.Millisecond

func mustJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// track returns a browser track event at t0+at.
func track(id, name string, at time.Duration, props, ctx map[string]any) souq.Event {
	ts := t0.Add(at)
	return souq.Event{
		MessageID: id, Type: "track", Event: name, Timestamp: ts, ReceivedAt: ts.Add(receiveDelay),
		AnonymousID: "anon_1", Properties: mustJSON(props), Context: mustJSON(ctx),
	}
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
type line struct {
	product, brand, category string
	quantity                 int
	price                    int64
}

// order returns "Order Completed" (or, with name EventOrderCancelled, its
// cancellation) for an order in market m shipped to city, built by the
// same souq.NewOrderEvent the checkout uses.
func order(id, name string, at time.Duration, m souq.MarketCode, city string, lines ...line) souq.Event {
	market := souq.MustMarket(m)
	o := souq.Order{ID: souq.ID("ord_" + id), Market: m, Currency: market.Currency,
		ShippingAddress: souq.Address{City: city, Country: m}, Payment: souq.Payment{Method: souq.PayCashOnDelivery}}
	for _, l := range lines {
		total, vat := souq.LineTotal(l.price, l.quantity, market)
		o.Lines = append(o.Lines, souq.OrderLine{ProductID: souq.ID(l.product), SKU: "SKU-" + l.product,
			Name: souq.Localized{EN: "Product " + l.product}, Brand: l.brand, Category: l.category,
			Quantity: l.quantity, UnitPrice: l.price, LineTotal: total, VAT: vat})
		o.Total += total
		o.VAT += vat
	}
	out, err := souq.NewOrderEvent(name, o, t0.Add(at))
	if err != nil {
		panic(err) // only json.Marshal can fail, and not on these types
	}
	var ev souq.Event
	if err := json.Unmarshal(out.Payload, &ev); err != nil {
		panic(err)
	}
	ev.MessageID = id
	return ev
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

func dump(t *testing.T, a *analytics.Aggregator) analytics.State {
	t.Helper()
	s, err := a.Dump(t.Context())
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	return s
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

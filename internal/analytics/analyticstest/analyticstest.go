// Package analyticstest holds the event builders shared by the tests of
// analytics and of its stores: browser track events as the storefront
// sends them, order events built by souq.NewOrderEvent as the checkout
// builds them, a generator of realistic shop events (Mix), and the helpers
// that read an Aggregator or a HotStore or fail the test.
//
// Only tests, and test suites such as hotstoretest, import it.
package analyticstest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/souq"
)

// T0 is 10:00 UTC (14:00 in the Gulf) on a Saturday of a sale.
var T0 = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

// ReceiveDelay is how long after its timestamp a test event reaches Souq.
const ReceiveDelay = 200 * time.Millisecond

// MustJSON returns v as JSON, nil for nil; it panics if v cannot be
// marshalled.
func MustJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Track returns a browser track event with timestamp ts, received
// ReceiveDelay later.
func Track(id, name string, ts time.Time, props, ctx map[string]any) souq.Event {
	return souq.Event{
		MessageID: id, Type: "track", Event: name, Timestamp: ts, ReceivedAt: ts.Add(ReceiveDelay),
		AnonymousID: "anon_1", Properties: MustJSON(props), Context: MustJSON(ctx),
	}
}

// Line is one order line: Quantity × Price (minor units, VAT-inclusive).
type Line struct {
	Product, Brand, Category string
	Quantity                 int
	Price                    int64
}

// Order returns "Order Completed" (or, with name souq.EventOrderCancelled,
// its cancellation) for an order in market m shipped to city, at ts, built
// by the same souq.NewOrderEvent the checkout uses.
func Order(id, name string, ts time.Time, m souq.MarketCode, city string, lines ...Line) souq.Event {
	market := souq.MustMarket(m)
	o := souq.Order{ID: souq.ID("ord_" + id), Market: m, Currency: market.Currency,
		ShippingAddress: souq.Address{City: city, Country: m}, Payment: souq.Payment{Method: souq.PayCashOnDelivery}}
	for _, l := range lines {
		total, vat := souq.LineTotal(l.Price, l.Quantity, market)
		o.Lines = append(o.Lines, souq.OrderLine{ProductID: souq.ID(l.Product), SKU: "SKU-" + l.Product,
			Name: souq.Localized{EN: "Product " + l.Product}, Brand: l.Brand, Category: l.Category,
			Quantity: l.Quantity, UnitPrice: l.Price, LineTotal: total, VAT: vat})
		o.Total += total
		o.VAT += vat
	}
	out, err := souq.NewOrderEvent(name, o, ts)
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

// Dump returns a's state, failing the test if it cannot be read.
func Dump(t *testing.T, a *analytics.Aggregator) analytics.State {
	t.Helper()
	s, err := a.Dump(t.Context())
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	return s
}

// Progress returns s's progress, failing the test if it cannot be read.
func Progress(t *testing.T, s analytics.HotStore) analytics.Progress {
	t.Helper()
	p, err := s.Progress(t.Context())
	if err != nil {
		t.Fatalf("Progress: %v", err)
	}
	return p
}

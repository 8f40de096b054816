package redisstore

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/souq"
)

// The events of these tests have the shape of internal/analytics's test
// events (helpers_test.go, mix_test.go): browser track events as the
// storefront sends them and order events built by souq.NewOrderEvent, as
// the checkout builds them.

// t0 is 10:00 UTC on a Saturday of a sale.
var t0 = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

// receiveDelay is how long after its timestamp an event reaches Souq.
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

// track returns a browser track event with timestamp ts.
func track(id, name string, ts time.Time, props, ctx map[string]any) souq.Event {
	return souq.Event{
		MessageID: id, Type: "track", Event: name, Timestamp: ts, ReceivedAt: ts.Add(receiveDelay),
		AnonymousID: "anon_1", Properties: mustJSON(props), Context: mustJSON(ctx),
	}
}

// line is one order line: quantity × price (minor units, VAT-inclusive).
type line struct {
	product, brand, category string
	quantity                 int
	price                    int64
}

// order returns "Order Completed" (or its cancellation) for an order in
// market m shipped to city, at ts.
func order(id, name string, ts time.Time, m souq.MarketCode, city string, lines ...line) souq.Event {
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

// mix generates a realistic stream of shop events: 70% product views,
// then adds, removes, cart views, checkouts, searches, orders of one to
// three lines and a few cancellations, over a catalogue whose popular
// products are picked more often, in the six markets (5% of browser
// events without a market; half of them with a city).
type mix struct {
	rng      *rand.Rand
	products []mixProduct
	markets  []souq.Market
}

type mixProduct struct {
	id, brand, category string
	priceAED            int64
}

func newMix(seed uint64, products, brands, categories int) *mix {
	m := &mix{rng: rand.New(rand.NewPCG(seed, 42)), markets: souq.Markets()}
	for i := range products {
		m.products = append(m.products, mixProduct{
			id:       fmt.Sprintf("prd_%05d", i),
			brand:    fmt.Sprintf("Brand %02d", i%brands),
			category: fmt.Sprintf("category %02d", i%categories),
			priceAED: 1500 + int64(m.rng.IntN(40000)),
		})
	}
	return m
}

func (m *mix) product() mixProduct {
	f := m.rng.Float64()
	return m.products[int(f*f*f*float64(len(m.products)))]
}

func (m *mix) price(p mixProduct, mk souq.Market) int64 {
	if mk.Currency.Exponent() == 3 {
		return p.priceAED / 10 * 10 / 12
	}
	return p.priceAED
}

// event returns event number i with timestamp ts.
func (m *mix) event(i int, ts time.Time) souq.Event {
	id := fmt.Sprintf("evt_%08d", i)
	mk := m.markets[m.rng.IntN(len(m.markets))]
	ctx := map[string]any{"locale": "ar-AE", "market": string(mk.Code)}
	if m.rng.IntN(20) == 0 {
		delete(ctx, "market")
	}
	if m.rng.IntN(2) == 0 {
		ctx["city"] = mk.Cities[m.rng.IntN(len(mk.Cities))]
	}
	p := m.product()
	props := map[string]any{"product_id": p.id, "brand": p.brand, "category": p.category, "price": float64(p.priceAED) / 100}
	switch r := m.rng.IntN(1000); {
	case r < 700:
		return track(id, analytics.EventProductViewed, ts, props, ctx)
	case r < 820:
		props["quantity"] = 1 + m.rng.IntN(3)
		return track(id, analytics.EventProductAdded, ts, props, ctx)
	case r < 850:
		return track(id, analytics.EventProductRemoved, ts, props, ctx)
	case r < 900:
		return track(id, analytics.EventCartViewed, ts, nil, ctx)
	case r < 940:
		return track(id, analytics.EventCheckoutStarted, ts, map[string]any{"value": 12.5}, ctx)
	case r < 970:
		return track(id, analytics.EventProductsSearched, ts, map[string]any{"query": "snail"}, ctx)
	default:
		name := souq.EventOrderCompleted
		if r >= 995 {
			name = souq.EventOrderCancelled
		}
		var lines []line
		for range 1 + m.rng.IntN(3) {
			q := m.product()
			lines = append(lines, line{q.id, q.brand, q.category, 1 + m.rng.IntN(2), m.price(q, mk)})
		}
		return order(id, name, ts, mk.Code, mk.Cities[m.rng.IntN(len(mk.Cities))], lines...)
	}
}

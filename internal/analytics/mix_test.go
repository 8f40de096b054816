package analytics_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/souq"
)

// mix generates a realistic stream of shop events: mostly product views,
// then adds, cart views, checkouts, searches, removes, orders of one to
// three lines and a few cancellations, over a catalogue of products in the
// six markets (5% of browser events without a market).
type mix struct {
	rng      *rand.Rand
	products []mixProduct
	markets  []souq.Market
}

type mixProduct struct {
	id, brand, category string
	priceAED            int64 // fils; other markets derive theirs from it
}

var mixCategories = []string{"skincare", "toner", "serum", "sunscreen", "cleanser", "masks", "makeup", "lips", "eyes", "hair", "body", "sets"}

func newMix(seed uint64, products int) *mix {
	m := &mix{rng: rand.New(rand.NewPCG(seed, 42)), markets: souq.Markets()}
	for i := range products {
		m.products = append(m.products, mixProduct{
			id:       fmt.Sprintf("prd_%05d", i),
			brand:    fmt.Sprintf("Brand %02d", i%60),
			category: mixCategories[i%len(mixCategories)],
			priceAED: 1500 + int64(m.rng.IntN(40000)),
		})
	}
	return m
}

// product returns a product, popular ones more often (a rough power law).
func (m *mix) product() mixProduct {
	f := m.rng.Float64()
	return m.products[int(f*f*f*float64(len(m.products)))]
}

// price returns p's price in market mk's minor units.
func (m *mix) price(p mixProduct, mk souq.Market) int64 {
	if mk.Currency.Exponent() == 3 {
		return p.priceAED / 10 * 10 / 12 // roughly a tenth of the AED price, in thousandths
	}
	return p.priceAED
}

// event returns event number i, at t0+at (received 200 ms later).
func (m *mix) event(i int, at time.Duration) souq.Event {
	id := fmt.Sprintf("evt_%08d", i)
	mk := m.markets[m.rng.IntN(len(m.markets))]
	market := string(mk.Code)
	if m.rng.IntN(20) == 0 {
		market = ""
	}
	p := m.product()
	props := map[string]any{"product_id": p.id, "brand": p.brand, "category": p.category, "price": float64(p.priceAED) / 100}
	switch r := m.rng.IntN(1000); {
	case r < 700:
		return track(id, analytics.EventProductViewed, at, props, marketCtx(market))
	case r < 820:
		props["quantity"] = 1 + m.rng.IntN(3)
		return track(id, analytics.EventProductAdded, at, props, marketCtx(market))
	case r < 850:
		return track(id, analytics.EventProductRemoved, at, props, marketCtx(market))
	case r < 900:
		return track(id, analytics.EventCartViewed, at, nil, marketCtx(market))
	case r < 940:
		return track(id, analytics.EventCheckoutStarted, at, map[string]any{"value": 12.5}, marketCtx(market))
	case r < 970:
		return track(id, analytics.EventProductsSearched, at, map[string]any{"query": "snail"}, marketCtx(market))
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
		return order(id, name, at, mk.Code, mk.Cities[m.rng.IntN(len(mk.Cities))], lines...)
	}
}

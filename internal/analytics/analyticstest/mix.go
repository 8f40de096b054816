package analyticstest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/souq"
)

// Mix generates a realistic stream of shop events: 70% product views,
// then adds, removes, cart views, checkouts, searches, orders of one to
// three lines and a few cancellations, over a catalogue whose popular
// products are picked more often, in the six markets (5% of browser events
// without a market), by MixVisitors visitors (each event's anonymousId;
// one in ten events also has the visitor's userId). A Mix is not safe for
// concurrent use.
type Mix struct {
	rng      *rand.Rand
	visitors *rand.Rand // picks each event's visitor, apart from rng so the events stay as they were
	products []mixProduct
	markets  []souq.Market
	cities   bool
}

// MixConfig describes the catalogue of a Mix and what its events carry.
type MixConfig struct {
	Products int // products in the catalogue, "prd_00000", "prd_00001", …
	Brands   int // product i is of "Brand NN" for NN = i mod Brands

	// Product i is in Categories[i mod len(Categories)]; nil means the
	// shop's twelve, "skincare" to "sets".
	Categories []string

	// Cities makes half the browser events name a city of their market.
	Cities bool
}

// MixVisitors is how many distinct visitors a Mix's events come from.
const MixVisitors = 5000

var shopCategories = []string{"skincare", "toner", "serum", "sunscreen", "cleanser", "masks", "makeup", "lips", "eyes", "hair", "body", "sets"}

type mixProduct struct {
	id, brand, category string
	priceAED            int64 // fils; other markets derive theirs from it
}

// NewMix returns a Mix of cfg's catalogue whose events follow from seed.
func NewMix(seed uint64, cfg MixConfig) *Mix {
	categories := cfg.Categories
	if categories == nil {
		categories = shopCategories
	}
	m := &Mix{rng: rand.New(rand.NewPCG(seed, 42)), visitors: rand.New(rand.NewPCG(seed, 43)), markets: souq.Markets(), cities: cfg.Cities}
	for i := range cfg.Products {
		m.products = append(m.products, mixProduct{
			id:       fmt.Sprintf("prd_%05d", i),
			brand:    fmt.Sprintf("Brand %02d", i%cfg.Brands),
			category: categories[i%len(categories)],
			priceAED: 1500 + int64(m.rng.IntN(40000)),
		})
	}
	return m
}

// product returns a product, popular ones more often (a rough power law).
func (m *Mix) product() mixProduct {
	f := m.rng.Float64()
	return m.products[int(f*f*f*float64(len(m.products)))]
}

// price returns p's price in market mk's minor units.
func (m *Mix) price(p mixProduct, mk souq.Market) int64 {
	if mk.Currency.Exponent() == 3 {
		return p.priceAED / 10 * 10 / 12 // roughly a tenth of the AED price, in thousandths
	}
	return p.priceAED
}

// Event returns event number i with timestamp ts (received ReceiveDelay
// later).
func (m *Mix) Event(i int, ts time.Time) souq.Event {
	ev := m.event(i, ts)
	v := m.visitors.IntN(MixVisitors)
	ev.AnonymousID = fmt.Sprintf("anon_%05d", v)
	if m.visitors.IntN(10) == 0 {
		ev.UserID = fmt.Sprintf("usr_%05d", v)
	}
	return ev
}

func (m *Mix) event(i int, ts time.Time) souq.Event {
	id := fmt.Sprintf("evt_%08d", i)
	mk := m.markets[m.rng.IntN(len(m.markets))]
	ctx := map[string]any{"locale": "ar-AE", "market": string(mk.Code)}
	if m.rng.IntN(20) == 0 {
		delete(ctx, "market")
	}
	if m.cities && m.rng.IntN(2) == 0 {
		ctx["city"] = mk.Cities[m.rng.IntN(len(mk.Cities))]
	}
	p := m.product()
	props := map[string]any{"product_id": p.id, "brand": p.brand, "category": p.category, "price": float64(p.priceAED) / 100}
	switch r := m.rng.IntN(1000); {
	case r < 700:
		return Track(id, analytics.EventProductViewed, ts, props, ctx)
	case r < 820:
		props["quantity"] = 1 + m.rng.IntN(3)
		return Track(id, analytics.EventProductAdded, ts, props, ctx)
	case r < 850:
		return Track(id, analytics.EventProductRemoved, ts, props, ctx)
	case r < 900:
		return Track(id, analytics.EventCartViewed, ts, nil, ctx)
	case r < 940:
		return Track(id, analytics.EventCheckoutStarted, ts, map[string]any{"value": 12.5}, ctx)
	case r < 970:
		return Track(id, analytics.EventProductsSearched, ts, map[string]any{"query": "snail"}, ctx)
	default:
		name := souq.EventOrderCompleted
		if r >= 995 {
			name = souq.EventOrderCancelled
		}
		var lines []Line
		for range 1 + m.rng.IntN(3) {
			q := m.product()
			lines = append(lines, Line{q.id, q.brand, q.category, 1 + m.rng.IntN(2), m.price(q, mk)})
		}
		return Order(id, name, ts, mk.Code, mk.Cities[m.rng.IntN(len(mk.Cities))], lines...)
	}
}

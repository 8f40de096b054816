package dashboard

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/analytics/analyticstest"
	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/souq"
)

// storeProducts reads per-product counters straight from a hot store's
// minute buckets: the benchmark's stand-in while the Reader's Products
// is not available.
type storeProducts struct{ store analytics.HotStore }

func (s storeProducts) Products(ctx context.Context, q analytics.ProductQuery) ([]analytics.ProductRow, error) {
	want := map[string]bool{}
	for _, id := range q.IDs {
		want[id] = true
	}
	sums := map[string]*analytics.Counters{}
	err := s.store.Read(ctx, analytics.Range{Res: analytics.Minute, Dim: analytics.Product, From: q.From, To: q.To},
		func(_ time.Time, member string, c *analytics.Counters) {
			if q.IDs != nil && !want[member] {
				return
			}
			sum, ok := sums[member]
			if !ok {
				sum = &analytics.Counters{}
				sums[member] = sum
			}
			sum.Add(c)
		})
	rows := make([]analytics.ProductRow, 0, len(sums))
	for id, c := range sums {
		rows = append(rows, analytics.ProductRow{ProductID: id, Counters: *c, NetRevenueAED: c.NetAED()})
	}
	slices.SortFunc(rows, byRevenue)
	return rows, err
}

// BenchmarkUpdate measures one push with every panel: the snapshot, the
// audience, comparisons, sale, stock, product table and alerts, after an
// hour of the realistic event mix over 2,000 products in a MemStore.
// The hour holds 20,000 events a minute: a push's work grows with the
// members of each bucket (products, brands, cities), not with the
// count of events, and at 20,000 a minute the buckets already hold
// nearly every product, as they do at 10,000 events a second. The
// catalogue is in memory (its store reads are one indexed query each
// per push) and the sale has 50 items.
func BenchmarkUpdate(b *testing.B) {
	const perMinute, minutes, products = 20_000, 60, 2000
	start := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	store := analytics.NewMemStore()
	agg, err := analytics.New(b.Context(), store, analytics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	mix := analyticstest.NewMix(11, analyticstest.MixConfig{Products: products, Brands: 60, Cities: true})
	pool := make([]souq.Event, 1<<14)
	for i := range pool {
		pool[i] = mix.Event(i, start)
	}
	for i := range perMinute * minutes {
		ev := pool[i%len(pool)]
		ev.MessageID = "evt_" + strconv.Itoa(i)
		ev.Timestamp = start.Add(time.Duration(i) * time.Minute / perMinute)
		ev.ReceivedAt = ev.Timestamp
		if _, err := agg.Apply(b.Context(), uint64(i+1), ev); err != nil {
			b.Fatal(err)
		}
	}
	now := start.Add(minutes*time.Minute - time.Second)

	cat := &fakeCatalog{products: map[souq.ID]souq.Product{}, stock: map[souq.ID]int{}, now: func() time.Time { return now }}
	sale := souq.Sale{ID: "sal_bench", Name: souq.Localized{EN: "Sale", AR: "تخفيضات"}, StartsAt: now.Add(-30 * time.Minute).Truncate(time.Minute),
		EndsAt: now.Add(30 * time.Minute), Units: map[souq.ID]int{}, Prices: map[souq.ID]map[souq.MarketCode]int64{}}
	for i := range products {
		id := souq.ID(fmt.Sprintf("prd_%05d", i))
		cat.products[id] = souq.Product{ID: id, Name: souq.Localized{EN: string(id), AR: string(id)}, Brand: fmt.Sprintf("Brand %02d", i%60),
			Category: "skincare", Prices: map[souq.MarketCode]int64{"AE": 5000, "SA": 5000}}
		cat.stock[id] = i % 40
		if i < 50 {
			sale.Units[id], sale.Prices[id] = 100, map[souq.MarketCode]int64{"AE": 4000}
		}
	}
	cat.sales = []souq.Sale{sale}
	reader, err := analytics.NewReader(store, analytics.Config{})
	if err != nil {
		b.Fatal(err)
	}
	deps := Deps{Source: agg, Catalog: cat, Now: func() time.Time { return now }, Health: fakeHealth{},
		Outcomes: &fakeOutcomes{minutes: []outcomes.Minute{{Start: now.Truncate(time.Minute).Add(-time.Minute), Counts: outcomes.Counts{Checkouts: 500, Orders: 480, Errors: 3}}}}}
	var figures ProductSource = reader
	if _, err := reader.Products(b.Context(), analytics.ProductQuery{From: now.Add(-time.Minute), To: now}); err != nil {
		b.Logf("analytics Reader.Products: %v; reading the store's product buckets instead", err)
		figures = storeProducts{store}
	}
	deps.ProductFigures = figures
	if _, err := reader.Audience(b.Context(), now); err == nil {
		deps.Audience = reader
	} else {
		b.Logf("analytics Reader.Audience: %v; the audience panel is not measured", err)
	}
	if _, err := reader.Compare(b.Context(), now); err == nil {
		deps.Compare = reader
	} else {
		b.Logf("analytics Reader.Compare: %v; the comparisons are not measured", err)
	}
	// "snapshot" is the push as it was before the war room (snapshot,
	// health, names); "panels" adds every panel and the alerts.
	for _, bc := range []struct {
		name string
		deps Deps
	}{
		{"snapshot", Deps{Source: agg, Health: fakeHealth{}, Now: deps.Now}},
		{"panels", deps},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := New(bc.deps)
			defer d.Close()
			var u Update
			for b.Loop() {
				// Each push is a new second: the caches of a few seconds
				// (sales, low stock) are read again every 5 pushes.
				now = now.Add(time.Second)
				if u, err = d.update(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
			if bc.name == "snapshot" {
				return
			}
			if u.Sale == nil || len(u.Sale.Items) != 50 || len(u.Products) != panelProducts || u.Stock == nil || len(u.Stock.Watch) == 0 {
				b.Fatalf("got sale %v, %d products, stock %v; want every panel", u.Sale != nil, len(u.Products), u.Stock != nil)
			}
			top := slices.MaxFunc(u.Products, func(a, b ProductTableRow) int { return cmp.Compare(a.RevenueAED, b.RevenueAED) })
			b.ReportMetric(float64(top.Orders), "top-product-orders")
		})
	}
}

package dashboard

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/souq"
)

// The war room's fixture: a sale of three products running from 09:30 to
// 10:30 UTC, read at t0 (10:00:30), five products in the catalogue, and
// the counters of the spans the panels ask for.

var (
	saleStart = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	saleEnd   = time.Date(2026, 3, 14, 10, 30, 0, 0, time.UTC)
	// The span of the running sale's units per minute at t0.
	saleRateFrom, saleRateTo = time.Date(2026, 3, 14, 9, 46, 0, 0, time.UTC), time.Date(2026, 3, 14, 10, 1, 0, 0, time.UTC)
)

func warProducts() map[souq.ID]souq.Product {
	p := func(id, en, ar, brand, cat string, stock int, prices map[souq.MarketCode]int64) souq.Product {
		return souq.Product{ID: souq.ID(id), Name: souq.Localized{EN: en, AR: ar}, Brand: brand, Category: cat, Stock: stock, Prices: prices}
	}
	return map[souq.ID]souq.Product{
		"prd_oud":   p("prd_oud", "Royal Oud Perfume", "عطر العود الملكي", "Arabian Oud", "fragrance", 99, map[souq.MarketCode]int64{"AE": 45000, "SA": 46000}),
		"prd_cream": p("prd_cream", "Night Cream", "كريم الليل", "Nivea", "skincare", 99, map[souq.MarketCode]int64{"AE": 5000, "KW": 400}),
		"prd_mask":  p("prd_mask", "Sheet Mask", "قناع", "=cmd", "masks", 99, map[souq.MarketCode]int64{"AE": 1250}),
		"prd_soap":  p("prd_soap", "Soap, \"Rose\"", "صابون", "Dove", "bodycare", 99, map[souq.MarketCode]int64{"AE": 800}),
		"prd_gone":  p("prd_gone", "Lipstick", "أحمر شفاه", "Mac", "makeup", 99, map[souq.MarketCode]int64{"AE": 9900}),
	}
}

func warSale() souq.Sale {
	return souq.Sale{ID: "sal_1", Name: souq.Localized{EN: "White Friday", AR: "الجمعة البيضاء"}, StartsAt: saleStart, EndsAt: saleEnd,
		Units:  map[souq.ID]int{"prd_oud": 100, "prd_cream": 50, "prd_mask": 20},
		Prices: map[souq.ID]map[souq.MarketCode]int64{"prd_oud": {"AE": 36000}, "prd_cream": {"AE": 4000}, "prd_mask": {"AE": 1000}}}
}

// fakeCatalog is the shop's store as the panels read it.
type fakeCatalog struct {
	mu         sync.Mutex
	products   map[souq.ID]souq.Product
	stock      map[souq.ID]int
	sales      []souq.Sale
	now        func() time.Time
	err        error
	stockCalls atomic.Int64
	lowCalls   atomic.Int64
	salesCalls atomic.Int64
	stockIDs   []int    // how many ids each Stocks call asked for
	lookups    []string // the ids Product was asked for
}

func newFakeCatalog() *fakeCatalog {
	return &fakeCatalog{products: warProducts(), sales: []souq.Sale{warSale()}, now: func() time.Time { return t0 },
		stock: map[souq.ID]int{"prd_oud": 40, "prd_cream": 0, "prd_mask": 20, "prd_soap": 3, "prd_gone": 0}}
}

func (c *fakeCatalog) Product(_ context.Context, id string) (souq.Product, error) {
	c.mu.Lock()
	c.lookups = append(c.lookups, id)
	c.mu.Unlock()
	p, ok := c.products[souq.ID(id)]
	if !ok {
		return souq.Product{}, souq.ErrNotFound
	}
	return p, nil
}

func (c *fakeCatalog) Offer(_ context.Context, p souq.Product, m souq.Market) (catalog.Offer, error) {
	amount, sold := p.Prices[m.Code]
	o := catalog.Offer{Product: p, Market: m.Code, Price: souq.M(amount, m.Currency), RegularPrice: souq.M(amount, m.Currency), Sold: sold}
	for _, s := range c.sales {
		if sp, ok := s.Prices[p.ID][m.Code]; ok && s.ActiveAt(c.now()) && sold {
			o.Price, o.OnSale = souq.M(sp, m.Currency), true
		}
	}
	return o, nil
}

func (c *fakeCatalog) Stocks(_ context.Context, ids []souq.ID) (map[souq.ID]int, error) {
	c.stockCalls.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stockIDs = append(c.stockIDs, len(ids))
	if c.err != nil {
		return nil, c.err
	}
	out := map[souq.ID]int{}
	for _, id := range ids {
		if n, ok := c.stock[id]; ok {
			out[id] = n
		}
	}
	return out, nil
}

func (c *fakeCatalog) setStock(id souq.ID, n int) {
	c.mu.Lock()
	c.stock[id] = n
	c.mu.Unlock()
}

func (c *fakeCatalog) LowStock(_ context.Context, atMost, limit int) ([]catalog.StockLevel, error) {
	c.lowCalls.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	var out []catalog.StockLevel
	for id, n := range c.stock {
		if n <= atMost {
			out = append(out, catalog.StockLevel{ProductID: id, Stock: n})
		}
	}
	slices.SortFunc(out, func(a, b catalog.StockLevel) int {
		return cmp.Or(cmp.Compare(a.Stock, b.Stock), cmp.Compare(a.ProductID, b.ProductID))
	})
	return out[:min(len(out), limit)], nil
}

func (c *fakeCatalog) SalesEndingAfter(_ context.Context, t time.Time) ([]souq.Sale, error) {
	c.salesCalls.Add(1)
	var out []souq.Sale
	for _, s := range c.sales {
		if s.EndsAt.After(t) {
			out = append(out, s)
		}
	}
	return out, nil
}

// fakeFigures answers the analytics queries from hand-made rows per span.
type fakeFigures struct {
	spans    map[[2]time.Time][]analytics.ProductRow
	markets  map[string][]analytics.ProductRow // the last hour, by market filter
	audience analytics.AudienceFigures
	compare  analytics.Comparisons
	calls    atomic.Int64
	compares atomic.Int64
	mu       sync.Mutex
	queries  []analytics.ProductQuery
}

func prow(id string, views, adds, orders, units, aed int64) analytics.ProductRow {
	return analytics.ProductRow{ProductID: id, Counters: analytics.Counters{Views: views, AddEvents: adds, Orders: orders, Units: units, RevenueAED: aed}, NetRevenueAED: aed}
}

func newFakeFigures() *fakeFigures {
	hourFrom, hourTo := lastHour(t0)
	return &fakeFigures{
		spans: map[[2]time.Time][]analytics.ProductRow{
			{hourFrom, hourTo}: {prow("prd_oud", 500, 80, 50, 60, 2160000), prow("prd_cream", 300, 90, 45, 50, 200000),
				prow("prd_soap", 100, 5, 2, 2, 1600), prow("prd_unknown", 7, 0, 0, 0, 0)},
			// The sale so far: its complete minutes, then the one filling.
			{saleStart, t0.Truncate(time.Minute)}:            {prow("prd_oud", 400, 70, 49, 59, 2124000), prow("prd_cream", 200, 80, 45, 50, 200000)},
			{t0.Truncate(time.Minute), t0}:                   {prow("prd_oud", 0, 0, 1, 1, 36000)},
			{saleStart.Add(-(t0.Sub(saleStart))), saleStart}: {prow("prd_oud", 90, 9, 5, 5, 225000), prow("prd_cream", 50, 5, 10, 10, 50000)},
			// The last 15 minute buckets, the filling one included
			// (09:46–10:01): 14.5 minutes at t0.
			{saleRateFrom, saleRateTo}:      {prow("prd_oud", 100, 30, 25, 29, 1044000), prow("prd_cream", 50, 30, 14, 29, 116000)},
			{t0.Add(-15 * time.Minute), t0}: {prow("prd_oud", 100, 30, 25, 30, 1080000), prow("prd_cream", 50, 30, 14, 15, 60000)},
		},
		markets: map[string][]analytics.ProductRow{
			"KW": {prow("prd_cream", 10, 3, 2, 2, 23872)},
		},
		audience: sampleAudience(),
		compare:  sampleCompare(),
	}
}

func (f *fakeFigures) Products(_ context.Context, q analytics.ProductQuery) ([]analytics.ProductRow, error) {
	f.calls.Add(1)
	f.mu.Lock()
	f.queries = append(f.queries, q)
	f.mu.Unlock()
	if q.Market != "" {
		return f.markets[q.Market], nil
	}
	rows := f.spans[[2]time.Time{q.From, q.To}]
	if q.IDs == nil {
		return rows, nil
	}
	var out []analytics.ProductRow
	for _, r := range rows {
		if slices.Contains(q.IDs, r.ProductID) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeFigures) Audience(context.Context, time.Time) (analytics.AudienceFigures, error) {
	return f.audience, nil
}

func (f *fakeFigures) Compare(context.Context, time.Time) (analytics.Comparisons, error) {
	f.compares.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.compare, nil
}

func sampleAudience() analytics.AudienceFigures {
	hourFrom, _ := lastHour(t0)
	a := analytics.Audience{Visitors: 1000, Buyers: 50, Orders: 60, Units: 90, RevenueAED: 1234550, Conversion: 0.05, AverageOrderAED: 20576, UnitsPerOrder: 1.5}
	ae := analytics.Audience{Visitors: 600, Buyers: 30, Orders: 36, Units: 50, RevenueAED: 1000000, Conversion: 0.05, AverageOrderAED: 27778, UnitsPerOrder: 50.0 / 36}
	return analytics.AudienceFigures{At: t0, Windows: []analytics.AudienceWindow{
		{Window: "hour", From: hourFrom, To: t0, Total: a, Markets: []analytics.MarketAudience{{Market: "AE", Audience: ae}}},
	}, Minutes: []analytics.VisitorPoint{{Start: hourFrom, Visitors: 20, Buyers: 1}}}
}

func sampleCompare() analytics.Comparisons {
	return analytics.Comparisons{At: t0,
		Today:     analytics.Span{From: time.Date(2026, 3, 13, 20, 0, 0, 0, time.UTC), To: t0, Source: "hot"},
		Yesterday: analytics.Span{From: time.Date(2026, 3, 12, 20, 0, 0, 0, time.UTC), To: t0.Add(-24 * time.Hour), Source: "hot"},
		LastWeek:  analytics.Span{From: time.Date(2026, 3, 6, 20, 0, 0, 0, time.UTC), To: t0.Add(-7 * 24 * time.Hour), Source: "none"},
		Figures: []analytics.Comparison{
			{Figure: "revenue_aed", Today: 123450, Yesterday: f64(100000), VsYesterday: f64(0.2345)},
			{Figure: "conversion", Today: 0.05, Yesterday: f64(0.04), VsYesterday: f64(0.25)},
		}}
}

// fakeOutcomes are the checkout outcomes of the minutes asked for.
type fakeOutcomes struct {
	mu      sync.Mutex
	minutes []outcomes.Minute
}

func (o *fakeOutcomes) Minutes(_ context.Context, from, to time.Time) ([]outcomes.Minute, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []outcomes.Minute
	for _, m := range o.minutes {
		if !m.Start.Before(from) && m.Start.Before(to) {
			out = append(out, m)
		}
	}
	return out, nil
}

func (o *fakeOutcomes) set(ms []outcomes.Minute) {
	o.mu.Lock()
	o.minutes = ms
	o.mu.Unlock()
}

// warDeps wires the fakes into a test dashboard.
type warDeps struct {
	cat      *fakeCatalog
	figures  *fakeFigures
	outcomes *fakeOutcomes
}

func newWarTest(t *testing.T, edit func(*Deps)) (*Dashboard, warDeps, *fakeSource, http.Handler) {
	t.Helper()
	w := warDeps{cat: newFakeCatalog(), figures: newFakeFigures(), outcomes: &fakeOutcomes{}}
	d, src, h := newTest(t, func(d *Deps) {
		d.Catalog, d.ProductFigures, d.Audience, d.Compare, d.Outcomes = w.cat, w.figures, w.figures, w.figures, w.outcomes
		if edit != nil {
			edit(d)
		}
	})
	return d, w, src, h
}

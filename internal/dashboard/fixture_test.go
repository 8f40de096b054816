package dashboard

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/souq"
)

// t0 is when the fixture's figures were read: 14:00:30 in the Gulf.
var t0 = time.Date(2026, 3, 14, 10, 0, 30, 0, time.UTC)

// sampleSnapshot is a hand-made snapshot whose every figure is distinct,
// so a test can tell which one a page element shows.
func sampleSnapshot() analytics.Snapshot {
	from := t0.Truncate(time.Minute).Add(-59 * time.Minute)
	minutes := make([]analytics.MinutePoint, 60)
	for i := range minutes {
		minutes[i] = analytics.MinutePoint{Start: from.Add(time.Duration(i) * time.Minute),
			Views: int64(i), Orders: int64(i % 3), RevenueAED: int64(i) * 1000}
	}
	lastHour := analytics.Counters{Views: 1234, AddEvents: 300, AddUnits: 345, Checkouts: 120, Orders: 42, Units: 50, Searches: 2345, ZeroResultSearches: 117,
		RevenueAED: 1234567, CancelledAED: 1000}
	today := analytics.Counters{Views: 98765, AddEvents: 5000, AddUnits: 4321, Checkouts: 2000, Orders: 987, Units: 1100,
		RevenueAED: 98765432}
	period := func(orders, aed int64, local string) analytics.MarketPeriod {
		return analytics.MarketPeriod{Counters: analytics.Counters{Orders: orders, RevenueAED: aed}, NetRevenueAED: aed, RevenueLocal: local}
	}
	var markets []analytics.MarketFigures
	for i, m := range souq.Markets() {
		markets = append(markets, analytics.MarketFigures{Market: string(m.Code), Currency: m.Currency,
			Today: period(int64(10+i), int64(100000*(i+1)), "0.00"), LastHour: period(int64(i), int64(1000*(i+1)), "0.00")})
	}
	markets[0].Today = period(10, 987654, "9876.54")   // AE
	markets[3].Today = period(13, 1473600, "1234.500") // KW
	markets[3].LastHour = period(3, 149200, "125.000") // KW
	product := func(rank int, id string, views, adds, orders, aed int64) analytics.TrendingProduct {
		return analytics.TrendingProduct{Rank: rank, ProductID: id, Score: views + 3*adds + 10*orders,
			Views: views, AddEvents: adds, AddUnits: adds, Orders: orders, Units: orders, RevenueAED: aed}
	}
	return analytics.Snapshot{
		At: t0, Watermark: t0.Add(-2 * time.Second), MaxSeq: 4242,
		LastHour:  analytics.Row{Name: analytics.All, Counters: lastHour, NetRevenueAED: lastHour.NetAED()},
		TodayFrom: time.Date(2026, 3, 13, 20, 0, 0, 0, time.UTC),
		Today:     analytics.Row{Name: analytics.All, Counters: today, NetRevenueAED: today.NetAED()},
		Minutes:   minutes,
		Markets:   markets,
		Trending: []analytics.Trending{
			{Window: "5m", From: t0.Truncate(time.Minute).Add(-4 * time.Minute), Products: []analytics.TrendingProduct{
				product(1, "prd_oud", 40, 7, 3, 44760), product(2, "prd_nameless", 9, 1, 0, 0)}},
			{Window: "15m", From: t0.Truncate(time.Minute).Add(-14 * time.Minute), Products: []analytics.TrendingProduct{
				product(1, "prd_cream", 120, 20, 9, 90000)}},
			{Window: "60m", From: from, Products: []analytics.TrendingProduct{}},
		},
		Funnel: analytics.FunnelOf(lastHour),
		Categories: []analytics.Row{
			{Name: "fragrance", Counters: analytics.Counters{Views: 700, AddUnits: 90, Orders: 30, Units: 35, RevenueAED: 900000}},
			{Name: "skincare", Counters: analytics.Counters{Views: 534, AddUnits: 80, Orders: 12, Units: 15, RevenueAED: 334567}},
		},
		Cities: []analytics.Row{
			{Name: "Dubai", Counters: analytics.Counters{Orders: 20, Units: 22, RevenueAED: 700000}},
			{Name: "unknown", Counters: analytics.Counters{Views: 1234}},
		},
	}
}

var sampleHealth = PipelineHealth{IngestPerSecond: 1234.5, StreamMessages: 100000, StreamLag: 12, ArchiveLag: 345,
	ArchiveFiles: 7, DeadLetters: 2, LastArchivedSeq: 99655, ProcessingDelay: 2500 * time.Millisecond, Status: "ok"}

var sampleNames = map[string]souq.Localized{
	"prd_oud":   {EN: "Royal Oud Perfume", AR: "عطر العود الملكي"},
	"prd_cream": {EN: "Night Cream"},
}

// fakeSource returns the fixture (or err) and counts its calls.
type fakeSource struct {
	mu    sync.Mutex
	snap  analytics.Snapshot
	err   error
	calls atomic.Int64
}

func (f *fakeSource) Snapshot(ctx context.Context, now time.Time) (analytics.Snapshot, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap, f.err
}

func (f *fakeSource) fail(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

type fakeHealth struct{ err error }

func (f fakeHealth) Health(context.Context) (PipelineHealth, error) { return sampleHealth, f.err }

type fakeNames map[string]souq.Localized

func (f fakeNames) ProductName(_ context.Context, id string) (souq.Localized, bool) {
	n, ok := f[id]
	return n, ok
}

var errStore = errors.New("hot store unreachable")

// newTest returns a dashboard over the fixture and a mux serving its
// routes; edit changes the Deps first. The dashboard is closed when the
// test ends.
func newTest(t *testing.T, edit func(*Deps)) (*Dashboard, *fakeSource, http.Handler) {
	t.Helper()
	src := &fakeSource{snap: sampleSnapshot()}
	deps := Deps{Source: src, Health: fakeHealth{}, Products: fakeNames(sampleNames), Now: func() time.Time { return t0 }}
	if edit != nil {
		edit(&deps)
	}
	d := New(deps)
	t.Cleanup(d.Close)
	mux := http.NewServeMux()
	for _, r := range d.Routes() {
		mux.Handle(r.Pattern, r.Handler)
	}
	return d, src, mux
}

// HTML helpers.

func parseHTML(t *testing.T, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return doc
}

func walk(n *html.Node, visit func(*html.Node)) {
	visit(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, visit)
	}
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func byID(doc *html.Node, id string) *html.Node {
	var found *html.Node
	walk(doc, func(n *html.Node) {
		if v, ok := attr(n, "id"); ok && v == id && found == nil {
			found = n
		}
	})
	return found
}

// text is the text of n with runs of white space made one space.
func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

func elements(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	walk(n, func(c *html.Node) {
		if c.Type == html.ElementNode && c.Data == tag {
			out = append(out, c)
		}
	})
	return out
}

// cells is the text of each cell of a table row, joined with " | ".
func cells(tr *html.Node) string {
	var out []string
	for c := tr.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
			out = append(out, text(c))
		}
	}
	return strings.Join(out, " | ")
}

// f64 is a pointer to v, for the comparisons' optional figures.
func f64(v float64) *float64 { return &v }

// sampleUpdate is the fixture snapshot with every war-room panel filled:
// two alerts, a running sale with a sold-out item, comparisons up, down,
// level and unknown, visitors, stock lists and three product rows (one
// named in English only, one in Arabic only).
func sampleUpdate() Update {
	soldOutAt := t0.Add(-5 * time.Minute)
	runsOutAt := t0.Add(42 * time.Minute)
	health := sampleHealth
	snap := sampleSnapshot()
	snap.Brands = []analytics.Row{
		{Name: "Lumi", Counters: analytics.Counters{Views: 120, AddUnits: 20, Orders: 9, Units: 9, RevenueAED: 90000}},
		{Name: "Oud House", Counters: analytics.Counters{Views: 340, AddUnits: 9, Orders: 4, Units: 4, RevenueAED: 49760}},
	}
	return Update{
		Snapshot: snap,
		Health:   &health,
		Names:    sampleNames,
		Alerts: []Alert{
			{ID: "checkout_errors", Kind: "checkout_errors", Severity: "warning", Value: 0.06, Threshold: 0.05,
				Since: t0.Add(-3 * time.Minute), Message: souq.Localized{EN: "Checkout errors at 6.0% (over 5.0%)", AR: "أخطاء الدفع 6.0% (أكثر من 5.0%)"}},
			{ID: "sold_out:prd_oud", Kind: "sold_out", Severity: "critical", Subject: "prd_oud",
				Since: soldOutAt, Message: souq.Localized{EN: "Royal Oud Perfume sold out", AR: "نفد عطر العود الملكي"}},
		},
		Sale: &SalePanel{ID: "sale_white_friday", Name: souq.Localized{EN: "White Friday", AR: "الجمعة البيضاء"},
			StartsAt: t0.Add(-time.Hour), EndsAt: t0.Add(time.Hour + 2*time.Minute + 3*time.Second), Running: true, SecondsLeft: 3723,
			During: SaleFigures{Orders: 120, Units: 150, RevenueAED: 4500000},
			Before: SaleFigures{Orders: 40, Units: 60, RevenueAED: 1500000},
			Items: []SaleItem{
				{ProductID: "prd_cream", Name: souq.Localized{EN: "Night Cream"}, Brand: "Lumi", Offered: 50, Stock: 15, Sold: 35,
					SellThrough: 0.7, UnitsPerMinute: 2.5, SoldOutAt: &runsOutAt},
				{ProductID: "prd_oud", Name: sampleNames["prd_oud"], Brand: "Oud House", Offered: 20, Stock: 0, Sold: 20,
					SellThrough: 1, SoldOut: true},
			}},
		Compare: &analytics.Comparisons{At: t0, Figures: []analytics.Comparison{
			{Figure: "revenue_aed", Today: 98765432, Yesterday: f64(87654321), LastWeek: f64(123456789), VsYesterday: f64(0.12676), VsLastWeek: f64(-0.2)},
			{Figure: "orders", Today: 987, Yesterday: f64(987), LastWeek: nil, VsYesterday: f64(0), VsLastWeek: nil},
			{Figure: "conversion", Today: 0.034, Yesterday: f64(0.03), LastWeek: f64(0.04), VsYesterday: f64(0.13333), VsLastWeek: f64(-0.15)},
		}},
		Audience: &analytics.AudienceFigures{At: t0, Windows: []analytics.AudienceWindow{
			{Window: "minute", Total: analytics.Audience{Visitors: 321, Buyers: 12, Orders: 13, Units: 15, RevenueAED: 65000,
				Conversion: 12.0 / 321, AverageOrderAED: 5000, UnitsPerOrder: 15.0 / 13}},
			{Window: "hour", Total: analytics.Audience{Visitors: 4567, Buyers: 40, Orders: 42, Units: 50, RevenueAED: 1234567,
				Conversion: 40.0 / 4567, AverageOrderAED: 29394, UnitsPerOrder: 50.0 / 42},
				Markets: []analytics.MarketAudience{
					{Market: "AE", Audience: analytics.Audience{Visitors: 3000, Buyers: 30, Conversion: 0.01, AverageOrderAED: 30000, UnitsPerOrder: 1.25}},
					{Market: "KW", Audience: analytics.Audience{Visitors: 1567, Buyers: 10, Conversion: 10.0 / 1567, AverageOrderAED: 27000, UnitsPerOrder: 1}},
				}},
			{Window: "day", Total: analytics.Audience{Visitors: 54321, Buyers: 900, Orders: 987, Units: 1100, RevenueAED: 98765432,
				Conversion: 900.0 / 54321, AverageOrderAED: 100066, UnitsPerOrder: 1100.0 / 987}},
		}},
		Stock: &StockPanel{Threshold: 5,
			Watch: []StockRow{{ProductID: "prd_cream", Name: souq.Localized{EN: "Night Cream"}, Brand: "Lumi", Stock: 15, UnitsLastHour: 30, OnSale: true}},
			Low:   []StockRow{{ProductID: "prd_musk", Name: souq.Localized{AR: "مسك أبيض"}, Brand: "Oud House", Stock: 3, UnitsLastHour: 4}},
			Out:   []StockRow{{ProductID: "prd_oud", Name: sampleNames["prd_oud"], Brand: "Oud House", Stock: 0, UnitsLastHour: 20, OnSale: true}},
		},
		Products: []ProductTableRow{
			{ProductID: "prd_oud", Name: sampleNames["prd_oud"], Brand: "Oud House", Category: "fragrance",
				Price: souq.M(22380, souq.AED), Views: 40, AddEvents: 7, Orders: 3, Units: 3, RevenueAED: 44760, Stock: 0},
			{ProductID: "prd_cream", Name: souq.Localized{EN: "Night Cream"}, Brand: "Lumi", Category: "skincare",
				Price: souq.M(10000, souq.AED), Views: 120, AddEvents: 20, Orders: 9, Units: 9, RevenueAED: 90000, Stock: 15},
			{ProductID: "prd_musk", Name: souq.Localized{AR: "مسك أبيض"}, Brand: "Oud House", Category: "fragrance",
				Price: souq.M(5000, souq.AED), Views: 300, AddEvents: 2, Orders: 1, Units: 1, RevenueAED: 5000, Stock: 3},
		},
	}
}

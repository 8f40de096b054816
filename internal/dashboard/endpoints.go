package dashboard

import (
	"cmp"
	"context"
	"net/http"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/souq"
)

// The war room's JSON and CSV under /api/v1/analytics/ (the product
// table's is in products.go). Each computes its figure for the request
// from the same sources as the push, and answers 503 "this server does
// not report …" when its source is not configured.

// notReported answers for a figure whose source this server lacks.
func notReported(w http.ResponseWriter, r *http.Request, what string) {
	writeProblem(w, r, http.StatusServiceUnavailable, "", "this server does not report "+what)
}

// AudienceResponse is the body of GET /api/v1/analytics/audience.
type AudienceResponse struct {
	analytics.AudienceFigures
	Query *Query `json:"query"`
}

func (d *Dashboard) handleAudience() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asCSV, ok := wantCSV(w, r)
		if !ok {
			return
		}
		if d.audience == nil {
			notReported(w, r, "visitor figures")
			return
		}
		a := d.audienceFigures(r.Context(), d.now())
		if a == nil {
			unavailable(w, r)
			return
		}
		if asCSV {
			var rows [][]string
			for _, win := range a.Windows {
				rows = append(rows, audienceRow(win, "all", win.Total))
				for _, m := range win.Markets {
					rows = append(rows, audienceRow(win, m.Market, m.Audience))
				}
			}
			writeCSV(w, "audience", a.At, audienceHeader, rows)
			return
		}
		out := *a
		if out.Windows == nil {
			out.Windows = []analytics.AudienceWindow{}
		}
		if out.Minutes == nil {
			out.Minutes = []analytics.VisitorPoint{}
		}
		spans := make([]namedSpan, len(a.Windows))
		for i, win := range a.Windows {
			spans[i] = namedSpan{win.Window, win.From, win.To}
		}
		encode(w, AudienceResponse{AudienceFigures: out, Query: totalsQuery(spans, true)})
	})
}

var audienceHeader = []string{"window", "from", "to", "market", "visitors", "buyers", "orders", "units", "revenue_aed", "conversion", "average_order_aed", "units_per_order"}

func audienceRow(win analytics.AudienceWindow, market string, a analytics.Audience) []string {
	return []string{win.Window, timeCell(win.From), timeCell(win.To), market, intCell(a.Visitors), intCell(a.Buyers),
		intCell(a.Orders), intCell(a.Units), aedCell(a.RevenueAED), floatCell(a.Conversion), aedCell(a.AverageOrderAED), floatCell(a.UnitsPerOrder)}
}

// CompareResponse is the body of GET /api/v1/analytics/compare.
type CompareResponse struct {
	analytics.Comparisons
	Query *Query `json:"query"`
}

// moneyFigures are the comparisons' figures in fils.
var moneyFigures = map[string]bool{"revenue_aed": true, "average_order_aed": true}

func (d *Dashboard) handleCompare() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asCSV, ok := wantCSV(w, r)
		if !ok {
			return
		}
		if d.compare == nil {
			notReported(w, r, "comparisons")
			return
		}
		c := d.comparisons(r.Context(), d.now())
		if c == nil {
			unavailable(w, r)
			return
		}
		if asCSV {
			rows := make([][]string, len(c.Figures))
			for i, f := range c.Figures {
				val := func(v *float64) string {
					if v != nil && moneyFigures[f.Figure] {
						return aedCell(int64(*v))
					}
					return ptrCell(v)
				}
				today := f.Today
				rows[i] = []string{f.Figure, val(&today), val(f.Yesterday), val(f.LastWeek), ptrCell(f.VsYesterday), ptrCell(f.VsLastWeek)}
			}
			writeCSV(w, "compare", c.At, []string{"figure", "today", "yesterday", "last_week", "vs_yesterday", "vs_last_week"}, rows)
			return
		}
		out := *c
		if out.Figures == nil {
			out.Figures = []analytics.Comparison{}
		}
		q := totalsQuery([]namedSpan{{"today", c.Today.From, c.Today.To}, {"yesterday", c.Yesterday.From, c.Yesterday.To},
			{"last_week", c.LastWeek.From, c.LastWeek.To}}, false)
		encode(w, CompareResponse{Comparisons: out, Query: q})
	})
}

// SaleResponse is the body of GET /api/v1/analytics/sale.
type SaleResponse struct {
	Sale  *SalePanel `json:"sale"`
	Query *Query     `json:"query"`
}

func (d *Dashboard) handleSale() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang, ok := langParam(w, r)
		if !ok {
			return
		}
		asCSV, ok := wantCSV(w, r)
		if !ok {
			return
		}
		if d.catalog == nil || d.figures == nil {
			notReported(w, r, "sale figures")
			return
		}
		now := d.now()
		sales, ok := d.sales(r.Context(), now)
		if !ok {
			unavailable(w, r)
			return
		}
		var p *SalePanel
		if _, any := pickSale(sales, now); any {
			if p = d.salePanel(r.Context(), now); p == nil {
				unavailable(w, r)
				return
			}
		}
		if asCSV {
			var rows [][]string
			if p != nil {
				for _, it := range p.Items {
					soldOutAt := ""
					if it.SoldOutAt != nil {
						soldOutAt = timeCell(*it.SoldOutAt)
					}
					rows = append(rows, []string{string(it.ProductID), it.Name.In(lang), it.Brand, intCell(it.Offered), intCell(it.Stock),
						intCell(it.Sold), floatCell(it.SellThrough), floatCell(it.UnitsPerMinute), soldOutAt, boolCell(it.SoldOut)})
				}
			}
			writeCSV(w, "sale", now, []string{"product_id", "name", "brand", "offered", "stock", "sold", "sell_through", "units_per_minute", "sold_out_at", "sold_out"}, rows)
			return
		}
		out := SaleResponse{Sale: p}
		if p != nil {
			ids := make([]string, len(p.Items))
			for i, it := range p.Items {
				ids[i] = string(it.ProductID)
			}
			out.Query = productQuery(p.During.From, p.During.To, "", "", ids)
		}
		encode(w, out)
	})
}

// StockResponse is the body of GET /api/v1/analytics/stock.
type StockResponse struct {
	Threshold int        `json:"threshold"`
	List      string     `json:"list"`
	Rows      []StockRow `json:"rows"`
	// Truncated reports, for the low and out lists, that more products
	// are in the list than the 200 it holds (false for watch).
	Truncated bool   `json:"truncated"`
	Query     *Query `json:"query"`
}

// sharedStock is the stock panel of the shared update; when the update
// cannot be computed (its snapshot failed), the panel alone.
func (d *Dashboard) sharedStock(ctx context.Context, now time.Time) *StockPanel {
	if u, err := d.sharedUpdate(ctx); err == nil {
		return u.Stock
	}
	return d.stockPanel(ctx, now, d.hourRows(ctx, now), d.salePanel(ctx, now))
}

func (d *Dashboard) handleStock() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list := cmp.Or(r.URL.Query().Get("list"), "watch")
		if list != "watch" && list != "low" && list != "out" {
			badParam(w, r, "list", list, "watch, low or out")
			return
		}
		lang, ok := langParam(w, r)
		if !ok {
			return
		}
		asCSV, ok := wantCSV(w, r)
		if !ok {
			return
		}
		if d.catalog == nil {
			notReported(w, r, "stock")
			return
		}
		now := d.now()
		p := d.sharedStock(r.Context(), now)
		if p == nil {
			unavailable(w, r)
			return
		}
		rows := map[string][]StockRow{"watch": p.Watch, "low": p.Low, "out": p.Out}[list]
		if asCSV {
			out := make([][]string, len(rows))
			for i, s := range rows {
				out[i] = []string{string(s.ProductID), s.Name.In(lang), s.Brand, intCell(s.Stock), intCell(s.UnitsLastHour), boolCell(s.OnSale)}
			}
			writeCSV(w, "stock-"+list, now, []string{"product_id", "name", "brand", "stock", "units_last_hour", "on_sale"}, out)
			return
		}
		ids := make([]string, len(rows))
		for i, s := range rows {
			ids[i] = string(s.ProductID)
		}
		from, to := lastHour(now)
		truncated := map[string]bool{"low": p.LowTruncated, "out": p.OutTruncated}[list]
		encode(w, StockResponse{Threshold: p.Threshold, List: list, Rows: rows, Truncated: truncated, Query: productQuery(from, to, "", "", ids)})
	})
}

// AlertsResponse is the body of GET /api/v1/analytics/alerts.
type AlertsResponse struct {
	At     time.Time    `json:"at"`
	Active []Alert      `json:"active"`
	Events []AlertEvent `json:"events"`
	Query  *Query       `json:"query"`
}

// handleAlerts answers the active alerts and the events after ?since=.
// When no push has judged the alerts within the last interval (no page
// is open), it computes an update to judge them.
func (d *Dashboard) handleAlerts() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var since time.Time
		if s := r.URL.Query().Get("since"); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				badParam(w, r, "since", s, "an RFC 3339 time such as 2026-01-02T15:04:05Z")
				return
			}
			since = t
		}
		lang, ok := langParam(w, r)
		if !ok {
			return
		}
		asCSV, ok := wantCSV(w, r)
		if !ok {
			return
		}
		now := d.now()
		active, at := d.alerts.lastJudged()
		if !fresh(at, now, d.interval) {
			u, err := d.sharedUpdate(r.Context())
			if err != nil {
				unavailable(w, r)
				return
			}
			active = u.Alerts
		}
		events := d.alerts.eventsAfter(since)
		if asCSV {
			rows := make([][]string, len(events))
			for i, e := range events {
				a := e.Alert
				rows[i] = []string{timeCell(e.At), e.State, a.ID, a.Kind, a.Severity, string(a.Subject), floatCell(a.Value),
					floatCell(a.Threshold), timeCell(a.Since), a.Message.In(lang)}
			}
			writeCSV(w, "alerts", now, []string{"at", "state", "id", "kind", "severity", "subject", "value", "threshold", "since", "message"}, rows)
			return
		}
		if active == nil {
			active = []Alert{}
		}
		from, to := lastHour(now)
		encode(w, AlertsResponse{At: now, Active: active, Events: events, Query: alertQuery(from, to)})
	})
}

// namedOr returns the product's name in lang, or its id.
func namedOr(n *souq.Localized, id string, lang souq.Lang) string {
	if n == nil {
		return id
	}
	return cmp.Or(n.In(lang), id)
}

package dashboard

import (
	"net/http"
	"slices"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/httpjson"
	"github.com/souq-commerce/souq/internal/souq"
)

// writeProblem answers with a problem document; typ names the problem
// type under urn:souq:problem: as the rest of the API does ("" for
// about:blank).
func writeProblem(w http.ResponseWriter, r *http.Request, status int, typ, detail string) {
	p := httpjson.Problem{Status: status, Detail: detail, Instance: r.URL.Path}
	if typ != "" {
		p.Type = httpjson.ProblemTypePrefix + typ
	}
	httpjson.WriteProblem(w, p)
}

// encode answers with v as JSON.
func encode(w http.ResponseWriter, v any) { httpjson.Encode(w, http.StatusOK, v) }

// unauthorized answers a request Authorize turned down.
func unauthorized(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="souq"`)
	writeProblem(w, r, http.StatusUnauthorized, "unauthorized",
		"send the admin token as Authorization: Bearer <token>, or sign in at /dashboard")
}

// unavailable answers when the figures cannot be read (the cause is
// logged by the dashboard, not shown).
func unavailable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "1")
	writeProblem(w, r, http.StatusServiceUnavailable, "", "the figures are unavailable just now; see the server log")
}

// guard lets a request through when Authorize allows it, and answers 401
// with a problem document otherwise.
func (d *Dashboard) guard(next http.Handler) http.Handler {
	if d.authorize == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !d.authorize(r) {
			unauthorized(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (d *Dashboard) handleSnapshot() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap, err := d.snapshot(r.Context())
		if err != nil {
			unavailable(w, r)
			return
		}
		encode(w, snap)
	})
}

func (d *Dashboard) handleHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.health == nil {
			writeProblem(w, r, http.StatusServiceUnavailable, "", "this server does not report pipeline health")
			return
		}
		h, ok := d.pipelineHealth(r.Context())
		if !ok {
			unavailable(w, r)
			return
		}
		encode(w, h)
	})
}

// Windows are the trending windows, shortest first.
var windows = []string{"5m", "15m", "60m"}

// TrendingResponse is the body of GET /api/v1/analytics/trending.
type TrendingResponse struct {
	At       time.Time      `json:"at"`
	Window   string         `json:"window"`
	From     time.Time      `json:"from"`
	Products []NamedProduct `json:"products"`
	// Query computes the window's per-product counters from the archive
	// (the score is views + 3 × add_events + 10 × orders).
	Query *Query `json:"query"`
}

// NamedProduct is a trending product with its name, when the catalogue
// knows it.
type NamedProduct struct {
	analytics.TrendingProduct
	Name *souq.Localized `json:"name,omitempty"`
}

// handleTrending answers the top products of one window: ?window=5m
// (the default), 15m or 60m.
func (d *Dashboard) handleTrending() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		window := r.URL.Query().Get("window")
		if window == "" {
			window = windows[0]
		}
		if !slices.Contains(windows, window) {
			writeProblem(w, r, http.StatusBadRequest, "bad-request", `window must be 5m, 15m or 60m, not "`+window+`"`)
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
		snap, err := d.snapshot(r.Context())
		if err != nil {
			unavailable(w, r)
			return
		}
		out := TrendingResponse{At: snap.At, Window: window, Products: []NamedProduct{}}
		for _, t := range snap.Trending {
			if t.Window != window {
				continue
			}
			out.From = t.From
			names := d.names(r.Context(), []analytics.Trending{t})
			for _, p := range t.Products {
				np := NamedProduct{TrendingProduct: p}
				if n, ok := names[p.ProductID]; ok {
					np.Name = &n
				}
				out.Products = append(out.Products, np)
			}
		}
		if asCSV {
			rows := make([][]string, len(out.Products))
			for i, p := range out.Products {
				rows[i] = []string{intCell(p.Rank), p.ProductID, namedOr(p.Name, p.ProductID, lang), intCell(p.Score), intCell(p.Views),
					intCell(p.AddEvents), intCell(p.AddUnits), intCell(p.Orders), intCell(p.Units), aedCell(p.RevenueAED)}
			}
			writeCSV(w, "trending-"+window, snap.At, []string{"rank", "product_id", "name", "score", "views", "add_events", "add_units", "orders", "units", "revenue_aed"}, rows)
			return
		}
		if !out.From.IsZero() {
			out.Query = productQuery(out.From, snap.At, "", "", nil)
		}
		encode(w, out)
	})
}

// MarketsResponse is the body of GET /api/v1/analytics/markets.
type MarketsResponse struct {
	At        time.Time                 `json:"at"`
	Watermark time.Time                 `json:"watermark"`
	TodayFrom time.Time                 `json:"today_from"`
	Markets   []analytics.MarketFigures `json:"markets"`
	// Query computes the markets' figures today and in the last hour
	// from the archive.
	Query *Query `json:"query"`
}

func (d *Dashboard) handleMarkets() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asCSV, ok := wantCSV(w, r)
		if !ok {
			return
		}
		snap, err := d.snapshot(r.Context())
		if err != nil {
			unavailable(w, r)
			return
		}
		out := MarketsResponse{At: snap.At, Watermark: snap.Watermark, TodayFrom: snap.TodayFrom, Markets: snap.Markets}
		if out.Markets == nil {
			out.Markets = []analytics.MarketFigures{}
		}
		if asCSV {
			rows := make([][]string, len(out.Markets))
			for i, m := range out.Markets {
				rows[i] = []string{m.Market, string(m.Currency),
					intCell(m.Today.Orders), intCell(m.Today.Units), aedCell(m.Today.RevenueAED), m.Today.RevenueLocal, aedCell(m.Today.NetRevenueAED),
					intCell(m.LastHour.Orders), intCell(m.LastHour.Units), aedCell(m.LastHour.RevenueAED), m.LastHour.RevenueLocal, aedCell(m.LastHour.NetRevenueAED)}
			}
			writeCSV(w, "markets", snap.At, []string{"market", "currency",
				"today_orders", "today_units", "today_revenue_aed", "today_revenue_local", "today_net_revenue_aed",
				"last_hour_orders", "last_hour_units", "last_hour_revenue_aed", "last_hour_revenue_local", "last_hour_net_revenue_aed"}, rows)
			return
		}
		var hourFrom time.Time
		if len(snap.Minutes) > 0 {
			hourFrom = snap.Minutes[0].Start
		} else {
			hourFrom, _ = lastHour(snap.At)
		}
		out.Query = totalsQuery([]namedSpan{{"today", snap.TodayFrom, snap.At}, {"last_hour", hourFrom, snap.At}}, true)
		encode(w, out)
	})
}

// FunnelResponse is the body of GET /api/v1/analytics/funnel: the funnel
// of the minute buckets starting in [From, To).
type FunnelResponse struct {
	At        time.Time        `json:"at"`
	Watermark time.Time        `json:"watermark"`
	From      time.Time        `json:"from"`
	To        time.Time        `json:"to"`
	Funnel    analytics.Funnel `json:"funnel"`
}

func (d *Dashboard) handleFunnel() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap, err := d.snapshot(r.Context())
		if err != nil {
			unavailable(w, r)
			return
		}
		out := FunnelResponse{At: snap.At, Watermark: snap.Watermark, Funnel: snap.Funnel}
		if n := len(snap.Minutes); n > 0 {
			out.From, out.To = snap.Minutes[0].Start, snap.Minutes[n-1].Start.Add(time.Minute)
		}
		encode(w, out)
	})
}

package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/bidi"
	"github.com/souq-commerce/souq/internal/souq"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

var (
	pageTemplate = template.Must(template.New("dashboard.html").Funcs(template.FuncMap{
		// An Arabic name is shown in a right-to-left span.
		"bidiRTL": func(s string) template.HTML { return bidi.HTML("rtl", s) }}).
		ParseFS(templateFS, "templates/dashboard.html"))
	unauthorizedTemplate = template.Must(template.ParseFS(templateFS, "templates/unauthorized.html"))
)

// asset is one embedded static file.
type asset struct {
	body        []byte
	contentType string
	version     string // a hash of body: the ?v= of the page's links and the ETag
}

var assets = loadAssets()

func loadAssets() map[string]asset {
	types := map[string]string{
		".css": "text/css; charset=utf-8",
		".js":  "text/javascript; charset=utf-8",
		".svg": "image/svg+xml",
	}
	entries, err := staticFS.ReadDir("static")
	if err != nil {
		panic(err)
	}
	out := map[string]asset{}
	for _, e := range entries {
		body, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			panic(err)
		}
		ct, ok := types[path.Ext(e.Name())]
		if !ok {
			panic("dashboard: no content type for static/" + e.Name())
		}
		sum := sha256.Sum256(body)
		out[e.Name()] = asset{body: body, contentType: ct, version: hex.EncodeToString(sum[:6])}
	}
	return out
}

// staticURL is the address of an embedded file, versioned so that it can
// be cached for good.
func staticURL(name string) string {
	return "/dashboard/static/" + name + "?v=" + assets[name].version
}

// handleStatic serves the embedded style sheet and script. A request with
// the current ?v= may be cached for a year; any other is revalidated with
// the ETag.
func handleStatic() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets[r.PathValue("file")]
		if !ok {
			writeProblem(w, r, http.StatusNotFound, "not-found", "no such dashboard file")
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("ETag", `"`+a.version+`"`)
		if r.URL.Query().Get("v") == a.version {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	})
}

// guardPage is guard for the HTML page: a 401 answer is a short page
// with the sign-in form (when Login is set).
func (d *Dashboard) guardPage(next http.Handler) http.Handler {
	if d.authorize == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !d.authorize(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="souq"`)
			writeUnauthorizedPage(w, d.login != nil, "")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeUnauthorizedPage(w http.ResponseWriter, login bool, message string) {
	var buf bytes.Buffer
	_ = unauthorizedTemplate.Execute(&buf, map[string]any{"CSS": staticURL("dashboard.css"), "Login": login, "Message": message})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write(buf.Bytes())
}

// handlePage renders the dashboard with the figures of now, so that it
// shows numbers before (and without) the script. When they cannot be
// read it renders the page empty with a notice and status 503; the
// script fills it in once they can.
func (d *Dashboard) handlePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := d.update(r.Context())
		status := http.StatusOK
		if err != nil {
			status = http.StatusServiceUnavailable
		}
		var buf bytes.Buffer
		if err := pageTemplate.Execute(&buf, d.view(u, err != nil)); err != nil {
			d.log.Error("render dashboard", "err", err)
			writeProblem(w, r, http.StatusInternalServerError, "", "the page could not be rendered; it has been logged")
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_, _ = w.Write(buf.Bytes())
	})
}

// The page's view model: every figure already formatted.
type (
	pageView struct {
		Unavailable      bool
		CSS, JS          string
		Zone             string
		OffsetMinutes    int
		At, AtISO        string
		Watermark, WMISO string
		Behind           string
		Tiles            []tileView
		Charts           []chartView
		Minutes          []minuteRow
		Markets          []marketRow
		Trending         []trendView
		Funnel           []stageView
		Overall          string
		Searches         string // in the last 60 minutes
		ZeroSearches     string // of them, those that found nothing
		Categories       dimTable
		Cities           dimTable
		Health           healthView
		MaxSeq           string
		TodayFrom        string
	}
	tileView  struct{ ID, Label, Hour, Today string }
	chartView struct {
		ID, Title        string
		Line, Area, Peak string
		Label, Latest    string
	}
	minuteRow struct{ Time, Views, Orders, Revenue string }
	marketRow struct {
		Code, Name                        string
		TodayLocal, TodayAED, TodayOrders string
		HourLocal, HourAED, HourOrders    string
		Hidden                            bool
	}
	trendView struct {
		Window, Title string
		Rows          []trendRow
	}
	trendRow struct {
		Rank, ID, EN, AR             string
		Views, Adds, Orders, Revenue string
	}
	stageView struct{ ID, Label, Count, Step, OfViews, Width string }
	dimTable  struct {
		ID, Title, Column string
		Rows              []dimRow
		Count             string // how many members in all
	}
	dimRow     struct{ Name, Views, AddUnits, Orders, Units, Revenue string }
	healthView struct {
		State                           string
		Ingest, Stream, Lag, ArchiveLag string
		Files, Dead, Seq, Delay         string
		Missing                         string
		DeadWarn, DelayWarn, Failing    bool
		MissingWarn                     bool
		Errors                          []string
	}
)

// Page limits and thresholds, shared with the script.
const (
	maxDimRows = 12               // rows of the category and city tables
	slowDelay  = 60 * time.Second // processing delay shown as a warning
	chartW     = 600.0            // the charts' viewBox
	chartH     = 150.0
)

func (d *Dashboard) view(u Update, unavailable bool) pageView {
	s := u.Snapshot
	_, offset := d.now().In(d.loc).Zone()
	v := pageView{
		Unavailable: unavailable,
		CSS:         staticURL("dashboard.css"), JS: staticURL("dashboard.js"),
		Zone: zoneName(d.loc, d.now()), OffsetMinutes: offset / 60,
		At: fmtClock(s.At, d.loc), AtISO: isoOrEmpty(s.At),
		Watermark: fmtClock(s.Watermark, d.loc), WMISO: isoOrEmpty(s.Watermark),
		Behind:    behind(s),
		MaxSeq:    fmtInt(int64(s.MaxSeq)),
		Overall:   fmtPct(s.Funnel.ViewToOrder),
		TodayFrom: none,
		Searches:  fmtInt(s.LastHour.Searches), ZeroSearches: fmtInt(s.LastHour.ZeroResultSearches),
	}
	if !s.TodayFrom.IsZero() {
		v.TodayFrom = s.TodayFrom.In(d.loc).Format("15:04")
	}
	if unavailable {
		v.MaxSeq, v.Overall, v.Searches, v.ZeroSearches = none, none, none, none
	}
	v.Tiles = tiles(s)
	v.Charts = charts(s.Minutes)
	for i := len(s.Minutes) - 1; i >= 0; i-- {
		m := s.Minutes[i]
		v.Minutes = append(v.Minutes, minuteRow{Time: m.Start.In(d.loc).Format("15:04"),
			Views: fmtInt(m.Views), Orders: fmtInt(m.Orders), Revenue: fmtAED(m.RevenueAED)})
	}
	v.Markets = marketRows(s.Markets)
	v.Trending = trendViews(s.Trending, u.Names)
	v.Funnel = funnelStages(s.Funnel)
	v.Categories = dimTableOf("cat", "Categories", "Category", s.Categories)
	v.Cities = dimTableOf("city", "Cities", "City", s.Cities)
	v.Health = healthViewOf(u.Health)
	return v
}

func zoneName(loc *time.Location, now time.Time) string {
	name, _ := now.In(loc).Zone()
	return name
}

func isoOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// behind says how far the figures trail the time they were read at.
func behind(s analytics.Snapshot) string {
	if s.Watermark.IsZero() {
		return "no events yet"
	}
	return fmtAge(s.At.Sub(s.Watermark)) + " behind"
}

func tiles(s analytics.Snapshot) []tileView {
	conv := func(r analytics.Row) string { return fmtPct(analytics.FunnelOf(r.Counters).ViewToOrder) }
	h, t := s.LastHour, s.Today
	return []tileView{
		{"orders", "Orders", fmtInt(h.Orders), fmtInt(t.Orders)},
		{"revenue", "Revenue (AED)", fmtAED(h.RevenueAED), fmtAED(t.RevenueAED)},
		{"net", "Net of cancellations (AED)", fmtAED(h.NetRevenueAED), fmtAED(t.NetRevenueAED)},
		{"views", "Product views", fmtInt(h.Views), fmtInt(t.Views)},
		{"adds", "Units added to cart", fmtInt(h.AddUnits), fmtInt(t.AddUnits)},
		{"conv", "Conversion (orders ÷ views)", conv(h), conv(t)},
	}
}

// chartSeries are the running charts: which figure of a minute each
// draws and how it is written.
var chartSeries = []struct {
	id, title string
	value     func(analytics.MinutePoint) int64
	format    func(int64) string
}{
	{"views", "Product views per minute", func(m analytics.MinutePoint) int64 { return m.Views }, fmtInt},
	{"orders", "Orders per minute", func(m analytics.MinutePoint) int64 { return m.Orders }, fmtInt},
	{"revenue", "Revenue per minute (AED)", func(m analytics.MinutePoint) int64 { return m.RevenueAED }, fmtAED},
}

func charts(minutes []analytics.MinutePoint) []chartView {
	out := make([]chartView, 0, len(chartSeries))
	for _, c := range chartSeries {
		values := make([]int64, len(minutes))
		var total, peak int64
		for i, m := range minutes {
			values[i] = c.value(m)
			total += values[i]
			peak = max(peak, values[i])
		}
		var latest int64
		if len(values) > 0 {
			latest = values[len(values)-1]
		}
		line, area := chartPoints(values)
		out = append(out, chartView{
			ID: c.id, Title: c.title, Line: line, Area: area, Peak: c.format(peak),
			Latest: c.format(latest),
			Label: c.title + " over the last 60 minutes: " + c.format(total) + " in all, peak " +
				c.format(peak) + ", this minute so far " + c.format(latest) + ".",
		})
	}
	return out
}

// chartPoints returns the SVG points of a line through values, scaled to
// the chart, and of the area under it.
func chartPoints(values []int64) (line, area string) {
	if len(values) == 0 {
		return "", ""
	}
	top := int64(1)
	for _, v := range values {
		top = max(top, v)
	}
	step := 0.0
	if len(values) > 1 {
		step = chartW / float64(len(values)-1)
	}
	pts := make([]string, len(values))
	for i, v := range values {
		x := float64(i) * step
		y := chartH - float64(max(v, 0))/float64(top)*(chartH-4)
		pts[i] = coord(x) + "," + coord(y)
	}
	line = strings.Join(pts, " ")
	return line, "0," + coord(chartH) + " " + line + " " + coord(float64(len(values)-1)*step) + "," + coord(chartH)
}

func coord(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

func marketRows(figures []analytics.MarketFigures) []marketRow {
	byCode := map[string]analytics.MarketFigures{}
	for _, f := range figures {
		byCode[f.Market] = f
	}
	row := func(code, name string, cur souq.Currency) marketRow {
		f, ok := byCode[code]
		local := func(p analytics.MarketPeriod) string {
			if cur == "" || p.RevenueLocal == "" {
				return none
			}
			return string(cur) + " " + fmtDecimal(p.RevenueLocal)
		}
		return marketRow{Code: code, Name: name, Hidden: !ok && code == analytics.Unknown,
			TodayLocal: local(f.Today), TodayAED: fmtAED(f.Today.RevenueAED), TodayOrders: fmtInt(f.Today.Orders),
			HourLocal: local(f.LastHour), HourAED: fmtAED(f.LastHour.RevenueAED), HourOrders: fmtInt(f.LastHour.Orders)}
	}
	var out []marketRow
	for _, m := range souq.Markets() {
		out = append(out, row(string(m.Code), m.Name.EN, m.Currency))
	}
	return append(out, row(analytics.Unknown, "Market not given", ""))
}

// windowTitles are the headings of the trending lists.
var windowTitles = map[string]string{"5m": "Last 5 minutes", "15m": "Last 15 minutes", "60m": "Last 60 minutes"}

func trendViews(lists []analytics.Trending, names map[string]souq.Localized) []trendView {
	byWindow := map[string]analytics.Trending{}
	for _, t := range lists {
		byWindow[t.Window] = t
	}
	out := make([]trendView, 0, len(windows))
	for _, w := range windows {
		tv := trendView{Window: w, Title: windowTitles[w]}
		for _, p := range byWindow[w].Products {
			n := names[p.ProductID]
			tv.Rows = append(tv.Rows, trendRow{Rank: strconv.Itoa(p.Rank), ID: p.ProductID, EN: n.EN, AR: n.AR,
				Views: fmtInt(p.Views), Adds: fmtInt(p.AddEvents), Orders: fmtInt(p.Orders), Revenue: fmtAED(p.RevenueAED)})
		}
		out = append(out, tv)
	}
	return out
}

func funnelStages(f analytics.Funnel) []stageView {
	ofViews := func(n int64) float64 {
		if f.Views == 0 {
			return 0
		}
		return float64(n) / float64(f.Views)
	}
	stage := func(id, label string, n int64, step string) stageView {
		share := ofViews(n)
		return stageView{ID: id, Label: label, Count: fmtInt(n), Step: step, OfViews: fmtPct(share),
			Width: coord(min(share, 1) * 100)}
	}
	return []stageView{
		stage("view", "Product views", f.Views, none),
		stage("cart", "Added to cart", f.AddToCart, fmtPct(f.ViewToCart)),
		stage("checkout", "Checkouts started", f.Checkouts, fmtPct(f.CartToCheckout)),
		stage("order", "Orders completed", f.Orders, fmtPct(f.CheckoutToOrder)),
	}
}

func dimTableOf(id, title, column string, rows []analytics.Row) dimTable {
	t := dimTable{ID: id, Title: title, Column: column, Count: fmtInt(int64(len(rows)))}
	for _, r := range rows[:min(len(rows), maxDimRows)] {
		t.Rows = append(t.Rows, dimRow{Name: r.Name, Views: fmtInt(r.Views), AddUnits: fmtInt(r.AddUnits),
			Orders: fmtInt(r.Orders), Units: fmtInt(r.Units), Revenue: fmtAED(r.RevenueAED)})
	}
	return t
}

func healthViewOf(h *PipelineHealth) healthView {
	if h == nil {
		return healthView{State: "unavailable", Ingest: none, Stream: none, Lag: none, ArchiveLag: none,
			Files: none, Dead: none, Seq: none, Delay: none, Missing: none}
	}
	state := "reporting"
	if h.Status == "error" {
		state = "error"
	}
	return healthView{State: state, Failing: h.Status == "error", Errors: h.Errors,
		Missing: fmtInt(int64(h.ArchiveMissing)), MissingWarn: h.ArchiveMissing > 0,
		Ingest: fmtPerSecond(h.IngestPerSecond), Stream: fmtInt(int64(h.StreamMessages)),
		Lag: fmtInt(int64(h.StreamLag)), ArchiveLag: fmtInt(int64(h.ArchiveLag)),
		Files: fmtInt(int64(h.ArchiveFiles)), Dead: fmtInt(int64(h.DeadLetters)),
		Seq: fmtInt(int64(h.LastArchivedSeq)), Delay: fmtAge(h.ProcessingDelay),
		DeadWarn: h.DeadLetters > 0, DelayWarn: h.ProcessingDelay >= slowDelay}
}

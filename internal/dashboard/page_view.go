package dashboard

import (
	"fmt"
	"html/template"
	"strconv"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/bidi"
	"github.com/souq-commerce/souq/internal/souq"
)

// The page's view model: every figure already formatted, every word in
// the page's language. page_panels.go builds the war room's panels.
type (
	pageView struct {
		Lang, Dir        string
		SwitchURL        string // the same page in the other language (set by writePage)
		Unavailable      bool
		CSS, JS          string
		Zone             string
		OffsetMinutes    int
		At, AtISO        string
		Watermark, WMISO string
		Behind           string
		Alerts           []alertView
		Sale             *saleView
		Compare          []compareView
		Tiles            []tileView
		Audience         audienceView
		Stock            stockView
		Products         productTableView
		Brands           dimTable
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
		lang             souq.Lang
	}
	tileView  struct{ ID, Label, Hour, Today string }
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
		Rank, ID                     string
		Name                         template.HTML
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

// T is the page's text for key.
func (v pageView) T(key string) string { return tr(v.lang, key) }

// Tf is the page's text for key with its %s filled in.
func (v pageView) Tf(key string, args ...any) string { return fmt.Sprintf(tr(v.lang, key), args...) }

// Page limits and thresholds, shared with the script.
const (
	maxDimRows = 12               // rows of the category, city and brand tables
	slowDelay  = 60 * time.Second // processing delay shown as a warning
)

func (d *Dashboard) view(u Update, unavailable bool, lang souq.Lang) pageView {
	s := u.Snapshot
	now := d.now()
	_, offset := now.In(d.loc).Zone()
	v := pageView{
		lang: lang, Lang: string(lang), Dir: "ltr",
		Unavailable: unavailable,
		CSS:         staticURL("dashboard.css"), JS: staticURL("dashboard.js"),
		Zone: zoneName(d.loc, now), OffsetMinutes: offset / 60,
		At: fmtClock(s.At, d.loc), AtISO: isoOrEmpty(s.At),
		Watermark: fmtClock(s.Watermark, d.loc), WMISO: isoOrEmpty(s.Watermark),
		Behind:    behind(s, lang),
		MaxSeq:    fmtInt(int64(s.MaxSeq)),
		Overall:   fmtPct(s.Funnel.ViewToOrder),
		TodayFrom: none,
		Searches:  fmtInt(s.LastHour.Searches), ZeroSearches: fmtInt(s.LastHour.ZeroResultSearches),
	}
	if lang == souq.Arabic {
		v.Dir = "rtl"
	}
	if !s.TodayFrom.IsZero() {
		v.TodayFrom = s.TodayFrom.In(d.loc).Format("15:04")
	}
	if unavailable {
		v.MaxSeq, v.Overall, v.Searches, v.ZeroSearches = none, none, none, none
	}
	v.Alerts = alertViews(u.Alerts, now, d.loc, lang)
	v.Sale = saleViewOf(u.Sale, d.loc, lang)
	v.Compare = compareViews(u.Compare, lang)
	v.Tiles = tiles(s, lang)
	v.Audience = audienceViewOf(u.Audience, lang)
	v.Stock = stockViewOf(u.Stock, lang)
	v.Brands = dimTableOf("brand", tr(lang, "brands"), tr(lang, "brand"), s.Brands)
	v.Charts = charts(s.Minutes, d.loc, v.Zone, lang)
	for i := len(s.Minutes) - 1; i >= 0; i-- {
		m := s.Minutes[i]
		v.Minutes = append(v.Minutes, minuteRow{Time: m.Start.In(d.loc).Format("15:04"),
			Views: fmtInt(m.Views), Orders: fmtInt(m.Orders), Revenue: fmtAED(m.RevenueAED)})
	}
	v.Markets = marketRows(s.Markets, lang)
	v.Trending = trendViews(s.Trending, u.Names, lang)
	v.Funnel = funnelStages(s.Funnel, lang)
	v.Categories = dimTableOf("cat", tr(lang, "categories"), tr(lang, "category"), s.Categories)
	v.Cities = dimTableOf("city", tr(lang, "cities"), tr(lang, "city"), s.Cities)
	v.Health = healthViewOf(u.Health, lang)
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
func behind(s analytics.Snapshot, lang souq.Lang) string {
	if s.Watermark.IsZero() {
		return tr(lang, "no_events")
	}
	return fmt.Sprintf(tr(lang, "behind"), fmtAgeIn(s.At.Sub(s.Watermark), lang))
}

// productNameHTML is a product's name in the page's language (the other
// one when it has none), marked with its language when it is the other
// one, and its runs of the other direction isolated; an unnamed product
// shows its id.
func productNameHTML(n souq.Localized, id string, lang souq.Lang) template.HTML {
	name := nameIn(n, lang)
	if name == "" {
		return template.HTML("<code>" + template.HTMLEscapeString(id) + "</code>")
	}
	nameLang := souq.English
	if name == n.AR && (lang == souq.Arabic || n.EN == "") {
		nameLang = souq.Arabic
	}
	dir := "ltr"
	if nameLang == souq.Arabic {
		dir = "rtl"
	}
	if nameLang == lang {
		return bidi.HTML(dir, name)
	}
	return template.HTML(`<span lang="`+string(nameLang)+`" dir="`+dir+`">`) + bidi.HTML(dir, name) + "</span>"
}

func tiles(s analytics.Snapshot, lang souq.Lang) []tileView {
	conv := func(r analytics.Row) string { return fmtPct(analytics.FunnelOf(r.Counters).ViewToOrder) }
	h, t := s.LastHour, s.Today
	return []tileView{
		{"orders", tr(lang, "orders"), fmtInt(h.Orders), fmtInt(t.Orders)},
		{"revenue", tr(lang, "f_revenue"), fmtAED(h.RevenueAED), fmtAED(t.RevenueAED)},
		{"net", tr(lang, "f_net"), fmtAED(h.NetRevenueAED), fmtAED(t.NetRevenueAED)},
		{"views", tr(lang, "f_views"), fmtInt(h.Views), fmtInt(t.Views)},
		{"adds", tr(lang, "f_adds"), fmtInt(h.AddUnits), fmtInt(t.AddUnits)},
		{"conv", tr(lang, "f_conv"), conv(h), conv(t)},
	}
}

func marketRows(figures []analytics.MarketFigures, lang souq.Lang) []marketRow {
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
		out = append(out, row(string(m.Code), nameIn(m.Name, lang), m.Currency))
	}
	return append(out, row(analytics.Unknown, tr(lang, "unknown_mkt"), ""))
}

// marketName is a market's name in lang ("unknown" and codes the shop
// does not know are written as they are).
func marketName(code string, lang souq.Lang) string {
	if code == analytics.Unknown {
		return tr(lang, "unknown_mkt")
	}
	if m, err := souq.LookupMarket(code); err == nil {
		return nameIn(m.Name, lang)
	}
	return code
}

func trendViews(lists []analytics.Trending, names map[string]souq.Localized, lang souq.Lang) []trendView {
	byWindow := map[string]analytics.Trending{}
	for _, t := range lists {
		byWindow[t.Window] = t
	}
	out := make([]trendView, 0, len(windows))
	for _, w := range windows {
		tv := trendView{Window: w, Title: tr(lang, "last_"+w)}
		for _, p := range byWindow[w].Products {
			tv.Rows = append(tv.Rows, trendRow{Rank: strconv.Itoa(p.Rank), ID: p.ProductID,
				Name:  productNameHTML(names[p.ProductID], p.ProductID, lang),
				Views: fmtInt(p.Views), Adds: fmtInt(p.AddEvents), Orders: fmtInt(p.Orders), Revenue: fmtAED(p.RevenueAED)})
		}
		out = append(out, tv)
	}
	return out
}

func funnelStages(f analytics.Funnel, lang souq.Lang) []stageView {
	ofViews := func(n int64) float64 {
		if f.Views == 0 {
			return 0
		}
		return float64(n) / float64(f.Views)
	}
	stage := func(id string, n int64, step string) stageView {
		share := ofViews(n)
		return stageView{ID: id, Label: tr(lang, "st_"+id), Count: fmtInt(n), Step: step, OfViews: fmtPct(share),
			Width: coord(min(share, 1) * 100)}
	}
	return []stageView{
		stage("view", f.Views, none),
		stage("cart", f.AddToCart, fmtPct(f.ViewToCart)),
		stage("checkout", f.Checkouts, fmtPct(f.CartToCheckout)),
		stage("order", f.Orders, fmtPct(f.CheckoutToOrder)),
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

func healthViewOf(h *PipelineHealth, lang souq.Lang) healthView {
	if h == nil {
		return healthView{State: tr(lang, "h_unavail"), Ingest: none, Stream: none, Lag: none, ArchiveLag: none,
			Files: none, Dead: none, Seq: none, Delay: none, Missing: none}
	}
	state := tr(lang, "h_reporting")
	if h.Status == "error" {
		state = tr(lang, "h_error")
	}
	return healthView{State: state, Failing: h.Status == "error", Errors: h.Errors,
		Missing: fmtInt(int64(h.ArchiveMissing)), MissingWarn: h.ArchiveMissing > 0,
		Ingest: fmtPerSecond(h.IngestPerSecond), Stream: fmtInt(int64(h.StreamMessages)),
		Lag: fmtInt(int64(h.StreamLag)), ArchiveLag: fmtInt(int64(h.ArchiveLag)),
		Files: fmtInt(int64(h.ArchiveFiles)), Dead: fmtInt(int64(h.DeadLetters)),
		Seq: fmtInt(int64(h.LastArchivedSeq)), Delay: fmtAgeIn(h.ProcessingDelay, lang),
		DeadWarn: h.DeadLetters > 0, DelayWarn: h.ProcessingDelay >= slowDelay}
}

// toolsView is a table's "Download CSV" link and its "Query the archive"
// disclosure, whose SQL the script fetches from JSON when it is opened.
type toolsView struct {
	ID, CSV, JSON          string
	CSVText, Query, Note   string
	NoCSVText, SnapshotURL string
}

// Tools is the tools of the table id; csv "" says the table has no CSV of
// its own (its figures are in the snapshot's JSON).
func (v pageView) Tools(id, csv, json string) toolsView {
	return toolsView{ID: id, CSV: csv, JSON: json, CSVText: v.T("csv"), Query: v.T("query"), Note: v.T("query_note"),
		NoCSVText: v.T("no_csv"), SnapshotURL: "/api/v1/analytics/snapshot"}
}

// API is the address of an analytics endpoint in the page's language;
// with csv, as CSV.
func (v pageView) API(endpoint string, csv bool) string {
	p := map[string]string{"lang": v.Lang}
	if csv {
		p["format"] = "csv"
	}
	return apiURL(endpoint, p)
}

// dimsView is a breakdown table with its column labels.
type dimsView struct {
	dimTable
	Caption, Views, AddUnits, Orders, Units, Revenue, Empty string
}

// Dims is the breakdown table t with the page's labels.
func (v pageView) Dims(t dimTable) dimsView {
	return dimsView{dimTable: t, Caption: t.Title,
		Views: v.T("views"), AddUnits: v.T("units_added"), Orders: v.T("orders"), Units: v.T("units_sold"),
		Revenue: v.T("revenue"), Empty: v.T("nothing")}
}

// TrendingAPI is the address of one trending list's JSON or CSV.
func (v pageView) TrendingAPI(window string, csv bool) string {
	p := map[string]string{"window": window, "lang": v.Lang}
	if csv {
		p["format"] = "csv"
	}
	return apiURL("trending", p)
}

package dashboard

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/souq"
)

// The war room's panels as the page shows them: alerts, the sale,
// today's comparisons, visitors and stock (the product table is in
// page_products.go).

type (
	alertView struct {
		ID, Severity, SeverityText string
		Message                    string
		Since, SinceISO, Ago       string
	}
	saleView struct {
		Name, State string
		EndsISO     string
		Left        string // hours:minutes:seconds still to run
		Running     bool
		Figures     []saleFigure
		Items       []saleItemView
		CSV, JSON   string
		Hidden      bool // no sale: the panel is hidden
	}
	saleFigure struct {
		ID, Label, During, Before string
		Change                    changeView
	}
	saleItemView struct {
		ID                   string
		Name                 template.HTML
		Brand                string
		SoldOffered, Pct     string
		Width                string // of the sell-through bar, 0–100
		Stock, Rate, SoldOut string
		IsSoldOut            bool
	}
	compareView struct {
		Figure, Label              string
		Today, Yesterday, LastWeek string
		VsYesterday, VsLastWeek    changeView
	}
	// changeView is a relative change told by arrow, sign and word, so
	// that colour is never the only cue.
	changeView struct {
		Class, Arrow, Pct string
		Word, Against     string
	}
	audienceView struct {
		Windows, Markets []audienceLine
	}
	audienceLine struct {
		ID, Name                       string
		Visitors, Buyers, Conversion   string
		Orders, AverageOrder, PerOrder string
	}
	stockView struct {
		Threshold string
		Lists     []stockList
	}
	stockList struct {
		ID, Title, CSV, JSON string
		Rows                 []stockRowView
	}
	stockRowView struct {
		ID                  string
		Name                template.HTML
		Brand, Stock, Units string
		OnSale              string
	}
)

func alertViews(alerts []Alert, now time.Time, loc *time.Location, lang souq.Lang) []alertView {
	sorted := slices.Clone(alerts)
	slices.SortStableFunc(sorted, func(a, b Alert) int {
		if a.Severity != b.Severity {
			if a.Severity == "critical" {
				return -1
			}
			if b.Severity == "critical" {
				return 1
			}
		}
		return a.Since.Compare(b.Since)
	})
	out := make([]alertView, 0, len(sorted))
	for _, a := range sorted {
		sev := "warning"
		if a.Severity == "critical" {
			sev = "critical"
		}
		message := nameIn(a.Message, lang)
		if message == "" {
			message = tr(lang, "a_"+a.Kind)
		}
		out = append(out, alertView{ID: a.ID, Severity: sev, SeverityText: tr(lang, sev),
			Message: message, Since: fmtClock(a.Since, loc), SinceISO: isoOrEmpty(a.Since),
			Ago: fmtAgeIn(now.Sub(a.Since), lang)})
	}
	return out
}

// fmtCountdown writes a time left as hours:minutes:seconds: 1:02:03.
func fmtCountdown(seconds int64) string {
	s := max(seconds, 0)
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s%3600/60, s%60)
}

func saleViewOf(p *SalePanel, loc *time.Location, lang souq.Lang) *saleView {
	hidden := p == nil
	if hidden {
		// The panel is there, hidden, for the script to fill when a sale
		// starts.
		p = &SalePanel{}
	}
	v := &saleView{Hidden: hidden, Name: nameIn(p.Name, lang), EndsISO: isoOrEmpty(p.EndsAt),
		Left: fmtCountdown(p.SecondsLeft),
		CSV:  apiURL("sale", map[string]string{"format": "csv", "lang": string(lang)}),
		JSON: apiURL("sale", nil)}
	ends := fmtClock(p.EndsAt, loc)
	switch {
	case hidden:
	case p.Running:
		v.State = fmt.Sprintf(tr(lang, "sale_running"), ends)
	default:
		v.State = fmt.Sprintf(tr(lang, "sale_ended"), ends)
		v.Left = fmtCountdown(0)
	}
	figure := func(id, label string, during, before int64, format func(int64) string) saleFigure {
		return saleFigure{ID: id, Label: label, During: format(during), Before: format(before),
			Change: changeOf(ratio(float64(during), float64(before)), new(float64(before)), float64(during), tr(lang, "before"), lang)}
	}
	v.Figures = []saleFigure{
		figure("revenue", tr(lang, "revenue_aed"), p.During.RevenueAED, p.Before.RevenueAED, fmtAED),
		figure("units", tr(lang, "units"), p.During.Units, p.Before.Units, fmtInt),
		figure("orders", tr(lang, "orders"), p.During.Orders, p.Before.Orders, fmtInt),
	}
	for _, it := range p.Items {
		soldOut := none
		if it.SoldOutAt != nil {
			soldOut = it.SoldOutAt.In(loc).Format("15:04") // a projection: to the minute
		}
		if it.SoldOut {
			soldOut = tr(lang, "sold_out")
		}
		v.Items = append(v.Items, saleItemView{ID: string(it.ProductID), Name: productNameHTML(it.Name, string(it.ProductID), lang),
			Brand: it.Brand, SoldOffered: fmtInt(int64(it.Sold)) + " / " + fmtInt(int64(it.Offered)),
			Pct: fmtPct(it.SellThrough), Width: coord(min(max(it.SellThrough, 0), 1) * 100),
			Stock: fmtInt(int64(it.Stock)), Rate: strconv.FormatFloat(it.UnitsPerMinute, 'f', 1, 64),
			SoldOut: soldOut, IsSoldOut: it.SoldOut})
	}
	return v
}

// ratio is the relative change from then to now; nil when then is 0.
func ratio(now, then float64) *float64 {
	if then == 0 {
		return nil
	}
	r := (now - then) / then
	return &r
}

// changeOf words a relative change against a period ("vs yesterday").
func changeOf(rate, then *float64, today float64, against string, lang souq.Lang) changeView {
	switch {
	case then == nil: // neither the hot store nor the archive holds the span
		return changeView{Class: "none", Word: tr(lang, "no_data"), Against: against}
	case rate == nil && today == 0: // nothing then, nothing now
		return changeView{Class: "same", Arrow: "=", Word: tr(lang, "same"), Against: against}
	case rate == nil: // nothing then: no percentage to give
		return changeView{Class: "up", Arrow: "▲", Word: tr(lang, "up_from_zero"), Against: against}
	}
	c := changeView{Pct: fmtSignedPct(*rate), Against: against}
	switch {
	case c.Pct == "0.0%":
		c.Class, c.Arrow, c.Word = "same", "=", tr(lang, "same")
	case *rate > 0:
		c.Class, c.Arrow, c.Word = "up", "▲", tr(lang, "up")
	default:
		c.Class, c.Arrow, c.Word = "down", "▼", tr(lang, "down")
	}
	return c
}

// compareLabels are the comparison tiles' labels, in the order shown.
var compareLabels = []struct{ figure, key string }{
	{"revenue_aed", "f_revenue"}, {"orders", "orders"}, {"units", "units"}, {"visitors", "f_visitors"},
	{"buyers", "f_buyers"}, {"conversion", "f_conversion"}, {"average_order_aed", "f_aov"}, {"views", "f_views"},
}

// fmtFigure writes a comparison's value as its figure is written.
func fmtFigure(figure string, v float64) string {
	switch figure {
	case "revenue_aed", "average_order_aed":
		return fmtAED(int64(v))
	case "conversion":
		return fmtPct(v)
	default:
		return fmtInt(int64(v))
	}
}

func compareViews(c *analytics.Comparisons, lang souq.Lang) []compareView {
	byFigure := map[string]analytics.Comparison{}
	if c == nil {
		// Unknown for now: the tiles are there for the script to fill.
		for _, l := range compareLabels {
			byFigure[l.figure] = analytics.Comparison{Figure: l.figure}
		}
	} else {
		for _, f := range c.Figures {
			byFigure[f.Figure] = f
		}
	}
	opt := func(figure string, v *float64) string {
		if v == nil {
			return none
		}
		return fmtFigure(figure, *v)
	}
	var out []compareView
	for _, l := range compareLabels {
		f, ok := byFigure[l.figure]
		if !ok {
			continue
		}
		today := fmtFigure(f.Figure, f.Today)
		if c == nil {
			today = none
		}
		out = append(out, compareView{Figure: f.Figure, Label: tr(lang, l.key),
			Today: today, Yesterday: opt(f.Figure, f.Yesterday), LastWeek: opt(f.Figure, f.LastWeek),
			VsYesterday: changeOf(f.VsYesterday, f.Yesterday, f.Today, tr(lang, "vs_yesterday"), lang),
			VsLastWeek:  changeOf(f.VsLastWeek, f.LastWeek, f.Today, tr(lang, "vs_last_week"), lang)})
	}
	return out
}

func audienceLineOf(id, name string, a analytics.Audience) audienceLine {
	return audienceLine{ID: id, Name: name, Visitors: fmtInt(a.Visitors), Buyers: fmtInt(a.Buyers),
		Conversion: fmtPct(a.Conversion), Orders: fmtInt(a.Orders), AverageOrder: fmtAED(a.AverageOrderAED),
		PerOrder: strconv.FormatFloat(a.UnitsPerOrder, 'f', 2, 64)}
}

func audienceViewOf(f *analytics.AudienceFigures, lang souq.Lang) audienceView {
	var v audienceView
	if f == nil {
		return v
	}
	for _, w := range f.Windows {
		v.Windows = append(v.Windows, audienceLineOf(w.Window, tr(lang, "w_"+w.Window), w.Total))
		if w.Window == "hour" {
			for _, m := range w.Markets {
				v.Markets = append(v.Markets, audienceLineOf(m.Market, marketName(m.Market, lang), m.Audience))
			}
		}
	}
	return v
}

func stockViewOf(p *StockPanel, lang souq.Lang) stockView {
	v := stockView{Threshold: none}
	var lists [3][]StockRow
	if p != nil {
		v.Threshold = fmtInt(int64(p.Threshold))
		lists = [3][]StockRow{p.Watch, p.Low, p.Out}
	}
	for i, id := range []string{"watch", "low", "out"} {
		l := stockList{ID: id, Title: tr(lang, "s_"+id),
			CSV:  apiURL("stock", map[string]string{"list": id, "format": "csv", "lang": string(lang)}),
			JSON: apiURL("stock", map[string]string{"list": id})}
		rows := slices.Clone(lists[i])
		if id == "low" {
			slices.SortStableFunc(rows, func(a, b StockRow) int { return cmp.Compare(a.Stock, b.Stock) })
		}
		for _, r := range rows {
			onSale := ""
			if r.OnSale {
				onSale = tr(lang, "on_sale")
			}
			l.Rows = append(l.Rows, stockRowView{ID: string(r.ProductID), Name: productNameHTML(r.Name, string(r.ProductID), lang),
				Brand: r.Brand, Stock: fmtInt(int64(r.Stock)), Units: fmtInt(r.UnitsLastHour), OnSale: onSale})
		}
		v.Lists = append(v.Lists, l)
	}
	return v
}

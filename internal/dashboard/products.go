package dashboard

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// panelProducts is how many rows the pushed product table holds.
const panelProducts = 50

// maxProductLimit bounds ?limit= of the product table.
const maxProductLimit = 500

// topProducts are the pushed product table: the last hour's top products
// by revenue (then views, then id) in every market, prices in AED.
func (d *Dashboard) topProducts(ctx context.Context, hour *hourFigures) []ProductTableRow {
	if hour == nil {
		return nil
	}
	rows := slices.Clone(hour.rows)
	slices.SortFunc(rows, byRevenue)
	rows = rows[:min(len(rows), panelProducts)]
	return d.tableRows(ctx, rows, nil)
}

func byRevenue(a, b analytics.ProductRow) int {
	return cmp.Or(cmp.Compare(b.RevenueAED, a.RevenueAED), cmp.Compare(b.Views, a.Views), cmp.Compare(a.ProductID, b.ProductID))
}

// aeMarket prices the table without a market filter: the UAE's prices
// are in AED.
var aeMarket, _ = souq.LookupMarket("AE")

// tableRows joins counters with the catalogue: name, brand, category,
// the price a shopper pays now in market (AED without one) and the live
// stock (one store read for every row).
func (d *Dashboard) tableRows(ctx context.Context, rows []analytics.ProductRow, market *souq.Market) []ProductTableRow {
	out, found := d.namedRows(ctx, rows, market)
	d.priceRows(ctx, out, found, market)
	return out
}

// namedRows joins counters with the catalogue's cached products: name,
// brand, category and the catalogue's stock; found holds each row's
// product when the catalogue knows it. No store read but the lookups the
// catalogue does not hold.
func (d *Dashboard) namedRows(ctx context.Context, rows []analytics.ProductRow, market *souq.Market) (out []ProductTableRow, found map[souq.ID]souq.Product) {
	out = make([]ProductTableRow, len(rows))
	found = make(map[souq.ID]souq.Product, len(rows))
	for i, r := range rows {
		t := ProductTableRow{ProductID: souq.ID(r.ProductID), Views: r.Views, AddEvents: r.AddEvents,
			Orders: r.Orders, Units: r.Units, RevenueAED: r.RevenueAED, Price: souq.M(0, souq.AED)}
		if market != nil {
			t.Price.Currency = market.Currency
		}
		if p, ok := d.product(ctx, r.ProductID); ok {
			t.Name, t.Brand, t.Category, t.Stock = p.Name, p.Brand, p.Category, p.Stock
			found[t.ProductID] = p
		}
		out[i] = t
	}
	return out, found
}

// priceRows sets each row's price now in market and its live stock (one
// store read for all of them).
func (d *Dashboard) priceRows(ctx context.Context, rows []ProductTableRow, found map[souq.ID]souq.Product, market *souq.Market) {
	ids := make([]souq.ID, len(rows))
	for i, r := range rows {
		ids[i] = r.ProductID
	}
	stock := d.stocks(ctx, ids)
	for i := range rows {
		if p, ok := found[rows[i].ProductID]; ok {
			rows[i].Price = d.price(ctx, p, market)
		}
		if n, ok := stock[rows[i].ProductID]; ok {
			rows[i].Stock = n
		}
	}
}

// liveSorts are the sort keys that need every row's live stock or price
// before the rows are cut to the limit.
var liveSorts = map[string]bool{"stock": true, "price": true}

// price is what a shopper pays for p now in market; without a market the
// UAE price, or else the first market's converted to AED.
func (d *Dashboard) price(ctx context.Context, p souq.Product, market *souq.Market) souq.Money {
	m := aeMarket
	if market != nil {
		m = *market
	}
	if o, err := d.catalog.Offer(ctx, p, m); err == nil && o.Sold {
		return o.Price
	}
	if market != nil {
		return souq.M(0, market.Currency)
	}
	for _, mk := range souq.Markets() {
		if o, err := d.catalog.Offer(ctx, p, mk); err == nil && o.Sold {
			if aed, err := analytics.ToAED(o.Price.Amount, o.Price.Currency); err == nil {
				return souq.M(aed, souq.AED)
			}
		}
	}
	return souq.M(0, souq.AED)
}

// ProductsResponse is the body of GET /api/v1/analytics/products.
type ProductsResponse struct {
	At      time.Time         `json:"at"`
	Window  string            `json:"window"`
	From    time.Time         `json:"from"`
	To      time.Time         `json:"to"`
	Filters ProductFilters    `json:"filters"`
	Sort    string            `json:"sort"`
	Order   string            `json:"order"`
	Total   int               `json:"total"`
	Rows    []ProductTableRow `json:"rows"`
	Options ProductOptions    `json:"options"`
	Query   *Query            `json:"query"`
}

// ProductFilters are the table's filters; empty means all.
type ProductFilters struct {
	Market   string `json:"market"`
	City     string `json:"city"`
	Category string `json:"category"`
	Brand    string `json:"brand"`
}

// ProductOptions are the values the filters offer: the markets, the
// cities of the filtered market (of every market without one), and the
// categories and brands of the products with figures in the window.
type ProductOptions struct {
	Markets    []string         `json:"markets"`
	Cities     []string         `json:"cities"`
	Categories []CategoryOption `json:"categories"`
	Brands     []string         `json:"brands"`
}

// CategoryOption is a category key and its name.
type CategoryOption struct {
	Key  string         `json:"key"`
	Name souq.Localized `json:"name"`
}

// productSorts are the sort keys of the product table.
var productSorts = map[string]func(a, b *ProductTableRow, lang souq.Lang) int{
	"revenue": func(a, b *ProductTableRow, _ souq.Lang) int { return cmp.Compare(a.RevenueAED, b.RevenueAED) },
	"views":   func(a, b *ProductTableRow, _ souq.Lang) int { return cmp.Compare(a.Views, b.Views) },
	"adds":    func(a, b *ProductTableRow, _ souq.Lang) int { return cmp.Compare(a.AddEvents, b.AddEvents) },
	"orders":  func(a, b *ProductTableRow, _ souq.Lang) int { return cmp.Compare(a.Orders, b.Orders) },
	"units":   func(a, b *ProductTableRow, _ souq.Lang) int { return cmp.Compare(a.Units, b.Units) },
	"stock":   func(a, b *ProductTableRow, _ souq.Lang) int { return cmp.Compare(a.Stock, b.Stock) },
	"price":   func(a, b *ProductTableRow, _ souq.Lang) int { return cmp.Compare(a.Price.Amount, b.Price.Amount) },
	"name": func(a, b *ProductTableRow, lang souq.Lang) int {
		return cmp.Compare(strings.ToLower(a.Name.In(lang)), strings.ToLower(b.Name.In(lang)))
	},
	"brand": func(a, b *ProductTableRow, _ souq.Lang) int {
		return cmp.Compare(strings.ToLower(a.Brand), strings.ToLower(b.Brand))
	},
}

// ascendingSorts are the sort keys whose default order is ascending (the
// text ones); the counters default to descending.
var ascendingSorts = map[string]bool{"name": true, "brand": true}

// productParams are the parsed query parameters of the product table.
type productParams struct {
	window, sort, order string
	limit               int
	lang                souq.Lang
	filters             ProductFilters
	market              *souq.Market
}

// marketOptions are the accepted values of ?market=.
var marketOptions = append(func() []string {
	var out []string
	for _, c := range souq.MarketCodes() {
		out = append(out, string(c))
	}
	return out
}(), analytics.Unknown)

// parseProductParams reads the product table's parameters, answering 400
// for a bad one.
func parseProductParams(w http.ResponseWriter, r *http.Request) (productParams, bool) {
	q := r.URL.Query()
	p := productParams{window: cmp.Or(q.Get("window"), "60m"), sort: cmp.Or(q.Get("sort"), "revenue"), limit: panelProducts}
	if p.window != "60m" && p.window != "today" {
		badParam(w, r, "window", p.window, "60m or today")
		return p, false
	}
	if _, ok := productSorts[p.sort]; !ok {
		badParam(w, r, "sort", p.sort, "revenue, views, adds, orders, units, stock, price, name or brand")
		return p, false
	}
	p.order = q.Get("order")
	switch p.order {
	case "":
		p.order = "desc"
		if ascendingSorts[p.sort] {
			p.order = "asc"
		}
	case "asc", "desc":
	default:
		badParam(w, r, "order", p.order, "asc or desc")
		return p, false
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxProductLimit {
			badParam(w, r, "limit", s, "a whole number from 1 to 500")
			return p, false
		}
		p.limit = n
	}
	f := ProductFilters{Market: q.Get("market"), City: q.Get("city"), Category: q.Get("category"), Brand: q.Get("brand")}
	if f.Market != "" {
		if !slices.Contains(marketOptions, f.Market) {
			badParam(w, r, "market", f.Market, strings.Join(marketOptions, ", "))
			return p, false
		}
		if f.Market != analytics.Unknown {
			m, _ := souq.LookupMarket(f.Market)
			p.market = &m
		}
	}
	for name, v := range map[string]string{"city": f.City, "category": f.Category, "brand": f.Brand} {
		if len(v) > analytics.MaxMemberBytes {
			badParam(w, r, name, v[:16]+"…", "at most "+strconv.Itoa(analytics.MaxMemberBytes)+" bytes")
			return p, false
		}
	}
	p.filters = f
	var ok bool
	p.lang, ok = langParam(w, r)
	return p, ok
}

// today returns the start of today in the dashboard's time zone.
func (d *Dashboard) today(now time.Time) time.Time {
	y, m, day := now.In(d.loc).Date()
	return time.Date(y, m, day, 0, 0, 0, 0, d.loc).UTC()
}

// handleProducts answers the product table: the counters of a window,
// filtered by market and city (the counters) and by category and brand
// (the catalogue), sorted and cut to limit.
func (d *Dashboard) handleProducts() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := parseProductParams(w, r)
		if !ok {
			return
		}
		asCSV, ok := wantCSV(w, r)
		if !ok {
			return
		}
		if d.figures == nil || d.catalog == nil {
			notReported(w, r, "product figures")
			return
		}
		now := d.now()
		from, to := lastHour(now)
		if p.window == "today" {
			from, to = d.today(now), now
		}
		counters, err := d.figures.Products(r.Context(), analytics.ProductQuery{From: from, To: to, Market: p.filters.Market, City: p.filters.City})
		d.noteFailure(&d.figuresFailing, "product figures", err)
		if err != nil {
			unavailable(w, r)
			return
		}
		// Names, brands and categories of every row (the catalogue's
		// cache) for the filters and options; prices and live stock only
		// for the rows shown, unless the sort needs them all.
		all, found := d.namedRows(r.Context(), counters, p.market)
		// The period shown ends now: no bucket starts between now and to.
		out := ProductsResponse{At: now, Window: p.window, From: from, To: now.UTC(), Filters: p.filters, Sort: p.sort, Order: p.order,
			Rows: []ProductTableRow{}, Options: productOptions(all, p.market),
			Query: productQuery(from, now.UTC(), p.filters.Market, p.filters.City, nil)}
		for _, row := range all {
			if (p.filters.Category == "" || row.Category == p.filters.Category) && (p.filters.Brand == "" || row.Brand == p.filters.Brand) {
				out.Rows = append(out.Rows, row)
			}
		}
		out.Total = len(out.Rows)
		if liveSorts[p.sort] {
			d.priceRows(r.Context(), out.Rows, found, p.market)
		}
		less := productSorts[p.sort]
		slices.SortStableFunc(out.Rows, func(a, b ProductTableRow) int {
			c := less(&a, &b, p.lang)
			if p.order == "desc" {
				c = -c
			}
			return cmp.Or(c, cmp.Compare(a.ProductID, b.ProductID))
		})
		out.Rows = out.Rows[:min(len(out.Rows), p.limit)]
		if !liveSorts[p.sort] {
			d.priceRows(r.Context(), out.Rows, found, p.market)
		}
		if asCSV {
			writeCSV(w, "products", now, productHeader, productCSV(out.Rows, p.lang))
			return
		}
		encode(w, out)
	})
}

// productOptions lists the filter values for rows.
func productOptions(rows []ProductTableRow, market *souq.Market) ProductOptions {
	o := ProductOptions{Markets: marketOptions, Cities: []string{}, Categories: []CategoryOption{}, Brands: []string{}}
	for _, m := range souq.Markets() {
		if market == nil || m.Code == market.Code {
			o.Cities = append(o.Cities, m.Cities...)
		}
	}
	cats, brands := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		if r.Category != "" && !cats[r.Category] {
			cats[r.Category] = true
			o.Categories = append(o.Categories, CategoryOption{Key: r.Category, Name: catalog.CategoryName(r.Category)})
		}
		if r.Brand != "" && !brands[r.Brand] {
			brands[r.Brand] = true
			o.Brands = append(o.Brands, r.Brand)
		}
	}
	slices.SortFunc(o.Categories, func(a, b CategoryOption) int { return cmp.Compare(a.Key, b.Key) })
	slices.Sort(o.Brands)
	return o
}

var productHeader = []string{"product_id", "name", "brand", "category", "price", "currency", "views", "add_events", "orders", "units", "revenue_aed", "stock"}

func productCSV(rows []ProductTableRow, lang souq.Lang) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		cat := ""
		if r.Category != "" {
			cat = catalog.CategoryName(r.Category).In(lang)
		}
		out[i] = []string{string(r.ProductID), r.Name.In(lang), r.Brand, cat, r.Price.Decimal(), string(r.Price.Currency),
			intCell(r.Views), intCell(r.AddEvents), intCell(r.Orders), intCell(r.Units), aedCell(r.RevenueAED), intCell(r.Stock)}
	}
	return out
}

package dashboard

import (
	"bytes"
	"cmp"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/souq-commerce/souq/internal/souq"
)

// The product table: filters in a form that works without the script
// (GET /dashboard?market=…), sortable columns, its CSV and its SQL.
// Without filters it shows Update.Products, the last hour in every
// market; with a filter it asks the product endpoint
// (GET /api/v1/analytics/products) through the dashboard's own routes, so
// the page and the JSON share one code path.

// tableSorts are the product table's columns and the sort key of each,
// in the order shown; numbers sort descending first, names ascending.
var tableSorts = []struct{ key, label string }{
	{"name", "product"}, {"brand", "brand"}, {"price", "price"}, {"views", "views"},
	{"adds", "adds"}, {"orders", "orders"}, {"revenue", "revenue"}, {"stock", "stock_left"},
}

type (
	productTableView struct {
		Market, City, Category, Brand string
		Sort, Order                   string
		Columns                       []sortColumn
		Options                       tableOptions
		Rows                          []productRowView
		Shown, Total                  string
		CSV, JSON                     string
		// Unfiltered is set when a filter was asked for but the product
		// endpoint could not answer: the rows are the unfiltered ones.
		Unfiltered bool
	}
	sortColumn struct {
		Key, Label, AriaSort, Next string
	}
	tableOptions struct {
		Markets, Cities, Categories, Brands []option
	}
	option struct {
		Value, Label string
		Selected     bool
	}
	productRowView struct {
		ID                                           string
		Name                                         template.HTML
		Brand, Price                                 string
		Views, Adds, Orders, Revenue, Stock          string
		SortName                                     string
		VViews, VAdds, VOrders, VRevenue, VStock, VP int64
	}
)

// tableQuery is what the page's form asks of the product table.
type tableQuery struct {
	market, city, category, brand string
	sort, order                   string
}

func (q tableQuery) filtered() bool {
	return q.market != "" || q.city != "" || q.category != "" || q.brand != ""
}

// tableQueryOf reads the form: market, city, category, brand, and the
// sort as sort and order, or as by=<key>-<order> (the column buttons).
func tableQueryOf(r *http.Request) tableQuery {
	v := r.URL.Query()
	q := tableQuery{market: v.Get("market"), city: v.Get("city"), category: v.Get("category"),
		brand: v.Get("brand"), sort: v.Get("sort"), order: v.Get("order")}
	if key, order, ok := strings.Cut(v.Get("by"), "-"); ok {
		q.sort, q.order = key, order
	}
	if !slices.ContainsFunc(tableSorts, func(s struct{ key, label string }) bool { return s.key == q.sort }) {
		q.sort = "revenue"
	}
	if q.order != "asc" && q.order != "desc" {
		q.order = defaultOrder(q.sort)
	}
	return q
}

func defaultOrder(sort string) string {
	if sort == "name" || sort == "brand" {
		return "asc"
	}
	return "desc"
}

// apiURL is the address of an analytics endpoint with params (sorted, so
// that a link is the same on every render).
func apiURL(endpoint string, params map[string]string) string {
	v := url.Values{}
	for k, val := range params {
		if val != "" {
			v.Set(k, val)
		}
	}
	u := "/api/v1/analytics/" + endpoint
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

// productAnswer is the part of the product endpoint's JSON the page reads.
type productAnswer struct {
	Total   int64             `json:"total"`
	Rows    []ProductTableRow `json:"rows"`
	Options struct {
		Markets    []string `json:"markets"`
		Cities     []string `json:"cities"`
		Categories []struct {
			Key  string         `json:"key"`
			Name souq.Localized `json:"name"`
		} `json:"categories"`
		Brands []string `json:"brands"`
	} `json:"options"`
}

// productRoute is the dashboard's product endpoint as the server's mux
// would route a request for it; nil when there is none.
func (d *Dashboard) productRoute() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range d.Routes() {
		mux.Handle(rt.Pattern, rt.Handler)
	}
	req, _ := http.NewRequest(http.MethodGet, "/api/v1/analytics/products", nil)
	if h, pattern := mux.Handler(req); pattern != "" {
		return h
	}
	return nil
}

// productsFrom asks the product endpoint api, as r's client (same
// headers, so the same access), for q; ok is false when there is no
// endpoint or it answers anything but 200 with a table.
func productsFrom(api http.Handler, r *http.Request, q tableQuery, lang souq.Lang) (productAnswer, bool) {
	if api == nil {
		return productAnswer{}, false
	}
	target := apiURL("products", map[string]string{"market": q.market, "city": q.city, "category": q.category,
		"brand": q.brand, "sort": q.sort, "order": q.order, "lang": string(lang), "limit": "50"})
	sub := r.Clone(r.Context())
	sub.URL, _ = url.Parse(target)
	sub.RequestURI = target
	sub.Header.Del("Accept")
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	api.ServeHTTP(rec, sub)
	var a productAnswer
	if rec.status != http.StatusOK || json.Unmarshal(rec.body.Bytes(), &a) != nil {
		return productAnswer{}, false
	}
	return a, true
}

// recorder keeps a response in memory.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

// productTable builds the product table r asks for; with a filter it
// asks api, the product endpoint (nil when there is none).
func productTable(r *http.Request, u Update, lang souq.Lang, api http.Handler) productTableView {
	q := tableQueryOf(r)
	v := productTableView{Market: q.market, City: q.city, Category: q.category, Brand: q.brand,
		Sort: q.sort, Order: q.order}
	params := map[string]string{"market": q.market, "city": q.city, "category": q.category, "brand": q.brand,
		"sort": q.sort, "order": q.order, "lang": string(lang)}
	v.JSON = apiURL("products", params)
	params["format"] = "csv"
	v.CSV = apiURL("products", params)

	rows, total := u.Products, int64(len(u.Products))
	var answer productAnswer
	if q.filtered() {
		a, ok := productsFrom(api, r, q, lang)
		if ok {
			answer, rows, total = a, a.Rows, a.Total
		} else {
			v.Unfiltered = true
		}
	}
	rows = slices.Clone(rows)
	sortProducts(rows, q.sort, q.order, lang)
	for _, p := range rows {
		v.Rows = append(v.Rows, productRowOf(p, lang))
	}
	v.Shown, v.Total = fmtInt(int64(len(rows))), fmtInt(total)
	for _, s := range tableSorts {
		c := sortColumn{Key: s.key, Label: tr(lang, s.label), AriaSort: "none", Next: s.key + "-" + defaultOrder(s.key)}
		if s.key == q.sort {
			c.AriaSort, c.Next = "descending", s.key+"-asc"
			if q.order == "asc" {
				c.AriaSort, c.Next = "ascending", s.key+"-desc"
			}
		}
		v.Columns = append(v.Columns, c)
	}
	v.Options = tableOptionsOf(u, answer, q, lang)
	return v
}

func productRowOf(p ProductTableRow, lang souq.Lang) productRowView {
	price := none
	if p.Price.Currency != "" {
		price = string(p.Price.Currency) + " " + fmtDecimal(p.Price.Decimal())
	}
	return productRowView{ID: string(p.ProductID), Name: productNameHTML(p.Name, string(p.ProductID), lang),
		Brand: p.Brand, Price: price, Views: fmtInt(p.Views), Adds: fmtInt(p.AddEvents), Orders: fmtInt(p.Orders),
		Revenue: fmtAED(p.RevenueAED), Stock: fmtInt(int64(p.Stock)), SortName: nameIn(p.Name, lang),
		VViews: p.Views, VAdds: p.AddEvents, VOrders: p.Orders, VRevenue: p.RevenueAED, VStock: int64(p.Stock),
		VP: p.Price.Amount}
}

// sortProducts orders rows by key, then by product id, as the script
// does when a column header is clicked.
func sortProducts(rows []ProductTableRow, key, order string, lang souq.Lang) {
	value := func(p ProductTableRow) int64 {
		switch key {
		case "views":
			return p.Views
		case "adds":
			return p.AddEvents
		case "orders":
			return p.Orders
		case "units":
			return p.Units
		case "stock":
			return int64(p.Stock)
		case "price":
			return p.Price.Amount
		default:
			return p.RevenueAED
		}
	}
	slices.SortStableFunc(rows, func(a, b ProductTableRow) int {
		var c int
		switch key {
		case "name":
			c = strings.Compare(strings.ToLower(nameIn(a.Name, lang)), strings.ToLower(nameIn(b.Name, lang)))
		case "brand":
			c = strings.Compare(strings.ToLower(a.Brand), strings.ToLower(b.Brand))
		default:
			c = cmp.Compare(value(a), value(b))
		}
		if order == "desc" {
			c = -c
		}
		if c == 0 {
			c = strings.Compare(string(a.ProductID), string(b.ProductID))
		}
		return c
	})
}

// tableOptionsOf lists the filters' choices: the six markets and
// "unknown"; the cities, categories and brands of the last hour (or of
// the endpoint's answer), and whatever is selected now.
func tableOptionsOf(u Update, a productAnswer, q tableQuery, lang souq.Lang) tableOptions {
	opts := func(selected string, values []string, label func(string) string) []option {
		out := []option{{Value: "", Label: tr(lang, "all"), Selected: selected == ""}}
		seen := map[string]bool{"": true}
		for _, v := range append(values, selected) {
			if seen[v] {
				continue
			}
			seen[v] = true
			out = append(out, option{Value: v, Label: label(v), Selected: v == selected})
		}
		return out
	}
	same := func(s string) string { return s }
	names := func(rows []string, more []string) []string { return append(slices.Clone(rows), more...) }
	var markets []string
	for _, m := range souq.MarketCodes() {
		markets = append(markets, string(m))
	}
	markets = append(markets, "unknown")
	var cities, cats, brands []string
	for _, r := range u.Snapshot.Cities {
		cities = append(cities, r.Name)
	}
	for _, r := range u.Snapshot.Categories {
		cats = append(cats, r.Name)
	}
	for _, r := range u.Snapshot.Brands {
		brands = append(brands, r.Name)
	}
	catNames := map[string]string{}
	for _, c := range a.Options.Categories {
		cats = append(cats, c.Key)
		catNames[c.Key] = nameIn(c.Name, lang)
	}
	slices.Sort(cities)
	slices.Sort(brands)
	return tableOptions{
		Markets: opts(q.market, markets, func(c string) string { return marketName(c, lang) + " (" + c + ")" }),
		Cities:  opts(q.city, names(cities, a.Options.Cities), same),
		Categories: opts(q.category, cats, func(k string) string {
			if n := catNames[k]; n != "" {
				return n
			}
			return k
		}),
		Brands: opts(q.brand, names(brands, a.Options.Brands), same),
	}
}

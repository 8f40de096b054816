package dashboard

import (
	"cmp"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
)

// TestWarRoomBadParameters: every bad parameter is a 400 problem naming
// the parameter and what it accepts.
func TestWarRoomBadParameters(t *testing.T) {
	_, _, _, h := newWarTest(t, nil)
	for _, tc := range []struct{ path, want string }{
		{"/api/v1/analytics/products?window=5m", `window must be 60m or today, not "5m"`},
		{"/api/v1/analytics/products?sort=score", `sort must be revenue, views, adds, orders, units, stock, price, name or brand, not "score"`},
		{"/api/v1/analytics/products?order=up", `order must be asc or desc, not "up"`},
		{"/api/v1/analytics/products?limit=0", `limit must be a whole number from 1 to 500, not "0"`},
		{"/api/v1/analytics/products?limit=501", `limit must be a whole number from 1 to 500, not "501"`},
		{"/api/v1/analytics/products?limit=ten", `limit must be a whole number from 1 to 500, not "ten"`},
		{"/api/v1/analytics/products?market=US", `market must be AE, SA, QA, KW, BH, OM, unknown, not "US"`},
		{"/api/v1/analytics/products?market=ae", `market must be AE, SA, QA, KW, BH, OM, unknown, not "ae"`},
		{"/api/v1/analytics/products?lang=fr", `lang must be en or ar, not "fr"`},
		{"/api/v1/analytics/products?format=xml", `format must be json or csv, not "xml"`},
		{"/api/v1/analytics/products?brand=" + strings.Repeat("b", 201), `brand must be at most 200 bytes, not "bbbbbbbbbbbbbbbb…"`},
		{"/api/v1/analytics/stock?list=all", `list must be watch, low or out, not "all"`},
		{"/api/v1/analytics/stock?lang=de", `lang must be en or ar, not "de"`},
		{"/api/v1/analytics/sale?format=pdf", `format must be json or csv, not "pdf"`},
		{"/api/v1/analytics/alerts?since=yesterday", `since must be an RFC 3339 time such as 2026-01-02T15:04:05Z, not "yesterday"`},
		{"/api/v1/analytics/audience?format=tsv", `format must be json or csv, not "tsv"`},
		{"/api/v1/analytics/compare?format=CSV", `format must be json or csv, not "CSV"`},
		{"/api/v1/analytics/trending?lang=xx", `lang must be en or ar, not "xx"`},
		{"/api/v1/analytics/markets?format=x", `format must be json or csv, not "x"`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res := get(t, h, tc.path)
			wantJSON(t, res, http.StatusBadRequest, "application/problem+json")
			if p := decodeAs[problemDoc](t, res); p.Detail != tc.want {
				t.Errorf("detail: got %q, want %q", p.Detail, tc.want)
			}
		})
	}
}

func TestProductsEndpoint(t *testing.T) {
	_, _, _, h := newWarTest(t, nil)
	ids := func(rows []ProductTableRow) []string {
		var out []string
		for _, r := range rows {
			out = append(out, string(r.ProductID))
		}
		return out
	}
	for _, tc := range []struct {
		query string
		ids   []string
		total int
	}{
		{"", []string{"prd_oud", "prd_cream", "prd_soap", "prd_unknown"}, 4},
		{"?sort=views&order=asc", []string{"prd_unknown", "prd_soap", "prd_cream", "prd_oud"}, 4},
		{"?sort=adds", []string{"prd_cream", "prd_oud", "prd_soap", "prd_unknown"}, 4},
		{"?sort=stock", []string{"prd_oud", "prd_soap", "prd_cream", "prd_unknown"}, 4},
		{"?sort=price", []string{"prd_oud", "prd_cream", "prd_soap", "prd_unknown"}, 4},
		{"?sort=name", []string{"prd_unknown", "prd_cream", "prd_oud", "prd_soap"}, 4},
		{"?sort=name&lang=ar", []string{"prd_unknown", "prd_soap", "prd_oud", "prd_cream"}, 4},
		// Brands: "" (not in the catalogue), Arabian Oud, Dove, Nivea.
		{"?sort=brand", []string{"prd_unknown", "prd_oud", "prd_soap", "prd_cream"}, 4},
		{"?sort=brand&order=desc&category=skincare", []string{"prd_cream"}, 1},
		{"?limit=2", []string{"prd_oud", "prd_cream"}, 4},
		{"?category=fragrance", []string{"prd_oud"}, 1},
		{"?brand=Dove", []string{"prd_soap"}, 1},
		{"?brand=Dove&category=fragrance", nil, 0},
		{"?market=KW", []string{"prd_cream"}, 1},
	} {
		t.Run(tc.query, func(t *testing.T) {
			res := get(t, h, "/api/v1/analytics/products"+tc.query)
			wantJSON(t, res, http.StatusOK, "application/json")
			got := decodeAs[ProductsResponse](t, res)
			if diff := gocmp.Diff(tc.ids, ids(got.Rows)); diff != "" || got.Total != tc.total {
				t.Errorf("total %d, want %d; rows (-want +got):\n%s", got.Total, tc.total, diff)
			}
		})
	}
	t.Run("a market's prices and options", func(t *testing.T) {
		got := decodeAs[ProductsResponse](t, get(t, h, "/api/v1/analytics/products?market=KW&window=today"))
		todayFrom := time.Date(2026, 3, 13, 20, 0, 0, 0, time.UTC)
		if got.Window != "today" || !got.From.Equal(todayFrom) || !got.To.Equal(t0) || got.Filters.Market != "KW" || got.Sort != "revenue" || got.Order != "desc" {
			t.Errorf("got window %q %v–%v, filters %+v, sort %s %s", got.Window, got.From, got.To, got.Filters, got.Sort, got.Order)
		}
		if p := got.Rows[0].Price; p.Amount != 400 || p.Currency != "KWD" {
			t.Errorf("price: got %v, want KWD 0.400", p)
		}
		if diff := gocmp.Diff([]string{"Kuwait City", "Hawalli", "Salmiya", "Farwaniya", "Ahmadi", "Jahra", "Mubarak Al-Kabeer"}, got.Options.Cities); diff != "" {
			t.Errorf("cities (-want +got):\n%s", diff)
		}
		if len(got.Options.Markets) != 7 || got.Options.Categories[0].Key != "skincare" || got.Options.Categories[0].Name.EN != "Skincare" {
			t.Errorf("options: got %+v", got.Options)
		}
		if got.Query == nil || !strings.Contains(got.Query.DuckDB, "= 'KW'") || !strings.Contains(got.Query.Athena, "= 'KW'") {
			t.Errorf("query: got %+v, want the market filter", got.Query)
		}
	})
}

// TestProductsCSV checks the CSV cell by cell: names in Arabic, money as
// decimals, RFC 4180 quoting and a neutralised formula.
func TestProductsCSV(t *testing.T) {
	_, _, _, h := newWarTest(t, nil)
	rows := readCSV(t, get(t, h, "/api/v1/analytics/products?format=csv&lang=ar&sort=units&limit=3"), "products")
	want := [][]string{
		{"product_id", "name", "brand", "category", "price", "currency", "views", "add_events", "orders", "units", "revenue_aed", "stock"},
		{"prd_oud", "عطر العود الملكي", "Arabian Oud", "العطور", "360.00", "AED", "500", "80", "50", "60", "21600.00", "40"},
		{"prd_cream", "كريم الليل", "Nivea", "العناية بالبشرة", "40.00", "AED", "300", "90", "45", "50", "2000.00", "0"},
		{"prd_soap", "صابون", "Dove", "العناية بالجسم", "8.00", "AED", "100", "5", "2", "2", "16.00", "3"},
	}
	if diff := gocmp.Diff(want, rows); diff != "" {
		t.Errorf("CSV (-want +got):\n%s", diff)
	}
	res := get(t, h, "/api/v1/analytics/products?brand=Dove", "Accept", "text/csv")
	raw := body(t, res)
	if !strings.Contains(raw, `prd_soap,"Soap, ""Rose""",Dove,Body care,8.00,AED,`) {
		t.Errorf("Accept: text/csv, English: got %q, want the quoted name", raw)
	}
}

func TestSaleAndStockCSV(t *testing.T) {
	_, _, _, h := newWarTest(t, nil)
	sale := readCSV(t, get(t, h, "/api/v1/analytics/sale?format=csv"), "sale")
	want := [][]string{
		{"product_id", "name", "brand", "offered", "stock", "sold", "sell_through", "units_per_minute", "sold_out_at", "sold_out"},
		{"prd_oud", "Royal Oud Perfume", "Arabian Oud", "100", "40", "60", "0.6", "2", "2026-03-14T10:20:30Z", "false"},
		{"prd_mask", "Sheet Mask", "'=cmd", "20", "20", "0", "0", "0", "", "false"},
		{"prd_cream", "Night Cream", "Nivea", "50", "0", "50", "1", "2", "", "true"},
	}
	if diff := gocmp.Diff(want, sale); diff != "" {
		t.Errorf("sale CSV (-want +got):\n%s", diff)
	}
	out := readCSV(t, get(t, h, "/api/v1/analytics/stock?list=out&format=csv&lang=ar"), "stock-out")
	wantOut := [][]string{
		{"product_id", "name", "brand", "stock", "units_last_hour", "on_sale"},
		{"prd_cream", "كريم الليل", "Nivea", "0", "50", "true"},
		{"prd_gone", "أحمر شفاه", "Mac", "0", "0", "false"},
	}
	if diff := gocmp.Diff(wantOut, out); diff != "" {
		t.Errorf("stock CSV (-want +got):\n%s", diff)
	}
}

func TestSaleAndStockJSON(t *testing.T) {
	_, _, _, h := newWarTest(t, nil)
	res := get(t, h, "/api/v1/analytics/sale")
	wantJSON(t, res, http.StatusOK, "application/json")
	s := decodeAs[SaleResponse](t, res)
	if s.Sale == nil || s.Sale.During.Units != 110 || s.Query == nil || !strings.Contains(s.Query.DuckDB, "'prd_oud', 'prd_mask', 'prd_cream'") {
		t.Errorf("sale: got %+v", s)
	}
	for _, tc := range []struct {
		list string
		ids  []string
	}{{"", []string{"prd_oud", "prd_cream", "prd_soap", "prd_mask"}}, {"low", []string{"prd_soap"}}, {"out", []string{"prd_cream", "prd_gone"}}} {
		got := decodeAs[StockResponse](t, get(t, h, "/api/v1/analytics/stock?list="+tc.list))
		var ids []string
		for _, r := range got.Rows {
			ids = append(ids, string(r.ProductID))
		}
		if diff := gocmp.Diff(tc.ids, ids); diff != "" || got.Threshold != 5 || got.List != cmp.Or(tc.list, "watch") {
			t.Errorf("list %q: threshold %d list %q; rows (-want +got):\n%s", tc.list, got.Threshold, got.List, diff)
		}
	}
}

func TestNoSale(t *testing.T) {
	_, w, _, h := newWarTest(t, nil)
	w.cat.sales = nil
	res := get(t, h, "/api/v1/analytics/sale")
	wantJSON(t, res, http.StatusOK, "application/json")
	if got := body(t, res); got != `{"sale":null,"query":null}`+"\n" {
		t.Errorf("got %s, want a null sale", got)
	}
	if rows := readCSV(t, get(t, h, "/api/v1/analytics/sale?format=csv"), "sale"); len(rows) != 1 {
		t.Errorf("CSV: got %v, want the header only", rows)
	}
}

func TestAudienceAndCompare(t *testing.T) {
	_, _, _, h := newWarTest(t, nil)
	a := decodeAs[AudienceResponse](t, get(t, h, "/api/v1/analytics/audience"))
	if diff := gocmp.Diff(sampleAudience(), a.AudienceFigures); diff != "" || a.Query == nil || !strings.Contains(a.Query.DuckDB, "GROUPING SETS") {
		t.Errorf("audience (-want +got):\n%s\nquery %+v", diff, a.Query)
	}
	rows := readCSV(t, get(t, h, "/api/v1/analytics/audience", "Accept", "text/csv;q=0.9, application/json;q=0.1"), "audience")
	want := [][]string{
		{"window", "from", "to", "market", "visitors", "buyers", "orders", "units", "revenue_aed", "conversion", "average_order_aed", "units_per_order"},
		{"hour", "2026-03-14T09:01:00Z", "2026-03-14T10:00:30Z", "all", "1000", "50", "60", "90", "12345.50", "0.05", "205.76", "1.5"},
		{"hour", "2026-03-14T09:01:00Z", "2026-03-14T10:00:30Z", "AE", "600", "30", "36", "50", "10000.00", "0.05", "277.78", "1.3888888888888888"},
	}
	if diff := gocmp.Diff(want, rows); diff != "" {
		t.Errorf("audience CSV (-want +got):\n%s", diff)
	}
	c := decodeAs[CompareResponse](t, get(t, h, "/api/v1/analytics/compare"))
	if diff := gocmp.Diff(sampleCompare(), c.Comparisons); diff != "" || c.Query == nil || !strings.Contains(c.Query.Athena, "'last_week'") {
		t.Errorf("compare (-want +got):\n%s", diff)
	}
	rows = readCSV(t, get(t, h, "/api/v1/analytics/compare?format=csv"), "compare")
	want = [][]string{
		{"figure", "today", "yesterday", "last_week", "vs_yesterday", "vs_last_week"},
		{"revenue_aed", "1234.50", "1000.00", "", "0.2345", ""},
		{"conversion", "0.05", "0.04", "", "0.25", ""},
	}
	if diff := gocmp.Diff(want, rows); diff != "" {
		t.Errorf("compare CSV (-want +got):\n%s", diff)
	}
}

func TestAlertsEndpoint(t *testing.T) {
	now := t0
	d, w, _, h := newWarTest(t, func(d *Deps) { d.Now = func() time.Time { return now } })
	got := decodeAs[AlertsResponse](t, get(t, h, "/api/v1/analytics/alerts"))
	if len(got.Active) != 1 || got.Active[0].ID != "sold_out:prd_cream" || len(got.Events) != 1 || got.Events[0].State != "raised" || got.Query == nil {
		t.Fatalf("got %+v, want prd_cream sold out, raised", got)
	}
	// Stock comes back: the alert clears ClearAfter later.
	w.cat.setStock("prd_cream", 5)
	now = t0.Add(time.Second)
	d.update(t.Context())
	now = t0.Add(31 * time.Second)
	got = decodeAs[AlertsResponse](t, get(t, h, "/api/v1/analytics/alerts"))
	if len(got.Active) != 0 || len(got.Events) != 2 || got.Events[0].State != "cleared" || !got.Events[0].At.Equal(now) {
		t.Errorf("after restock: got %+v, want no alert and a clear at %v", got, now)
	}
	// A sale that is cancelled takes its sold-out alerts with it.
	w.cat.setStock("prd_cream", 0)
	now = t0.Add(40 * time.Second)
	d.update(t.Context())
	w.cat.sales = nil
	now = t0.Add(50 * time.Second) // the sale schedule is read again after salesTTL
	d.update(t.Context())
	now = t0.Add(80 * time.Second)
	if u, _ := d.update(t.Context()); len(u.Alerts) != 0 || len(d.alerts.eventsAfter(t0.Add(31*time.Second))) != 2 {
		t.Errorf("after the sale was cancelled: got %v, want the sold-out alert raised again, then cleared", u.Alerts)
	}
	now = t0.Add(31 * time.Second)
	got = decodeAs[AlertsResponse](t, get(t, h, "/api/v1/analytics/alerts?since="+t0.Add(10*time.Second).Format(time.RFC3339)))
	if len(got.Events) != 3 || got.Events[2].State != "cleared" || !got.Events[2].At.Equal(t0.Add(31*time.Second)) {
		t.Errorf("since 10 s after t0: got %+v, want the clear at 31 s and the later raise and clear", got.Events)
	}
	now = t0 // the file's name carries the time
	rows := readCSV(t, get(t, h, "/api/v1/analytics/alerts?format=csv&lang=ar"), "alerts")
	if len(rows) != 5 || rows[3][1] != "cleared" || rows[4][1] != "raised" || rows[4][2] != "sold_out:prd_cream" || rows[4][5] != "prd_cream" ||
		!strings.HasPrefix(rows[4][9], "نفدت الكمية: كريم الليل") || rows[4][0] != "2026-03-14T10:00:30Z" {
		t.Errorf("alerts CSV: got %q", rows)
	}
}

func TestTrendingAndMarketsCSV(t *testing.T) {
	_, _, h := newTest(t, nil)
	rows := readCSV(t, get(t, h, "/api/v1/analytics/trending?format=csv&lang=ar"), "trending-5m")
	want := [][]string{
		{"rank", "product_id", "name", "score", "views", "add_events", "add_units", "orders", "units", "revenue_aed"},
		{"1", "prd_oud", "عطر العود الملكي", "91", "40", "7", "7", "3", "3", "447.60"},
		{"2", "prd_nameless", "prd_nameless", "12", "9", "1", "1", "0", "0", "0.00"},
	}
	if diff := gocmp.Diff(want, rows); diff != "" {
		t.Errorf("trending CSV (-want +got):\n%s", diff)
	}
	rows = readCSV(t, get(t, h, "/api/v1/analytics/markets?format=csv"), "markets")
	if len(rows) != 7 || strings.Join(rows[4], ",") != "KW,KWD,13,0,14736.00,1234.500,14736.00,3,0,1492.00,125.000,1492.00" {
		t.Errorf("markets CSV: got %q", rows)
	}
}

func TestNeutralise(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"=1+2", "'=1+2"}, {"+971 50", "'+971 50"}, {"-cmd", "'-cmd"}, {"@SUM(A1)", "'@SUM(A1)"}, {"\tx", "'\tx"},
		{"-12.50", "-12.50"}, {"-3", "-3"}, {"Oud", "Oud"}, {"", ""}, {"a=b", "a=b"},
	} {
		if got := neutralise(tc.in); got != tc.want {
			t.Errorf("neutralise(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestStockRequestsShareOneUpdate: concurrent requests for the stock list
// share one update (and the next ones within an interval reuse it): five
// of them read the product figures and the live stock as often as one
// push does, not five times.
func TestStockRequestsShareOneUpdate(t *testing.T) {
	d1, one, _, _ := newWarTest(t, nil)
	if _, err := d1.update(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantFigures, wantStocks := one.figures.calls.Load(), one.cat.stockCalls.Load()

	_, w, _, h := newWarTest(t, nil)
	var wg sync.WaitGroup
	for _, list := range []string{"watch", "low", "out", "watch", "low"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest(http.MethodGet, "/api/v1/analytics/stock?list="+list, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Errorf("list=%s: got %d, want 200", list, rec.Code)
			}
		}()
	}
	wg.Wait()
	if got, got2 := w.figures.calls.Load(), w.cat.stockCalls.Load(); got != wantFigures || got2 != wantStocks {
		t.Errorf("5 concurrent stock requests: got %d figure reads and %d stock reads, want %d and %d (one update)", got, got2, wantFigures, wantStocks)
	}
}

// TestProductTableReadsOnlyRowsShown: sorted by a counter, the table
// reads the live stock of the rows it shows (2 of 4), not of every row
// with figures; sorted by stock it needs them all.
func TestProductTableReadsOnlyRowsShown(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"?limit=2", 2},
		{"?sort=units&limit=1", 1},
		{"?sort=stock&limit=2", 4},
	} {
		t.Run(tc.query, func(t *testing.T) {
			_, w, _, h := newWarTest(t, nil)
			res := get(t, h, "/api/v1/analytics/products"+tc.query)
			wantJSON(t, res, http.StatusOK, "application/json")
			w.cat.mu.Lock()
			defer w.cat.mu.Unlock()
			if n := len(w.cat.stockIDs); n != 1 || w.cat.stockIDs[0] != tc.want {
				t.Errorf("stock reads: got %v (ids each), want one of %d", w.cat.stockIDs, tc.want)
			}
		})
	}
}

// TestProductLookups: an id the catalogue does not know is looked up once
// for unknownTTL, not at every push; an id without the product prefix is
// never looked up (the catalogue would take it for a slug and could name
// another product).
func TestProductLookups(t *testing.T) {
	start := t0.Truncate(time.Minute) // the same hour of buckets for 30 s
	now := start
	d, w, _, _ := newWarTest(t, func(d *Deps) { d.Now = func() time.Time { return now } })
	from, to := lastHour(t0)
	w.figures.spans[[2]time.Time{from, to}] = append(w.figures.spans[[2]time.Time{from, to}], prow("royal-oud", 3, 0, 0, 0, 0))
	count := func() map[string]int {
		w.cat.mu.Lock()
		defer w.cat.mu.Unlock()
		n := map[string]int{}
		for _, id := range w.cat.lookups {
			n[id]++
		}
		return n
	}
	for _, at := range []time.Duration{0, time.Second, 2 * time.Second} {
		now = start.Add(at)
		if _, err := d.update(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n["prd_unknown"] != 1 || n["royal-oud"] != 0 {
		t.Errorf("over 3 pushes: got %d lookups of prd_unknown and %d of royal-oud, want 1 and 0", n["prd_unknown"], n["royal-oud"])
	}
	now = start.Add(unknownTTL)
	if _, err := d.update(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := count(); n["prd_unknown"] != 2 {
		t.Errorf("after %v: got %d lookups of prd_unknown, want 2", unknownTTL, n["prd_unknown"])
	}
}

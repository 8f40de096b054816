package dashboard

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/souq-commerce/souq/internal/souq"
)

// renderUpdate renders u as the page for target, as the page handler
// does with the figures it read.
func renderUpdate(t *testing.T, u Update, target string, header ...string) (*http.Response, *html.Node) {
	t.Helper()
	d, _, _ := newTest(t, nil)
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	d.writePage(rec, req, u, false)
	res := rec.Result()
	page := body(t, res)
	noInline(t, page)
	return res, parseHTML(t, page)
}

// rowsOf is the cells of each row of the tbody id.
func rowsOf(t *testing.T, doc *html.Node, id string) []string {
	t.Helper()
	n := byID(doc, id)
	if n == nil {
		t.Fatalf("no #%s", id)
	}
	var out []string
	for _, tr := range elements(n, "tr") {
		out = append(out, cells(tr))
	}
	return out
}

func wantRows(t *testing.T, doc *html.Node, id string, want []string) {
	t.Helper()
	got := rowsOf(t, doc, id)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("#%s rows:\n got %q\nwant %q", id, got, want)
	}
}

func wantText(t *testing.T, doc *html.Node, id, want string) {
	t.Helper()
	n := byID(doc, id)
	if n == nil {
		t.Errorf("no #%s", id)
		return
	}
	if got := text(n); got != want {
		t.Errorf("#%s: got %q, want %q", id, got, want)
	}
}

func wantAttr(t *testing.T, doc *html.Node, id, key, want string) {
	t.Helper()
	n := byID(doc, id)
	if n == nil {
		t.Errorf("no #%s", id)
		return
	}
	if got, _ := attr(n, key); got != want {
		t.Errorf("#%s %s: got %q, want %q", id, key, got, want)
	}
}

// TestPageLanguage: ?lang wins, else Accept-Language's first of ar and
// en, else English; the Arabic page runs right to left and links the
// English one.
func TestPageLanguage(t *testing.T) {
	for _, tc := range []struct {
		name, target, accept   string
		lang, dir, title, link string
	}{
		{"default", "/dashboard", "", "en", "ltr", "Souq war room", "/dashboard?lang=ar"},
		{"accept ar", "/dashboard", "ar-AE,ar;q=0.9,en;q=0.5", "ar", "rtl", "غرفة عمليات سوق", "/dashboard?lang=en"},
		{"accept fr then en", "/dashboard", "fr,en;q=0.8,ar;q=0.2", "en", "ltr", "Souq war room", "/dashboard?lang=ar"},
		{"query over header", "/dashboard?lang=en", "ar", "en", "ltr", "Souq war room", "/dashboard?lang=ar"},
		{"query ar", "/dashboard?lang=ar", "", "ar", "rtl", "غرفة عمليات سوق", "/dashboard?lang=en"},
		{"unknown query", "/dashboard?lang=fr", "ar", "ar", "rtl", "غرفة عمليات سوق", "/dashboard?lang=en"},
		{"filters kept", "/dashboard?lang=ar&market=KW&by=views-asc", "", "ar", "rtl", "غرفة عمليات سوق", "/dashboard?by=views-asc&lang=en&market=KW"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, doc := renderUpdate(t, sampleUpdate(), tc.target, "Accept-Language", tc.accept)
			root := elements(doc, "html")[0]
			if lang, _ := attr(root, "lang"); lang != tc.lang {
				t.Errorf("lang: got %q, want %q", lang, tc.lang)
			}
			if dir, _ := attr(root, "dir"); dir != tc.dir {
				t.Errorf("dir: got %q, want %q", dir, tc.dir)
			}
			if got := res.Header.Get("Content-Language"); got != tc.lang {
				t.Errorf("Content-Language: got %q, want %q", got, tc.lang)
			}
			if got := res.Header.Get("Vary"); got != "Accept-Language" {
				t.Errorf("Vary: got %q, want Accept-Language", got)
			}
			if got := text(elements(doc, "h1")[0]); got != tc.title {
				t.Errorf("h1: got %q, want %q", got, tc.title)
			}
			wantAttr(t, doc, "lang-switch", "href", tc.link)
		})
	}
}

// TestPageWarRoomPanels renders the fixture's panels in both languages
// and reads the figures back.
func TestPageWarRoomPanels(t *testing.T) {
	for _, tc := range []struct {
		lang      string
		alerts    []string
		saleState string
		sale      []string
		saleItems []string
		compare   map[string]string
		audience  []string
		markets   []string
		threshold string
		low       []string
		products  []string
	}{
		{
			lang: "en",
			alerts: []string{
				"Critical Royal Oud Perfume sold out since 13:55:30 (5 min 0 s)",
				"Warning Checkout errors at 6.0% (over 5.0%) since 13:57:30 (3 min 0 s)",
			},
			saleState: "running, ends at 15:02:33",
			sale: []string{
				"Revenue (AED) | 45,000.00 | 15,000.00 | ▲ +200.0% up",
				"Units | 150 | 60 | ▲ +150.0% up",
				"Orders | 120 | 40 | ▲ +200.0% up",
			},
			saleItems: []string{
				"Night Cream | Lumi | 35 / 50 (70.0%) | 15 | 2.5 | 14:42",
				"Royal Oud Perfume | Oud House | 20 / 20 (100.0%) | 0 | 0.0 | SOLD OUT",
			},
			compare: map[string]string{
				"cmp-revenue_aed": "Revenue (AED) 987,654.32 today so far ▲ +12.7% up vs yesterday (876,543.21) ▼ -20.0% down vs last week (1,234,567.89)",
				"cmp-orders":      "Orders 987 today so far = 0.0% no change vs yesterday (987) no data vs last week (–)",
				"cmp-conversion":  "Conversion (buyers ÷ visitors) 3.4% today so far ▲ +13.3% up vs yesterday (3.0%) ▼ -15.0% down vs last week (4.0%)",
			},
			audience: []string{
				"Last minute | 321 | 12 | 3.7% | 50.00 | 1.15",
				"Last hour | 4,567 | 40 | 0.9% | 293.94 | 1.19",
				"Today | 54,321 | 900 | 1.7% | 1,000.66 | 1.11",
			},
			markets:   []string{"United Arab Emirates | 3,000 | 30 | 1.0% | 300.00 | 1.25", "Kuwait | 1,567 | 10 | 0.6% | 270.00 | 1.00"},
			threshold: "Low means 5 units or fewer.",
			low:       []string{"مسك أبيض | Oud House | 3 | 4 | "},
			products: []string{
				"Night Cream | Lumi | AED 100.00 | 120 | 20 | 9 | 900.00 | 15",
				"Royal Oud Perfume | Oud House | AED 223.80 | 40 | 7 | 3 | 447.60 | 0",
				"مسك أبيض | Oud House | AED 50.00 | 300 | 2 | 1 | 50.00 | 3",
			},
		},
		{
			lang: "ar",
			alerts: []string{
				"حرج نفد عطر العود الملكي منذ 13:55:30 (5 د 0 ث)",
				"تحذير أخطاء الدفع 6.0% (أكثر من 5.0%) منذ 13:57:30 (3 د 0 ث)",
			},
			saleState: "جارية، تنتهي في 15:02:33",
			sale: []string{
				"الإيرادات (درهم) | 45,000.00 | 15,000.00 | ▲ +200.0% ارتفاع",
				"الوحدات | 150 | 60 | ▲ +150.0% ارتفاع",
				"الطلبات | 120 | 40 | ▲ +200.0% ارتفاع",
			},
			saleItems: []string{
				"Night Cream | Lumi | 35 / 50 (70.0%) | 15 | 2.5 | 14:42",
				"عطر العود الملكي | Oud House | 20 / 20 (100.0%) | 0 | 0.0 | نفدت الكمية",
			},
			compare: map[string]string{
				"cmp-revenue_aed": "الإيرادات (درهم) 987,654.32 اليوم حتى الآن ▲ +12.7% ارتفاع مقارنة بالأمس (876,543.21) ▼ -20.0% انخفاض مقارنة بالأسبوع الماضي (1,234,567.89)",
			},
			audience: []string{
				"الدقيقة الأخيرة | 321 | 12 | 3.7% | 50.00 | 1.15",
				"الساعة الأخيرة | 4,567 | 40 | 0.9% | 293.94 | 1.19",
				"اليوم | 54,321 | 900 | 1.7% | 1,000.66 | 1.11",
			},
			markets:   []string{"الإمارات العربية المتحدة | 3,000 | 30 | 1.0% | 300.00 | 1.25", "الكويت | 1,567 | 10 | 0.6% | 270.00 | 1.00"},
			threshold: "المنخفض يعني 5 وحدات أو أقل.",
			low:       []string{"مسك أبيض | Oud House | 3 | 4 | "},
			products: []string{
				"Night Cream | Lumi | AED 100.00 | 120 | 20 | 9 | 900.00 | 15",
				"عطر العود الملكي | Oud House | AED 223.80 | 40 | 7 | 3 | 447.60 | 0",
				"مسك أبيض | Oud House | AED 50.00 | 300 | 2 | 1 | 50.00 | 3",
			},
		},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			_, doc := renderUpdate(t, sampleUpdate(), "/dashboard?lang="+tc.lang)
			var alerts []string
			for _, li := range elements(byID(doc, "alerts"), "li") {
				alerts = append(alerts, text(li))
				if _, ok := attr(li, "role"); ok {
					t.Errorf("alert %q has a role: only the script marks newly raised alerts", text(li))
				}
			}
			if strings.Join(alerts, "\n") != strings.Join(tc.alerts, "\n") {
				t.Errorf("alerts:\n got %q\nwant %q", alerts, tc.alerts)
			}
			if cls, _ := attr(elements(byID(doc, "alerts"), "li")[0], "class"); cls != "alert critical" {
				t.Errorf("first alert class %q, want alert critical", cls)
			}
			wantText(t, doc, "alerts-count", "2")
			wantText(t, doc, "sale-state", tc.saleState)
			wantText(t, doc, "sale-left", "1:02:03")
			wantAttr(t, doc, "sale-left", "data-ends", "2026-03-14T11:02:33Z")
			var sale []string
			for _, id := range []string{"sale-revenue", "sale-units", "sale-orders"} {
				sale = append(sale, cells(byID(doc, id)))
			}
			if strings.Join(sale, "\n") != strings.Join(tc.sale, "\n") {
				t.Errorf("sale figures:\n got %q\nwant %q", sale, tc.sale)
			}
			wantRows(t, doc, "sale-body", tc.saleItems)
			soldOut := elements(byID(doc, "sale-body"), "tr")[1]
			if cls, _ := attr(soldOut, "class"); cls != "sold-out" || len(elements(soldOut, "strong")) != 1 {
				t.Errorf("sold-out item: class %q, %d flags; want sold-out and a flag", cls, len(elements(soldOut, "strong")))
			}
			for id, want := range tc.compare {
				wantText(t, doc, id, want)
			}
			wantRows(t, doc, "audience-body", tc.audience)
			wantRows(t, doc, "audience-markets-body", tc.markets)
			wantText(t, doc, "stock-threshold", tc.threshold)
			wantRows(t, doc, "stock-low-body", tc.low)
			wantRows(t, doc, "products-body", tc.products)
			wantRows(t, doc, "brand-body", []string{"Lumi | 120 | 20 | 9 | 9 | 900.00", "Oud House | 340 | 9 | 4 | 4 | 497.60"})
		})
	}
}

// TestProductTableOneNameColumn: each product row has one header cell,
// the name in the page's language, marked with the other language when
// it falls back to it.
func TestProductTableOneNameColumn(t *testing.T) {
	for _, tc := range []struct {
		lang  string
		names []string
		langs []string // the lang attribute inside each name cell ("" for none)
	}{
		{"en", []string{"Night Cream", "Royal Oud Perfume", "مسك أبيض"}, []string{"", "", "ar"}},
		{"ar", []string{"Night Cream", "عطر العود الملكي", "مسك أبيض"}, []string{"en", "", ""}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			_, doc := renderUpdate(t, sampleUpdate(), "/dashboard?lang="+tc.lang)
			table := byID(doc, "products")
			names := 0
			for _, th := range elements(elements(table, "thead")[0], "th") {
				if key, _ := attr(th, "data-key"); key == "name" {
					names++
				}
			}
			if names != 1 {
				t.Errorf("%d name columns, want 1", names)
			}
			for i, tr := range elements(byID(doc, "products-body"), "tr") {
				ths := elements(tr, "th")
				if len(ths) != 1 || len(elements(tr, "td")) != 7 {
					t.Errorf("row %d: %d header cells and %d cells, want 1 and 7", i, len(ths), len(elements(tr, "td")))
					continue
				}
				if got := text(ths[0]); got != tc.names[i] {
					t.Errorf("row %d name: got %q, want %q", i, got, tc.names[i])
				}
				got := ""
				walk(ths[0], func(n *html.Node) {
					if v, ok := attr(n, "lang"); ok && n != ths[0] {
						got = v
					}
				})
				if got != tc.langs[i] {
					t.Errorf("row %d name lang: got %q, want %q", i, got, tc.langs[i])
				}
			}
		})
	}
}

// TestProductTableSortWithoutScript: the column buttons submit the form
// with by=<key>-<order>; the server sorts, marks the column with
// aria-sort and offers the other order next.
func TestProductTableSortWithoutScript(t *testing.T) {
	for _, tc := range []struct {
		query, key, ariaSort, next string
		first                      []string
	}{
		{"", "revenue", "descending", "revenue-asc", []string{"prd_cream", "prd_oud", "prd_musk"}},
		{"&by=views-desc", "views", "descending", "views-asc", []string{"prd_musk", "prd_cream", "prd_oud"}},
		{"&by=views-asc", "views", "ascending", "views-desc", []string{"prd_oud", "prd_cream", "prd_musk"}},
		{"&sort=stock&order=asc", "stock", "ascending", "stock-desc", []string{"prd_oud", "prd_musk", "prd_cream"}},
		{"&by=name-asc", "name", "ascending", "name-desc", []string{"prd_cream", "prd_oud", "prd_musk"}},
		{"&by=bogus-up", "revenue", "descending", "revenue-asc", []string{"prd_cream", "prd_oud", "prd_musk"}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			_, doc := renderUpdate(t, sampleUpdate(), "/dashboard?lang=en"+tc.query)
			var ids []string
			for _, tr := range elements(byID(doc, "products-body"), "tr") {
				id, _ := attr(tr, "data-id")
				ids = append(ids, id)
			}
			if strings.Join(ids, ",") != strings.Join(tc.first, ",") {
				t.Errorf("order: got %v, want %v", ids, tc.first)
			}
			for _, th := range elements(elements(byID(doc, "products"), "thead")[0], "th") {
				key, _ := attr(th, "data-key")
				sort, _ := attr(th, "aria-sort")
				want := "none"
				if key == tc.key {
					want = tc.ariaSort
				}
				if sort != want {
					t.Errorf("column %s aria-sort: got %q, want %q", key, sort, want)
				}
				buttons := elements(th, "button")
				if len(buttons) != 1 {
					t.Errorf("column %s: %d buttons, want 1", key, len(buttons))
					continue
				}
				if form, _ := attr(buttons[0], "form"); form != "pf" {
					t.Errorf("column %s button form=%q, want pf", key, form)
				}
				if key == tc.key {
					if v, _ := attr(buttons[0], "value"); v != tc.next {
						t.Errorf("column %s button value %q, want %q", key, v, tc.next)
					}
				}
			}
		})
	}
}

// TestPageLinksCarryFilters: the CSV links and the archive queries carry
// the page's filters, sort and language; the form shows the filters
// chosen. Without the product endpoint the page says the rows are not
// filtered rather than pretend they are.
func TestPageLinksCarryFilters(t *testing.T) {
	_, doc := renderUpdate(t, sampleUpdate(), "/dashboard?lang=ar&market=AE&city=Dubai&category=skincare&brand=Lumi&by=views-asc")
	wantAttr(t, doc, "csv-products", "href",
		"/api/v1/analytics/products?brand=Lumi&category=skincare&city=Dubai&format=csv&lang=ar&market=AE&order=asc&sort=views")
	wantAttr(t, doc, "q-products", "data-src",
		"/api/v1/analytics/products?brand=Lumi&category=skincare&city=Dubai&lang=ar&market=AE&order=asc&sort=views")
	for id, want := range map[string]string{
		"csv-audience":     "/api/v1/analytics/audience?format=csv&lang=ar",
		"csv-compare":      "/api/v1/analytics/compare?format=csv&lang=ar",
		"csv-sale":         "/api/v1/analytics/sale?format=csv&lang=ar",
		"csv-stock-low":    "/api/v1/analytics/stock?format=csv&lang=ar&list=low",
		"csv-markets":      "/api/v1/analytics/markets?format=csv&lang=ar",
		"csv-trending-15m": "/api/v1/analytics/trending?format=csv&lang=ar&window=15m",
	} {
		wantAttr(t, doc, id, "href", want)
	}
	wantAttr(t, doc, "q-stock-out", "data-src", "/api/v1/analytics/stock?list=out")
	selected := map[string]string{}
	for _, sel := range elements(byID(doc, "pf"), "select") {
		name, _ := attr(sel, "name")
		for _, o := range elements(sel, "option") {
			if _, ok := attr(o, "selected"); ok {
				selected[name], _ = attr(o, "value")
			}
		}
	}
	for name, want := range map[string]string{"market": "AE", "city": "Dubai", "category": "skincare", "brand": "Lumi"} {
		if selected[name] != want {
			t.Errorf("select %s: %q selected, want %q", name, selected[name], want)
		}
	}
	wantText(t, doc, "products-unfiltered", "تعذر تطبيق الفلاتر الآن: تظهر كل منتجات الساعة الأخيرة.")
}

// TestPageStructure: headings never skip a level, every section is
// labelled by its heading, every scrolling region can take the focus,
// and every table has a header row.
func TestPageStructure(t *testing.T) {
	for _, lang := range []string{"en", "ar"} {
		_, doc := renderUpdate(t, sampleUpdate(), "/dashboard?lang="+lang)
		level := 0
		walk(doc, func(n *html.Node) {
			if n.Type != html.ElementNode || len(n.Data) != 2 || n.Data[0] != 'h' || n.Data[1] < '1' || n.Data[1] > '6' {
				return
			}
			l, _ := strconv.Atoi(n.Data[1:])
			if l > level+1 {
				t.Errorf("%s: <%s> %q follows a h%d", lang, n.Data, text(n), level)
			}
			level = l
		})
		walk(doc, func(n *html.Node) {
			if n.Type != html.ElementNode {
				return
			}
			if cls, _ := attr(n, "class"); strings.Contains(cls, "scroll") && n.Data == "div" {
				tab, _ := attr(n, "tabindex")
				role, _ := attr(n, "role")
				label, _ := attr(n, "aria-label")
				if tab != "0" || role != "region" || label == "" {
					t.Errorf("%s: a scroll region lacks tabindex=0, role=region or a label", lang)
				}
			}
		})
		for _, s := range elements(doc, "section") {
			if id, ok := attr(s, "aria-labelledby"); !ok || byID(doc, id) == nil {
				t.Errorf("%s: a section is not labelled by a heading (aria-labelledby=%q)", lang, id)
			}
		}
		for _, tbl := range elements(doc, "table") {
			if len(elements(tbl, "thead")) != 1 || len(elements(tbl, "th")) == 0 {
				t.Errorf("%s: a table has no header row: %q", lang, text(tbl)[:min(60, len(text(tbl)))])
			}
		}
	}
}

// TestPageWithoutPanels: with none of the war room's sources the page
// still renders, saying so, with the sale panel hidden.
func TestPageWithoutPanels(t *testing.T) {
	_, doc := renderUpdate(t, Update{Snapshot: sampleSnapshot()}, "/dashboard?lang=en")
	if _, hidden := attr(byID(doc, "sale-panel"), "hidden"); !hidden {
		t.Error("the sale panel shows without a sale")
	}
	if _, hidden := attr(byID(doc, "alerts-none"), "hidden"); hidden {
		t.Error("no alerts, and the page does not say so")
	}
	wantRows(t, doc, "products-body", []string{"Nothing yet."})
	wantText(t, doc, "stock-threshold", "Low means – units or fewer.")
}

// BenchmarkPage renders the war room over the fixture, in Arabic: the
// cost of one page load beyond reading the figures.
func BenchmarkPage(b *testing.B) {
	d := New(Deps{Source: &fakeSource{snap: sampleSnapshot()}, Now: func() time.Time { return t0 }})
	defer d.Close()
	u := sampleUpdate()
	req := httptest.NewRequest(http.MethodGet, "/dashboard?lang=ar", nil)
	var size int
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		d.writePage(rec, req, u, false)
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size), "bytes/page")
}

// TestProductTableFiltersThroughEndpoint: with a filter the page asks the
// product endpoint, as the client that asked for the page, for the
// filters, sort and language, shows its rows and offers its categories by
// name; an endpoint that fails leaves the rows unfiltered, saying so.
func TestProductTableFiltersThroughEndpoint(t *testing.T) {
	var asked *http.Request
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = r
		if r.URL.Query().Get("market") == "QA" {
			writeProblem(w, r, http.StatusServiceUnavailable, "", "unavailable")
			return
		}
		kw := sampleUpdate().Products[1]
		kw.Price = souq.M(9500, souq.KWD)
		encode(w, map[string]any{"total": 7, "rows": []ProductTableRow{kw},
			"options": map[string]any{"markets": []string{"KW"}, "cities": []string{"Salmiya"},
				"categories": []map[string]any{{"key": "skincare", "name": map[string]string{"en": "Skin care", "ar": "العناية بالبشرة"}}},
				"brands":     []string{"Lumi"}}})
	})
	req := httptest.NewRequest(http.MethodGet, "/dashboard?lang=ar&market=KW&category=skincare&by=name-asc", nil)
	req.Header.Set("Cookie", "souq_dashboard=session")
	req.Header.Set("Accept", "text/html")
	v := productTable(req, sampleUpdate(), souq.Arabic, api)
	if asked == nil {
		t.Fatal("the endpoint was not asked")
	}
	if got, want := asked.URL.RawQuery, "category=skincare&lang=ar&limit=50&market=KW&order=asc&sort=name"; got != want {
		t.Errorf("asked ?%s, want ?%s", got, want)
	}
	if got := asked.Header.Get("Cookie"); got != "souq_dashboard=session" {
		t.Errorf("asked with Cookie %q, want the page's", got)
	}
	if got := asked.Header.Get("Accept"); got != "" {
		t.Errorf("asked with Accept %q, want none (JSON)", got)
	}
	if len(v.Rows) != 1 || v.Rows[0].ID != "prd_cream" || v.Rows[0].Price != "KWD 9.500" || v.Total != "7" || v.Shown != "1" {
		t.Errorf("rows %+v, total %s, shown %s; want prd_cream at KWD 9.500, 1 of 7", v.Rows, v.Total, v.Shown)
	}
	if v.Unfiltered {
		t.Error("said unfiltered although the endpoint answered")
	}
	var cats []string
	for _, o := range v.Options.Categories {
		cats = append(cats, o.Value+"="+o.Label)
	}
	if got, want := strings.Join(cats, ","), "=الكل,fragrance=fragrance,skincare=العناية بالبشرة"; got != want {
		t.Errorf("category options %q, want %q", got, want)
	}

	failing := httptest.NewRequest(http.MethodGet, "/dashboard?lang=en&market=QA", nil)
	v = productTable(failing, sampleUpdate(), souq.English, api)
	if !v.Unfiltered || len(v.Rows) != 3 {
		t.Errorf("endpoint failing: unfiltered %v with %d rows, want true with the 3 unfiltered", v.Unfiltered, len(v.Rows))
	}
	v = productTable(failing, sampleUpdate(), souq.English, nil)
	if !v.Unfiltered {
		t.Error("no endpoint: the rows are not said to be unfiltered")
	}
}

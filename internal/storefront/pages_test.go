package storefront

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storefront/i18n"
)

// checkPage asserts what every rendered page must hold: the language and
// direction, no missing message, the CSP, no inline script or style.
func checkPage(t *testing.T, what, lang string, resp *http.Response, body string) {
	t.Helper()
	checkPageCSP(t, what, lang, resp, body, contentSecurityPolicy)
}

// checkPageCSP is checkPage for a page served with the policy csp.
func checkPageCSP(t *testing.T, what, lang string, resp *http.Response, body, csp string) {
	t.Helper()
	dir := map[string]string{"ar": "rtl", "en": "ltr"}[lang]
	mustContain(t, what, body, `<html lang="`+lang+`" dir="`+dir+`">`)
	if strings.Contains(body, i18n.MissingPrefix) {
		t.Errorf("%s: missing message: %s", what, body[strings.Index(body, i18n.MissingPrefix):][:60])
	}
	if got := resp.Header.Get("Content-Security-Policy"); got != csp {
		t.Errorf("%s: Content-Security-Policy: got %q, want %q", what, got, csp)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s: Cache-Control: got %q, want no-store", what, got)
	}
	for _, problem := range inlineProblems(body) {
		t.Errorf("%s: %s", what, problem)
	}
	for _, img := range imgTag.FindAllString(body, -1) {
		if !strings.Contains(img, ` alt="`) {
			t.Errorf("%s: image without alt: %s", what, img)
		}
	}
}

var (
	scriptTag   = regexp.MustCompile(`(?is)<script\b[^>]*>`)
	imgTag      = regexp.MustCompile(`(?is)<img\b[^>]*>`)
	styleAttr   = regexp.MustCompile(`(?is)<[a-z][^>]*\sstyle\s*=`)
	handlerAttr = regexp.MustCompile(`(?is)<[a-z][^>]*\son[a-z]+\s*=`)
	idAttr      = regexp.MustCompile(`\sid="([^"]+)"`)
	labelFor    = regexp.MustCompile(`<label[^>]*\sfor="([^"]+)"`)
	formField   = regexp.MustCompile(`(?is)<(input|select|textarea)\b[^>]*>`)
)

// inlineProblems lists what the CSP would block or what breaks the no-inline
// rule: a script without src (other than JSON or JSON-LD data, which
// browsers never run), a style element or
// attribute, an event-handler attribute.
func inlineProblems(body string) []string {
	var out []string
	for _, tag := range scriptTag.FindAllString(body, -1) {
		if !strings.Contains(tag, " src=") && !strings.Contains(tag, `type="application/json"`) && !strings.Contains(tag, `type="application/ld+json"`) {
			out = append(out, "inline script: "+tag)
		}
	}
	if strings.Contains(strings.ToLower(body), "<style") {
		out = append(out, "a <style> element")
	}
	if m := styleAttr.FindString(body); m != "" {
		out = append(out, "a style attribute: "+m)
	}
	if m := handlerAttr.FindString(body); m != "" {
		out = append(out, "an event-handler attribute: "+m)
	}
	return out
}

// checkLabels asserts every visible form field has a <label for>.
func checkLabels(t *testing.T, what, body string) {
	t.Helper()
	labelled := map[string]bool{}
	for _, m := range labelFor.FindAllStringSubmatch(body, -1) {
		labelled[m[1]] = true
	}
	for _, field := range formField.FindAllString(body, -1) {
		if strings.Contains(field, `type="hidden"`) {
			continue
		}
		id := idAttr.FindStringSubmatch(field)
		if id == nil || !labelled[id[1]] {
			t.Errorf("%s: field without <label for>: %s", what, field)
		}
	}
}

func TestPagesBothLanguages(t *testing.T) {
	f := newFixture(t, fixtureOptions{writeKey: testWriteKey, consent: true})
	c := f.newClient()
	if status, _, _ := f.addToCart(c, "en", "glow-serum", "2"); status != http.StatusSeeOther {
		t.Fatalf("add to cart: got %d, want 303", status)
	}
	tests := []struct {
		path   string
		en, ar []string // text the page must hold
	}{
		{"/", []string{"Featured products", `href="/en/c/skincare"`, `class="product-link" href="/en/p/glow-serum"`, "AED 89.00"},
			[]string{"منتجات مختارة", "العناية بالبشرة", `class="product-link" href="/ar/p/glow-serum"`, "٨٩٫٠٠ د.إ."}},
		{"/search?q=serum", []string{"Results for “serum”", "Glow Serum", "Products found: 1"}, []string{"نتائج البحث عن «serum»", "سيروم التوهج", "عدد المنتجات: ١"}},
		{"/search?q=%D8%B3%D9%8A%D8%B1%D9%88%D9%85", []string{"Glow Serum"}, []string{"سيروم التوهج"}},
		{"/c/skincare", []string{"<h1>Skincare</h1>", "Glow Serum", "UAE Toner", "Price: low to high"}, []string{"<h1>العناية بالبشرة</h1>", "تونر الإمارات", "السعر: من الأقل إلى الأعلى"}},
		{"/p/glow-serum", []string{"<h1>Glow Serum</h1>", "<bdi>AED 89.00</bdi>", "Prices include VAT at 5%.", "In stock", `<bdi>GLW-01</bdi>`, `id="add-to-cart-button"`, `alt="Glow Serum"`},
			[]string{"<h1>سيروم التوهج</h1>", "<bdi>٨٩٫٠٠ د.إ.</bdi>", "بنسبة ٥٪", "متوفر", `<bdi>GLW-01</bdi>`}},
		{"/p/sun-cream", []string{"Only 3 left"}, []string{"لم يتبقَّ إلا ٣"}},
		{"/cart", []string{"Your cart", "<bdi>AED 178.00</bdi>", `id="checkout-link" class="button" href="/en/checkout"`, `Cart <span class="count"><span class="visually-hidden">(</span>2<span class="visually-hidden">)</span></span>`},
			[]string{"سلة التسوق", "<bdi>١٧٨٫٠٠ د.إ.</bdi>", `href="/ar/checkout"`, `<span class="visually-hidden">(</span>٢<span class="visually-hidden">)</span>`}},
		{"/checkout", []string{`<form id="checkout" method="post"`, `<span>&#43;971</span>`, `<option value="Dubai">Dubai</option>`, `id="place-order"`, `value="cod" checked`},
			[]string{"إتمام الشراء", `<option value="Dubai">دبي</option>`, "الإمارة أو المدينة"}},
	}
	for _, tt := range tests {
		for lang, wants := range map[string][]string{"en": tt.en, "ar": tt.ar} {
			path := "/" + lang + tt.path
			if tt.path == "/" {
				path = "/" + lang + "/"
			}
			t.Run(path, func(t *testing.T) {
				status, body, resp := f.get(c, path)
				if status != http.StatusOK {
					t.Fatalf("GET %s: got %d, want 200\n%s", path, status, clip(body))
				}
				checkPage(t, path, lang, resp, body)
				checkLabels(t, path, body)
				mustContain(t, path, body, wants...)
				mustContain(t, path, body, `<form id="search" action="/`+lang+`/search" method="get"`, `id="search-q"`,
					`<a id="cart-link" href="/`+lang+`/cart">`, `<form id="market-form" method="post" action="/`+lang+`/market"`,
					`<script type="application/json" id="souq-track">`, `"writeKey":"`+testWriteKey+`"`)
				if lang == "ar" && regexp.MustCompile(`<bdi>[^<]*[0-9][^<]*د\.`).MatchString(body) {
					t.Errorf("%s: a price with Latin digits on an Arabic page", path)
				}
			})
		}
	}
}

func TestMarketSwitch(t *testing.T) {
	f := newFixture(t)
	c := f.newClient()
	if status, _, _ := f.addToCart(c, "en", "glow-serum", "1"); status != http.StatusSeeOther {
		t.Fatalf("add: got %d, want 303", status)
	}
	_, body, _ := f.get(c, "/en/p/glow-serum")
	status, _, resp := f.post(c, "/en/market", url.Values{"csrf": {f.csrf(body)}, "market": {"KW"}, "back": {"/en/p/glow-serum"}})
	if status != http.StatusSeeOther || resp.Header.Get("Location") != "/en/p/glow-serum" {
		t.Fatalf("market: got %d to %q, want 303 to /en/p/glow-serum", status, resp.Header.Get("Location"))
	}
	_, body, _ = f.get(c, "/en/p/glow-serum")
	mustContain(t, "en KW product", body, "<bdi>KWD 2.750</bdi>", "No VAT applies in Kuwait.", `<option value="KW" selected>`)
	_, body, _ = f.get(c, "/ar/p/glow-serum")
	mustContain(t, "ar KW product", body, "<bdi>٢٫٧٥٠ د.ك.</bdi>", "لا تُفرض ضريبة القيمة المضافة في الكويت.")
	_, body, _ = f.get(c, "/en/cart")
	mustContain(t, "KW cart", body, "<bdi>KWD 2.750</bdi>")
	id := cartCookie(t, f, c)
	v, err := f.carts.Get(t.Context(), id)
	if err != nil || v.Market.Code != "KW" {
		t.Errorf("cart market: got %v (%v), want KW", v.Market.Code, err)
	}
	_, body, _ = f.get(c, "/en/checkout")
	mustContain(t, "KW checkout", body, "<span>&#43;965</span>", `<option value="Hawalli">Hawalli</option>`)

	// A market the product is not sold in: the page says so, no error.
	status, body, _ = f.get(c, "/en/p/uae-toner")
	if status != http.StatusOK {
		t.Fatalf("not-sold product page: got %d, want 200", status)
	}
	mustContain(t, "not sold", body, "This product is not sold in Kuwait.", `id="add-to-cart-button" disabled`)

	// An open redirect through "back" is refused.
	status, _, resp = f.post(c, "/en/market", url.Values{"csrf": {f.csrf(body)}, "market": {"SA"}, "back": {"//evil.example/"}})
	if status != http.StatusSeeOther || resp.Header.Get("Location") != "/en/" {
		t.Errorf("back to another site: got %d to %q, want 303 to /en/", status, resp.Header.Get("Location"))
	}
}

func TestRootRedirect(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, cookie, accept, want string
	}{
		{"nothing: English fallback", "", "", "/en/"},
		{"Arabic browser", "", "ar-AE,ar;q=0.9,en;q=0.8", "/ar/"},
		{"English preferred by q", "", "ar;q=0.4, en-GB;q=0.9", "/en/"},
		{"Arabic preferred by q", "", "en;q=0.5, fr, ar;q=0.8", "/ar/"},
		{"neither language", "", "fr-FR,de;q=0.9", "/en/"},
		{"q=0 excludes", "", "ar;q=0, en;q=0.1", "/en/"},
		{"cookie wins", "ar", "en", "/ar/"},
		{"bad cookie falls back to the header", "xx", "ar", "/ar/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, f.url+"/", nil)
			if tt.accept != "" {
				req.Header.Set("Accept-Language", tt.accept)
			}
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: cookieLang, Value: tt.cookie})
			}
			resp, err := f.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != tt.want {
				t.Errorf("got %d to %q, want 302 to %q", resp.StatusCode, resp.Header.Get("Location"), tt.want)
			}
		})
	}
	// Visiting an Arabic page remembers Arabic for /.
	c := f.newClient()
	f.get(c, "/ar/c/skincare")
	if _, _, resp := f.get(c, "/", "Accept-Language", "en"); resp.Header.Get("Location") != "/ar/" {
		t.Errorf("after an Arabic page: / goes to %q, want /ar/", resp.Header.Get("Location"))
	}
	// The language switch keeps the path and query.
	_, body, _ := f.get(c, "/ar/search?q=serum&sort=price_asc")
	mustContain(t, "language switch", body, `<a class="lang" href="/en/search?q=serum&amp;sort=price_asc" lang="en" hreflang="en">English</a>`)
}

func TestSoldOutProductPage(t *testing.T) {
	f := newFixture(t)
	for _, lang := range []string{"en", "ar"} {
		status, body, resp := f.get(f.client, "/"+lang+"/p/sold-out-mask")
		if status != http.StatusOK {
			t.Fatalf("%s sold-out page: got %d, want 200", lang, status)
		}
		checkPage(t, "sold out", lang, resp, body)
		want := map[string]string{"en": "Sold out", "ar": "نفدت الكمية"}[lang]
		mustContain(t, lang+" sold out", body, `<p class="stock-out" id="stock">`+want+`</p>`, `id="add-to-cart-button" disabled`)
	}
	// Posting the form anyway adds nothing and says why.
	status, body, _ := f.addToCart(f.client, "en", "sold-out-mask", "1")
	if status != http.StatusConflict {
		t.Errorf("add sold-out: got %d, want 409", status)
	}
	mustContain(t, "add sold-out", body, "Sorry, this product is sold out.")
	if _, body, _ := f.get(f.client, "/en/cart"); !strings.Contains(body, "Your cart is empty.") {
		t.Errorf("cart after adding a sold-out product is not empty")
	}
}

func TestNotFoundPages(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/en/p/no-such-product", "/ar/c/no-such-category", "/en/nowhere", "/ar/orders/ord_x?token=y"} {
		status, body, resp := f.get(f.client, path)
		if status != http.StatusNotFound {
			t.Errorf("GET %s: got %d, want 404", path, status)
			continue
		}
		checkPage(t, path, path[1:3], resp, body)
		mustContain(t, path, body, `<div class="alert" role="alert">`)
	}
}

func TestListPaging(t *testing.T) {
	f := newFixture(t)
	// Page 2 of a one-page list: empty, with a link back.
	_, body, _ := f.get(f.client, "/en/c/skincare?page=2&sort=price_desc&brand=Glowlab")
	mustContain(t, "page 2", body, `rel="prev"`, "No products match.")
	// Unknown filter values are ignored, not errors.
	status, body, _ := f.get(f.client, "/en/c/skincare?sort=bogus&brand=Nobody&page=-4")
	if status != http.StatusOK || !strings.Contains(body, "UAE Toner") {
		t.Errorf("bad filters: got %d, want 200 with the products", status)
	}
	// Sorting by price orders the list.
	_, body, _ = f.get(f.client, "/en/c/skincare?sort=price_asc")
	if strings.Index(body, "UAE Toner") > strings.Index(body, "Glow Serum") {
		t.Errorf("price_asc: AED 45 toner listed after AED 89 serum")
	}
}

// TestBroadSearchPages shows a search matching more products than are
// counted as "N or more", with pages that go on past the counted ones.
func TestBroadSearchPages(t *testing.T) {
	f := newFixture(t)
	f.bulk(t, catalog.SearchCountCap+30, "BULK", "skincare", "Bulk Serum", "سيروم")
	c := f.newClient()
	_, body, _ := f.get(c, "/en/search?q=bulk+serum")
	mustContain(t, "broad search", body, "Products found: 1000 or more", "Page 1<", `href="/en/search?page=2&amp;q=bulk&#43;serum" rel="next"`)
	_, body, _ = f.get(c, "/ar/search?q=bulk+serum&page=43")
	mustContain(t, "page 43 of a broad search", body, "عدد المنتجات: ١٠٣٠ أو أكثر", `rel="prev"`)
	if strings.Contains(body, `rel="next"`) {
		t.Error("the last page of a broad search links to a next page")
	}
}

// TestDeepCategoryPages shows the last page numbers reach in a category
// with more products than that: no next link, and a word on narrowing.
func TestDeepCategoryPages(t *testing.T) {
	f := newFixture(t)
	f.bulk(t, catalog.MaxPagedItems+10, "DEEP", "suncare", "Sun Cream", "واقي")
	c := f.newClient()
	last := catalog.MaxPagedItems / 24
	_, body, _ := f.get(c, fmt.Sprintf("/en/c/suncare?page=%d", last))
	mustContain(t, "last reachable page", body, fmt.Sprintf("Page %d of %d", last, last), "Pages show the first 2400 products", `rel="prev"`)
	if strings.Contains(body, `rel="next"`) {
		t.Error("the last reachable page links to a next page")
	}
	_, body, _ = f.get(c, "/en/c/suncare?page=2")
	if strings.Contains(body, "Pages show the first") {
		t.Error("page 2 says pages stop")
	}
}

// bulk creates n products of one category, named "<en> <i>" and
// "<ar> <i>", with SKUs <prefix>-<i>.
func (f *fixture) bulk(t *testing.T, n int, prefix, category, en, ar string) {
	t.Helper()
	ins := make([]catalog.ProductInput, n)
	for i := range ins {
		ins[i] = catalog.ProductInput{SKU: fmt.Sprintf("%s-%05d", prefix, i), Slug: fmt.Sprintf("%s-%d", strings.ToLower(prefix), i),
			Brand: "COSRX", Category: category, Name: souq.Localized{EN: fmt.Sprintf("%s %d", en, i), AR: fmt.Sprintf("%s %d", ar, i)},
			Prices: price(5000)}
	}
	if _, err := f.catalog.CreateMany(t.Context(), ins); err != nil {
		t.Fatal(err)
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/souq-commerce/souq/internal/browsertest"
)

// The browser tests drive the storefront of `souq serve --demo` in headless
// Chromium (see internal/browsertest for when they skip). Each runs its own
// server with a fresh data directory and no simulated shoppers, so every
// order and event it sees is its own.

// browserTimeout bounds the steps of one browser test.
const browserTimeout = 60 * time.Second

// buyer is what a test types into the checkout form: a UAE address, cash
// on delivery.
var buyer = struct{ name, phone, email, city, area, address, notes string }{
	name: "Mariam Al Mansoori", phone: "501234567", email: "mariam@example.ae",
	city: "Dubai", area: "Al Barsha", address: "Villa 12, Street 5", notes: "Please call on arrival",
}

// browserShop starts `souq serve --demo` and headless Chromium, with the
// analytics consent cookie set for the shop; it returns the shop's base URL,
// the server's output, and the browser tab.
func browserShop(t *testing.T) (string, *syncBuffer, context.Context) {
	t.Helper()
	browsertest.Chromium(t) // skip before starting a server for nothing
	base, stdout, _ := startServe(t, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo", "--shoppers", "0", "--archive-max-age", "100ms"}, nil)
	tab := browsertest.Start(t)
	if _, err := chromedp.Call(tab, network.SetCookie, network.SetCookieParams{Name: "consent", Value: "yes", URL: base + "/", Path: "/"}); err != nil {
		t.Fatalf("set consent cookie: %v", err)
	}
	return base, stdout, tab
}

// searchProducts asks the JSON API what a search for q finds in the UAE, so
// that a failure tells whether search or the page broke.
func searchProducts(t *testing.T, base, q string) map[string]string {
	t.Helper()
	var list productList
	u := base + "/api/v1/products?market=AE&page_size=100&q=" + url.QueryEscape(q)
	if status := getJSON(t, u, &list); status != http.StatusOK || list.Total == 0 {
		t.Fatalf("API search %q: got status %d with %d products, want 200 with some", q, status, list.Total)
	}
	ids := map[string]string{} // slug → id
	for _, p := range list.Items {
		if p.Stock < 2 {
			t.Fatalf("API search %q finds %s with stock %d: pick a query whose products are all in stock", q, p.Slug, p.Stock)
		}
		ids[p.Slug] = p.ID
	}
	return ids
}

// stepTimeout bounds one page transition: locally a page takes
// milliseconds, so a wait this long means the page will not come.
const stepTimeout = 15 * time.Second

// page is the document a tab shows: its URL and HTTP status.
type page struct {
	url    *url.URL
	status int
}

func (p page) String() string { return fmt.Sprintf("%s (HTTP %d)", p.url, p.status) }

// waitPage waits until the tab shows a loaded document whose URL path
// matches re, for at most stepTimeout.
func waitPage(ctx context.Context, t *testing.T, re *regexp.Regexp) page {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last page
	for {
		// An evaluation fails while a navigation replaces the document: try again.
		cur, err := chromedp.Run(ctx, chromedp.EvaluateAsDevTools[struct {
			Href   string `json:"href"`
			Status int    `json:"status"`
		}](`document.readyState === "complete"
			? {href: location.href, status: (performance.getEntriesByType("navigation")[0] || {}).responseStatus || 0}
			: {href: "", status: 0}`))
		if err == nil && cur.Href != "" {
			if u, err := url.Parse(cur.Href); err == nil {
				last = page{u, cur.Status}
				if re.MatchString(u.Path) {
					return last
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for a page at %s: still at %v after %s", re, last, stepTimeout)
		case <-tick.C:
		}
	}
}

// open loads u in the tab and waits for a page at re.
func open(ctx context.Context, t *testing.T, u string, re *regexp.Regexp) page {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	return waitPage(ctx, t, re)
}

// clickTo clicks the element sel and waits for the page it leads to.
func clickTo(ctx context.Context, t *testing.T, sel string, to *regexp.Regexp) page {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
	return waitPage(ctx, t, to)
}

// need fails t at once, naming them, when the loaded page p lacks elements
// of the storefront's contract; the actions on them would otherwise wait
// for them until the test's deadline.
func need(ctx context.Context, t *testing.T, p page, sels ...string) {
	t.Helper()
	list, _ := json.Marshal(sels)
	missing := eval[[]string](ctx, t, `(`+string(list)+`).filter(s => !document.querySelector(s))`)
	if len(missing) > 0 {
		t.Fatalf("page %v lacks %s", p, strings.Join(missing, ", "))
	}
}

// eval runs a JavaScript expression in the tab.
func eval[T any](ctx context.Context, t *testing.T, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.EvaluateAsDevTools[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// addToCart sets the quantity to 1 on the product page p and adds the
// product to the cart; it returns the cart page.
func addToCart(ctx context.Context, t *testing.T, p page, lang string) page {
	t.Helper()
	need(ctx, t, p, `form#add-to-cart input[name="quantity"]`, "form#add-to-cart #add-to-cart-button")
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`form#add-to-cart input[name="quantity"]`), "1")); err != nil {
		t.Fatalf("quantity: %v", err)
	}
	cart := clickTo(ctx, t, "#add-to-cart-button", regexp.MustCompile(`^/`+lang+`/cart$`))
	need(ctx, t, cart, "#cart-link", "#checkout-link")
	return cart
}

// checkoutFields are the text fields of the checkout form.
var checkoutFields = []string{"name", "phone", "email", "area", "address", "notes"}

// fillCheckout fills the checkout form on p with the buyer's details and
// phone, leaving cash on delivery, which must be the default.
func fillCheckout(ctx context.Context, t *testing.T, p page, phone string) {
	t.Helper()
	sels := []string{`form#checkout select[name="city"]`, `form#checkout input[name="payment"][value="cod"]`, "form#checkout #place-order"}
	for _, f := range checkoutFields {
		sels = append(sels, fmt.Sprintf(`form#checkout [name=%q]`, f))
	}
	need(ctx, t, p, sels...)
	values := map[string]string{"name": buyer.name, "phone": phone, "email": buyer.email,
		"area": buyer.area, "address": buyer.address, "notes": buyer.notes}
	for _, f := range checkoutFields {
		sel := fmt.Sprintf(`form#checkout [name=%q]`, f)
		eval[chromedp.Void](ctx, t, `document.querySelector(`+jsString(sel)+`).value = ""`)
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(sel), values[f])); err != nil {
			t.Fatalf("checkout field %s: %v", f, err)
		}
	}
	// The city options are the market's cities; pick the buyer's by value
	// or by English label, whatever the page's language.
	city := jsString(buyer.city)
	if msg := eval[string](ctx, t, `(() => {
		const s = document.querySelector('form#checkout select[name="city"]');
		const o = [...s.options].find(o => o.value === `+city+` || o.textContent.trim() === `+city+`);
		if (!o) return "no option " + `+city+` + " among: " + [...s.options].map(o => o.value + "=" + o.textContent.trim()).join(", ");
		s.value = o.value;
		s.dispatchEvent(new Event("change", {bubbles: true}));
		return "";
	})()`); msg != "" {
		t.Fatalf("checkout city: %s", msg)
	}
	if cod := eval[bool](ctx, t, `document.querySelector('form#checkout input[name="payment"][value="cod"]').checked`); !cod {
		t.Errorf("checkout payment: cash on delivery is not checked by default")
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// purchase searches for query in lang, opens the first result, adds it to
// the cart and orders it with cash on delivery; it returns the order page
// and the product's slug. After each page loads, seen is called with its
// name ("home", "product", "order"; nil: not called).
func purchase(ctx context.Context, t *testing.T, base, lang, query string, seen func(name string)) (page, string) {
	t.Helper()
	if seen == nil {
		seen = func(string) {}
	}
	inStock := searchProducts(t, base, query)

	home := open(ctx, t, base+"/"+lang+"/", regexp.MustCompile(`^/`+lang+`/$`))
	need(ctx, t, home, `form#search input#search-q[name="q"]`, "a#cart-link")
	seen("home")

	// Type the query into the header search and press Enter, as a shopper does.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`form#search input#search-q`), query+kb.Enter)); err != nil {
		t.Fatalf("search: %v", err)
	}
	results := waitPage(ctx, t, regexp.MustCompile(`^/`+lang+`/search$`))
	if got := results.url.Query().Get("q"); got != query {
		t.Errorf("search URL %s: got q=%q, want %q", results.url, got, query)
	}
	need(ctx, t, results, "a.product-link")

	product := clickTo(ctx, t, "a.product-link", regexp.MustCompile(`^/`+lang+`/p/[^/]+$`))
	slug := strings.TrimPrefix(product.url.Path, "/"+lang+"/p/")
	if _, ok := inStock[slug]; !ok {
		t.Errorf("first search result %s: not among the API's results for %q", slug, query)
	}
	seen("product")

	addToCart(ctx, t, product, lang)
	checkout := clickTo(ctx, t, "#checkout-link", regexp.MustCompile(`^/`+lang+`/checkout$`))
	fillCheckout(ctx, t, checkout, buyer.phone)

	order := clickTo(ctx, t, "#place-order", regexp.MustCompile(`^/`+lang+`/orders/[^/]+$`))
	need(ctx, t, order, "h1#order-confirmed[data-order-id]")
	seen("order")
	return order, slug
}

// orderJSON is the part of GET /api/v1/orders/{id} the tests check.
type orderJSON struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Market string `json:"market"`
	Lines  []struct {
		ProductID string `json:"product_id"`
		SKU       string `json:"sku"`
		Quantity  int    `json:"quantity"`
	} `json:"lines"`
	Customer struct {
		Name  string `json:"name"`
		Email string `json:"email"`
		Phone string `json:"phone"`
	} `json:"customer"`
	ShippingAddress struct {
		Line1   string `json:"line1"`
		Area    string `json:"area"`
		City    string `json:"city"`
		Country string `json:"country"`
	} `json:"shipping_address"`
	Payment struct {
		Method string `json:"method"`
	} `json:"payment"`
}

// checkOrder reads the order shown on the order page p through the JSON API
// with the page's token, and checks that it is the buyer's cash-on-delivery
// order of one unit of the product at slug (productIDs maps slugs to ids).
// It returns the product's id.
func checkOrder(ctx context.Context, t *testing.T, base string, p page, slug string, productIDs map[string]string) string {
	t.Helper()
	u := p.url
	attr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("h1#order-confirmed"), "data-order-id"))
	if err != nil || !attr.Exists || attr.Value == "" {
		t.Fatalf("h1#order-confirmed data-order-id: got %+v, %v; want the order id", attr, err)
	}
	id := attr.Value
	if want := u.Path[strings.LastIndex(u.Path, "/")+1:]; id != want {
		t.Errorf("data-order-id: got %q, want %q from the URL %s", id, want, u)
	}
	token := u.Query().Get("token")
	if token == "" {
		t.Fatalf("order page URL %s: no token", u)
	}

	var o orderJSON
	if status := getJSON(t, base+"/api/v1/orders/"+url.PathEscape(id)+"?token="+url.QueryEscape(token), &o); status != http.StatusOK {
		t.Fatalf("GET /api/v1/orders/%s with the page's token: got %d, want 200", id, status)
	}
	productID := productIDs[slug]
	if len(o.Lines) != 1 || o.Lines[0].ProductID != productID || o.Lines[0].Quantity != 1 {
		t.Errorf("order %s lines: got %+v, want 1 × %s (%s)", id, o.Lines, productID, slug)
	}
	if o.ID != id || o.Market != "AE" || o.Payment.Method != "cod" {
		t.Errorf("order: got id %q market %q payment %q, want %q AE cod", o.ID, o.Market, o.Payment.Method, id)
	}
	if o.Customer.Name != buyer.name || o.Customer.Phone != "+971"+buyer.phone || o.Customer.Email != buyer.email {
		t.Errorf("order customer: got %+v, want %s, +971%s, %s", o.Customer, buyer.name, buyer.phone, buyer.email)
	}
	if a := o.ShippingAddress; a.City != buyer.city || a.Area != buyer.area || a.Country != "AE" || !strings.Contains(a.Line1, buyer.address) {
		t.Errorf("order address: got %+v, want %s, %s, %s, AE", a, buyer.address, buyer.area, buyer.city)
	}
	return productID
}

// analyticsFigures is what the tests read from /api/v1/analytics/snapshot:
// the last hour rather than today, which starts at Gulf midnight (20:00
// UTC) and so may not hold what the test did a moment before.
type analyticsFigures struct {
	LastHour struct {
		Views     int `json:"views"`
		AddEvents int `json:"add_events"`
		CartViews int `json:"cart_views"`
		Searches  int `json:"searches"`
		Checkouts int `json:"checkouts"`
		Orders    int `json:"orders"`
	} `json:"last_hour"`
	Trending []struct {
		Window   string `json:"window"`
		Products []struct {
			ProductID string `json:"product_id"`
			Views     int    `json:"views"`
			AddEvents int    `json:"add_events"`
		} `json:"products"`
	} `json:"trending"`
}

// waitTracked waits until the processor has counted the events the
// storefront's tracker sent during a purchase: Products Searched, Product
// Viewed and Product Added of the product (required), and Cart Viewed and
// Checkout Started. The server runs no simulated shoppers, so they are the
// test's. The collector must have rejected none.
func waitTracked(t *testing.T, base, productID string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var snap analyticsFigures
		status := getJSON(t, base+"/api/v1/analytics/snapshot", &snap)
		var views, adds int
		for _, w := range snap.Trending {
			if w.Window != "5m" {
				continue
			}
			for _, p := range w.Products {
				if p.ProductID == productID {
					views, adds = p.Views, p.AddEvents
				}
			}
		}
		hour := snap.LastHour
		required := status == http.StatusOK && hour.Searches >= 1 && views >= 1 && adds >= 1
		if required && hour.CartViews >= 1 && hour.Checkouts >= 1 {
			t.Logf("tracked in the last hour: %+v; product %s: %d views, %d add-to-carts", hour, productID, views, adds)
			break
		}
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("analytics after 15s: got status %d, last hour %+v, product %s with %d views and %d add-to-carts",
				status, hour, productID, views, adds)
			if !required {
				t.Fatalf("%s; want Products Searched, Product Viewed and Product Added counted\ncollector: %s", msg, collectorCounts(t, base))
			}
			t.Errorf("%s; want Cart Viewed and Checkout Started counted too", msg)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if rejected := collectorRejected(t, base); rejected != "" {
		t.Errorf("the collector rejected events from the storefront:\n%s", rejected)
	}
}

// collectorCounts returns the souq_collector_events_total lines of /metrics.
func collectorCounts(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var lines []string
	for line := range strings.Lines(string(body)) {
		if strings.HasPrefix(line, "souq_collector_events_total{") {
			lines = append(lines, strings.TrimSpace(line))
		}
	}
	if len(lines) == 0 {
		return "no souq_collector_events_total: no event arrived"
	}
	return strings.Join(lines, "\n")
}

// collectorRejected returns the collector's counts of rejected events,
// or "" when it rejected none.
func collectorRejected(t *testing.T, base string) string {
	t.Helper()
	var rejected []string
	for line := range strings.Lines(collectorCounts(t, base)) {
		if strings.Contains(line, `result="rejected"`) && !strings.HasSuffix(strings.TrimSpace(line), " 0") {
			rejected = append(rejected, strings.TrimSpace(line))
		}
	}
	return strings.Join(rejected, "\n")
}

// adminOrders counts the orders through the admin API, with the admin
// token `serve --demo` prints.
func adminOrders(t *testing.T, base string, stdout *syncBuffer) int {
	t.Helper()
	m := regexp.MustCompile(`Bearer (\S+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no admin token printed:\n%s", stdout.String())
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/admin/orders", nil)
	req.Header.Set("Authorization", "Bearer "+m[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("admin orders: %v", err)
	}
	defer resp.Body.Close()
	var orders struct{ Total int }
	if err := json.NewDecoder(resp.Body).Decode(&orders); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("admin orders: got %d, %v", resp.StatusCode, err)
	}
	return orders.Total
}

// TestBrowserArabicPurchase buys in Arabic: a right-to-left home page, an
// Arabic search, the first result, the cart, a UAE cash-on-delivery
// checkout and the order page; the order is in the API with the page's
// token, and the tracker's events reached the collector.
func TestBrowserArabicPurchase(t *testing.T) {
	base, _, tab := browserShop(t)
	ctx, cancel := context.WithTimeout(tab, browserTimeout)
	defer cancel()

	// "/" sends the shopper to a language's home page.
	open(ctx, t, base+"/", regexp.MustCompile(`^/(ar|en)/$`))

	// "الحلزون" (snail) is in the Arabic names of three demo products, all in stock.
	const query = "الحلزون"
	productIDs := searchProducts(t, base, query)
	order, slug := purchase(ctx, t, base, "ar", query, func(name string) {
		if name == "home" {
			if dir, lang := eval[string](ctx, t, `document.documentElement.dir`), eval[string](ctx, t, `document.documentElement.lang`); dir != "rtl" || lang != "ar" {
				t.Errorf("/ar/ html: got dir=%q lang=%q, want rtl ar", dir, lang)
			}
			if dnt := eval[string](ctx, t, `String(navigator.doNotTrack)`); dnt == "1" {
				t.Fatalf("navigator.doNotTrack is %q: the tracker would send nothing", dnt)
			}
			if cookie := eval[string](ctx, t, `document.cookie`); !strings.Contains(cookie, "consent=yes") {
				t.Errorf("document.cookie: got %q, want consent=yes", cookie)
			}
			if n := eval[int](ctx, t, `document.querySelectorAll('script[src^="/assets/track."][defer]').length`); n != 1 {
				t.Errorf("/ar/: got %d tracker scripts (script[src^=/assets/track.][defer]), want 1", n)
			}
		}
		if _, err := browsertest.SaveScreenshot(ctx, t, name+"-ar"); err != nil {
			t.Error(err)
		}
	})
	if dir := eval[string](ctx, t, `document.documentElement.dir`); dir != "rtl" {
		t.Errorf("order page %s: got dir=%q, want rtl", order.url.Path, dir)
	}
	if style := eval[string](ctx, t, `getComputedStyle(document.querySelector('address')).fontStyle`); style != "normal" {
		t.Errorf("order page's Arabic address: font-style %q, want normal (Arabic has no italic)", style)
	}

	productID := checkOrder(ctx, t, base, order, slug, productIDs)
	waitTracked(t, base, productID)
}

// TestBrowserArabicDigitsQuantity types an Arabic-Indic ٣ into a product
// page's quantity field, as an Arabic keyboard does: the field keeps it and
// the cart gets three.
func TestBrowserArabicDigitsQuantity(t *testing.T) {
	base, _, tab := browserShop(t)
	ctx, cancel := context.WithTimeout(tab, browserTimeout)
	defer cancel()
	var slug string
	for s := range searchProducts(t, base, "الحلزون") {
		slug = s
	}
	p := open(ctx, t, base+"/ar/p/"+slug, regexp.MustCompile(`^/ar/p/`))
	const field = `form#add-to-cart input[name="quantity"]`
	need(ctx, t, p, field)
	eval[string](ctx, t, `document.querySelector('`+field+`').value = ''`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(field), "٣")); err != nil {
		t.Fatalf("type ٣: %v", err)
	}
	if v := eval[string](ctx, t, `document.querySelector('`+field+`').value`); v != "٣" {
		t.Fatalf("the quantity field after typing ٣: got %q", v)
	}
	cart := clickTo(ctx, t, "#add-to-cart-button", regexp.MustCompile(`^/ar/cart$`))
	need(ctx, t, cart, `form input[name="quantity"]`)
	if v := eval[string](ctx, t, `document.querySelector('form input[name="quantity"]:not([type=hidden])').value`); v != "3" {
		t.Errorf("cart quantity after adding ٣: got %q, want 3", v)
	}
}

// TestBrowserEnglishNoJavaScriptCheckout makes the same purchase in English
// with JavaScript disabled in the browser: the shop works without scripts.
func TestBrowserEnglishNoJavaScriptCheckout(t *testing.T) {
	base, _, tab := browserShop(t)
	ctx, cancel := context.WithTimeout(tab, browserTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("disable JavaScript: %v", err)
	}

	const query = "snail"
	productIDs := searchProducts(t, base, query)
	order, slug := purchase(ctx, t, base, "en", query, nil)
	checkOrder(ctx, t, base, order, slug, productIDs)
	if lang := eval[string](ctx, t, `document.documentElement.lang`); lang != "en" {
		t.Errorf("order page lang: got %q, want en", lang)
	}
	t.Logf("collector with JavaScript off: %s", collectorCounts(t, base))
}

// TestBrowserInvalidPhone submits the checkout with a phone number of the
// wrong length: the page shows a .field-error by the phone field, and no
// order is created.
func TestBrowserInvalidPhone(t *testing.T) {
	base, stdout, tab := browserShop(t)
	ctx, cancel := context.WithTimeout(tab, browserTimeout)
	defer cancel()

	productIDs := searchProducts(t, base, "snail")
	slug := slices.Sorted(maps.Keys(productIDs))[0]
	product := open(ctx, t, base+"/en/p/"+slug, regexp.MustCompile(`^/en/p/`+regexp.QuoteMeta(slug)+`$`))
	addToCart(ctx, t, product, "en")
	checkout := clickTo(ctx, t, "#checkout-link", regexp.MustCompile(`^/en/checkout$`))
	fillCheckout(ctx, t, checkout, "12345")

	// If the browser itself refuses the number (a pattern on the field),
	// submit past it, as a browser without form validation would, so that
	// the server's check is the one under test.
	if blocked := eval[bool](ctx, t, `(() => {
		const f = document.querySelector("form#checkout");
		if (f.checkValidity()) return false;
		f.noValidate = true;
		return true;
	})()`); blocked {
		t.Logf("the browser's form validation refused the phone; submitting with novalidate to reach the server")
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#place-order"), chromedp.NodeVisible)); err != nil {
		t.Fatalf("click #place-order: %v", err)
	}
	// The answer can be the same URL (the form shown again), so wait for
	// the error rather than for a new path.
	wctx, wcancel := context.WithTimeout(ctx, stepTimeout)
	err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS("form#checkout .field-error")))
	wcancel()
	after := waitPage(ctx, t, regexp.MustCompile(`.`))
	if err != nil {
		t.Fatalf("after a wrong phone, page %v shows no form#checkout .field-error: %v", after, err)
	}
	if after.url.Path != "/en/checkout" {
		t.Errorf("after a wrong phone: got page %v, want /en/checkout", after)
	}
	t.Logf("after a wrong phone: %v", after)

	// The error belongs to the phone: the closest element around the phone
	// input that holds a .field-error holds no other field. The other
	// fields are valid, so theirs must show none.
	owner := eval[string](ctx, t, `(() => {
		const phone = document.querySelector('form#checkout [name="phone"]');
		if (!phone) return "no phone field";
		for (let n = phone.parentElement; n && n.id !== "checkout"; n = n.parentElement) {
			if (!n.querySelector(".field-error")) continue;
			const others = [...n.querySelectorAll("[name]")].filter(e => e.name !== "phone").map(e => e.name);
			return others.length ? "the .field-error nearest the phone also encloses " + others.join(", ") : "";
		}
		return "no .field-error around the phone field";
	})()`)
	if owner != "" {
		t.Errorf("phone error: %s", owner)
	}
	if n := eval[int](ctx, t, `document.querySelectorAll("form#checkout .field-error").length`); n != 1 {
		t.Errorf(".field-error count: got %d, want 1 (only the phone is wrong)", n)
	}
	if msg := eval[string](ctx, t, `document.querySelector("form#checkout .field-error").textContent.trim()`); msg == "" {
		t.Errorf("the phone's .field-error is empty")
	} else {
		t.Logf("phone error shown: %q", msg)
	}
	if alert := eval[string](ctx, t, `(document.querySelector(".alert[role=alert]") || {textContent: ""}).textContent.trim()`); alert == "" {
		t.Errorf("after a wrong phone: no .alert[role=alert] with text")
	}
	if confirmed := eval[bool](ctx, t, `!!document.querySelector("#order-confirmed")`); confirmed {
		t.Errorf("order confirmation shown after a wrong phone")
	}
	if _, err := browsertest.SaveScreenshot(ctx, t, "invalid-phone"); err != nil {
		t.Error(err)
	}
	if n := adminOrders(t, base, stdout); n != 0 {
		t.Errorf("orders after a wrong phone: got %d, want 0", n)
	}
}

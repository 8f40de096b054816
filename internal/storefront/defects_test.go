package storefront

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// spfName is an Arabic product name with a Latin run whose trailing "+"
// an Arabic paragraph would draw on the wrong side ("+SPF50").
const spfName = "واقي شمس SPF50+"

// spfIsolated is how spfName must be marked up: the Latin run isolated.
const spfIsolated = `واقي شمس <bdi dir="ltr">SPF50+</bdi>`

func (f *fixture) addSPF(t *testing.T) {
	t.Helper()
	stock := 10
	p, err := f.catalog.Create(context.Background(), catalog.ProductInput{SKU: "SPF-50", Slug: "spf-fluid", Brand: "Sunny", Category: "suncare",
		Name: souq.Localized{EN: "Sun Fluid SPF50+", AR: spfName}, Image: "/images/products/spf-fluid.svg", Prices: price(7000), Stock: &stock})
	if err != nil {
		t.Fatal(err)
	}
	f.ids[p.Slug] = p.ID
}

// TestBidiIsolation: wherever an Arabic page shows a product name (cards,
// product page, cart, checkout, order) or an address, a Latin run inside
// Arabic text is isolated, so "SPF50+" does not read "+SPF50".
func TestBidiIsolation(t *testing.T) {
	f := newFixture(t)
	f.addSPF(t)
	c := f.newClient()
	pages := map[string]string{}
	_, pages["search"], _ = f.get(c, "/ar/search?q="+url.QueryEscape("واقي"))
	_, pages["category"], _ = f.get(c, "/ar/c/suncare")
	_, pages["product"], _ = f.get(c, "/ar/p/spf-fluid")
	if status, _, _ := f.addToCart(c, "ar", "spf-fluid", "1"); status != http.StatusSeeOther {
		t.Fatalf("add to cart: got %d", status)
	}
	_, pages["cart"], _ = f.get(c, "/ar/cart")
	_, body, _ := f.get(c, "/ar/checkout")
	pages["checkout"] = body
	form := checkoutValues(f.csrf(body))
	form.Set("name", "مريم Smith")
	form.Set("address", "فيلا 12, Jumeirah Bay")
	_, _, resp := f.post(c, "/ar/checkout", form)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/ar/orders/") {
		t.Fatalf("place order: got %d to %q", resp.StatusCode, loc)
	}
	_, pages["order"], _ = f.get(c, loc)
	for name, body := range pages {
		if !strings.Contains(body, spfIsolated) {
			t.Errorf("%s page: no %q in\n%s", name, spfIsolated, clip(body))
		}
	}
	// A title holds text only: isolate marks (html/template writes "+" as &#43; there).
	mustContain(t, "product page title", pages["product"], "<title>واقي شمس \u2066SPF50&#43;\u2069 ·")
	mustContain(t, "order page address", pages["order"], `مريم <bdi dir="ltr">Smith</bdi>`, `فيلا 12, <bdi dir="ltr">Jumeirah Bay</bdi>`)
	// An English page's Latin name needs nothing.
	_, en, _ := f.get(c, "/en/p/spf-fluid")
	if strings.Contains(en, `<bdi dir="ltr">SPF50+`) || !strings.Contains(en, "<h1>Sun Fluid SPF50+</h1>") {
		t.Errorf("English product page: the name is marked up: %s", clip(en))
	}
}

// TestQuantityFieldsTakeArabicDigits: quantity inputs are text fields with
// a numeric keyboard, since type=number drops ٢ as the shopper types it,
// and the server reads both Arabic-Indic digit sets.
func TestQuantityFieldsTakeArabicDigits(t *testing.T) {
	f := newFixture(t)
	c := f.newClient()
	_, product, _ := f.get(c, "/ar/p/glow-serum")
	if status, _, _ := f.addToCart(c, "ar", "glow-serum", "٢"); status != http.StatusSeeOther {
		t.Fatalf("add ٢: got %d, want 303", status)
	}
	_, cartBody, _ := f.get(c, "/ar/cart")
	status, _, _ := f.post(c, "/ar/cart/set", url.Values{"csrf": {f.csrf(cartBody)}, "product_id": {string(f.ids["glow-serum"])}, "quantity": {"۴"}})
	if status != http.StatusSeeOther {
		t.Fatalf("set ۴ (Eastern Arabic-Indic): got %d, want 303", status)
	}
	_, cartBody, _ = f.get(c, "/ar/cart")
	qtyInput := regexp.MustCompile(`<input[^>]*name="quantity"[^>]*>`)
	for name, body := range map[string]string{"product": product, "cart": cartBody} {
		var inputs []string
		for _, in := range qtyInput.FindAllString(body, -1) {
			if !strings.Contains(in, `type="hidden"`) {
				inputs = append(inputs, in)
			}
		}
		if len(inputs) == 0 {
			t.Fatalf("%s page: no visible quantity input", name)
		}
		for _, in := range inputs {
			if strings.Contains(in, `type="number"`) || !strings.Contains(in, `type="text"`) || !strings.Contains(in, `inputmode="numeric"`) ||
				!strings.Contains(in, `pattern="[0-9٠-٩۰-۹]*"`) {
				t.Errorf("%s page: quantity input %s: want type=text, inputmode=numeric and a pattern with the Arabic digits", name, in)
			}
		}
	}
	if !strings.Contains(cartBody, `value="4"`) {
		t.Errorf("cart after ۴: no line with quantity 4")
	}
}

// TestNoSyntheticItalicForArabic: the browser's default italic for
// <address>, <em>, <i>, <cite>, <var> and <dfn> is turned off for Arabic,
// which has no italic and is drawn slanted by a synthetic one.
func TestNoSyntheticItalicForArabic(t *testing.T) {
	f := newFixture(t)
	s, err := New(Deps{Catalog: f.catalog, Carts: f.carts, Checkout: f.checkout})
	if err != nil {
		t.Fatal(err)
	}
	css := string(s.assets.bySource["site.css"].raw)
	rule := regexp.MustCompile(`(?s):lang\(ar\)[^{]*\{[^}]*font-style:\s*normal`)
	if !rule.MatchString(css) {
		t.Errorf("site.css has no :lang(ar) rule with font-style: normal")
	}
	for _, el := range []string{"address", "em", "i", "cite", "var", "dfn"} {
		if !regexp.MustCompile(`:lang\(ar\) ` + el + `\b`).MatchString(css) {
			t.Errorf("site.css: %s keeps its italic in Arabic", el)
		}
	}
	if strings.Contains(css, "font-style: italic") || strings.Contains(css, "font-style:italic") {
		t.Errorf("site.css sets an italic")
	}
}

// pageTrack reads a page's tracking configuration.
func pageTrack(t *testing.T, what, body string) jsConfig {
	t.Helper()
	m := trackBlock.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("%s: no tracking configuration", what)
	}
	var cfg jsConfig
	if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
		t.Fatalf("%s: tracking configuration: %v", what, err)
	}
	return cfg
}

// eventProps returns the properties of the page's event called name, or
// nil when the page does not send it.
func (c jsConfig) eventProps(name string) map[string]any {
	for _, e := range c.Events {
		if e.Event == name {
			var p map[string]any
			_ = json.Unmarshal(e.Properties, &p)
			return p
		}
	}
	return nil
}

// TestCartEventsOnlyWhenAccepted: "Product Added" and "Product Removed"
// are sent from the page after the server accepted the change, never for
// a refused one; a product page shown again with an error does not send
// "Product Viewed" again.
func TestCartEventsOnlyWhenAccepted(t *testing.T) {
	f := newFixture(t, fixtureOptions{writeKey: testWriteKey, consent: true})
	c := f.newClient()
	_, body, _ := f.get(c, "/en/p/glow-serum")
	if cfg := pageTrack(t, "product page", body); cfg.eventProps("Product Viewed") == nil || cfg.Product != nil {
		t.Errorf("product page: events %+v, product %s; want Product Viewed and no add-to-cart event left to the script", cfg.Events, cfg.Product)
	}
	status, body, _ := f.post(c, "/en/cart/items", url.Values{"csrf": {f.csrf(body)}, "product_id": {string(f.ids["glow-serum"])}, "quantity": {"500"}})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("quantity 500: got %d, want 422", status)
	}
	if cfg := pageTrack(t, "refused add", body); len(cfg.Events) != 0 || cfg.Product != nil {
		t.Errorf("refused add: the page sends %+v (product %s), want nothing", cfg.Events, cfg.Product)
	}
	_, body, _ = f.get(c, "/en/cart")
	if p := pageTrack(t, "cart after a refused add", body).eventProps("Product Added"); p != nil {
		t.Errorf("cart after a refused add sends Product Added %v", p)
	}

	if status, _, _ := f.addToCart(c, "en", "glow-serum", "3"); status != http.StatusSeeOther {
		t.Fatalf("add 3: got %d", status)
	}
	_, body, _ = f.get(c, "/en/cart")
	added := pageTrack(t, "cart after an add", body).eventProps("Product Added")
	if added == nil || added["product_id"] != string(f.ids["glow-serum"]) || added["quantity"] != 3.0 || added["sku"] != "GLW-01" || added["currency"] != "AED" {
		t.Errorf("cart after adding 3: Product Added %v", added)
	}
	_, body, _ = f.get(c, "/en/cart")
	if p := pageTrack(t, "cart reloaded", body).eventProps("Product Added"); p != nil {
		t.Errorf("reloaded cart sends Product Added again: %v", p)
	}

	set := func(qty string) jsConfig {
		t.Helper()
		status, _, _ := f.post(c, "/en/cart/set", url.Values{"csrf": {f.csrf(body)}, "product_id": {string(f.ids["glow-serum"])}, "quantity": {qty}})
		if status != http.StatusSeeOther {
			t.Fatalf("set %s: got %d", qty, status)
		}
		_, body, _ = f.get(c, "/en/cart")
		return pageTrack(t, "cart after set "+qty, body)
	}
	if p := set("5").eventProps("Product Added"); p == nil || p["quantity"] != 2.0 {
		t.Errorf("3 → 5: Product Added %v, want quantity 2", p)
	}
	if p := set("1").eventProps("Product Removed"); p == nil || p["quantity"] != 4.0 {
		t.Errorf("5 → 1: Product Removed %v, want quantity 4", p)
	}
	if p := set("0").eventProps("Product Removed"); p == nil || p["quantity"] != 1.0 || p["product_id"] != string(f.ids["glow-serum"]) {
		t.Errorf("remove: Product Removed %v, want quantity 1", p)
	}
	status, _, _ = f.post(c, "/en/cart/set", url.Values{"csrf": {f.csrf(body)}, "product_id": {string(f.ids["glow-serum"])}, "quantity": {"0"}})
	if _, body, _ = f.get(c, "/en/cart"); status != http.StatusSeeOther || pageTrack(t, "removed twice", body).eventProps("Product Removed") != nil {
		t.Errorf("removing a line already gone sends Product Removed")
	}

	js, err := os.ReadFile("static/track.js")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), "'Product Added'") {
		t.Errorf("track.js still sends Product Added on submit, before the server's answer")
	}
}

// TestPageAndSearchEvents: the home page sends a page call; "Products
// Searched" carries the result count, zero included.
func TestPageAndSearchEvents(t *testing.T) {
	f := newFixture(t, fixtureOptions{writeKey: testWriteKey, consent: true})
	_, body, _ := f.get(f.client, "/ar/")
	if cfg := pageTrack(t, "home", body); cfg.Page == nil || cfg.Page.Name != "Home" {
		t.Errorf("home page: page call %+v, want one named Home", cfg.Page)
	}
	for q, want := range map[string]float64{"Toner": 1, "nothing-matches-this": 0} {
		_, body, _ := f.get(f.client, "/en/search?q="+url.QueryEscape(q))
		p := pageTrack(t, "search "+q, body).eventProps("Products Searched")
		if p == nil || p["query"] != q || p["result_count"] != want {
			t.Errorf("search %q: Products Searched %v, want result_count %v", q, p, want)
		}
	}
}

// TestOrderCarriesVisitor: the server's "Order Completed" for an order
// placed from the storefront carries the visitor id the tracker sends as
// anonymousId; without consent there is no visitor id and none is sent.
func TestOrderCarriesVisitor(t *testing.T) {
	for _, consent := range []bool{true, false} {
		f := newFixture(t, fixtureOptions{writeKey: testWriteKey, consent: consent})
		c := f.newClient()
		_, body, _ := f.get(c, "/en/")
		aid := pageTrack(t, "home", body).AnonymousID
		if consent != validToken(aid) {
			t.Fatalf("consent %v: visitor id %q", consent, aid)
		}
		status, _, resp := f.post(c, "/en/checkout", f.checkoutForm(c))
		if status != http.StatusSeeOther {
			t.Fatalf("place order: got %d", status)
		}
		id := orderLocation.FindStringSubmatch(resp.Header.Get("Location"))[2]
		evs, err := f.db.PendingOutbox(context.Background(), 10)
		if err != nil || len(evs) != 1 {
			t.Fatalf("outbox: %d events (%v), want 1", len(evs), err)
		}
		var ev souq.Event
		if err := json.Unmarshal(evs[0].Payload, &ev); err != nil {
			t.Fatal(err)
		}
		want := id // no visitor: the order id stands in
		if consent {
			want = aid
		}
		if ev.AnonymousID != want || !strings.Contains(string(ev.Properties), `"order_id":"`+id+`"`) {
			t.Errorf("consent %v: Order Completed anonymousId %q, properties %s; want anonymousId %q and order_id %s", consent, ev.AnonymousID, ev.Properties, want, id)
		}
	}
}

package storefront

import (
	"context"
	"net/http"
	"net/url"
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

package storefront

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/souq-commerce/souq/internal/souq"
)

func cartCookie(t *testing.T, f *fixture, c *http.Client) souq.ID {
	t.Helper()
	u, _ := url.Parse(f.url)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == cookieCart {
			return souq.ID(ck.Value)
		}
	}
	t.Fatalf("no cart cookie")
	return ""
}

var orderLocation = regexp.MustCompile(`^/(en|ar)/orders/(ord_[a-z2-7]+)\?token=([A-Za-z0-9_%-]+)$`)

// TestPurchaseWithoutJavaScript walks the purchase as a browser without
// JavaScript does: forms, 303 redirects, cookies.
func TestPurchaseWithoutJavaScript(t *testing.T) {
	for _, lang := range []string{"en", "ar"} {
		t.Run(lang, func(t *testing.T) {
			f := newFixture(t)
			c := f.newClient()
			before := f.stock("glow-serum")
			status, _, resp := f.addToCart(c, lang, "glow-serum", "2")
			if status != http.StatusSeeOther || resp.Header.Get("Location") != "/"+lang+"/cart" {
				t.Fatalf("add: got %d to %q, want 303 to /%s/cart", status, resp.Header.Get("Location"), lang)
			}
			status, body, _ := f.get(c, "/"+lang+"/cart")
			if status != http.StatusOK || !strings.Contains(body, `id="checkout-link"`) {
				t.Fatalf("cart: got %d without a checkout link", status)
			}
			status, body, _ = f.get(c, "/"+lang+"/checkout")
			if status != http.StatusOK {
				t.Fatalf("checkout: got %d, want 200", status)
			}
			form := checkoutValues(f.csrf(body))
			form.Set("key", regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(body)[1])
			wantEmail := "mariam@example.ae"
			if lang == "ar" {
				form.Set("phone", "٠٥٠١٢٣٤٥٦٧") // Arabic-Indic digits with the trunk 0
				form.Set("email", "")           // email is optional
				wantEmail = ""
			}
			status, body, resp = f.post(c, "/"+lang+"/checkout", form)
			loc := orderLocation.FindStringSubmatch(resp.Header.Get("Location"))
			if status != http.StatusSeeOther || loc == nil || loc[1] != lang {
				t.Fatalf("place order: got %d to %q, want 303 to the order page\n%s", status, resp.Header.Get("Location"), clip(body))
			}
			token, _ := url.QueryUnescape(loc[3])
			o, err := f.checkout.Order(t.Context(), souq.ID(loc[2]), token)
			if err != nil {
				t.Fatalf("order %s: %v", loc[2], err)
			}
			if o.Total != 17800 || o.VAT != 848 || o.Customer.Phone != "+971501234567" || o.ShippingAddress.City != "Dubai" ||
				o.ShippingAddress.Line2 != "Call on arrival" || o.Payment.Method != souq.PayCashOnDelivery || len(o.Lines) != 1 || o.Lines[0].Quantity != 2 {
				t.Errorf("order: got total %d VAT %d phone %q city %q notes %q payment %q lines %+v", o.Total, o.VAT, o.Customer.Phone,
					o.ShippingAddress.City, o.ShippingAddress.Line2, o.Payment.Method, o.Lines)
			}
			if o.Language != souq.Lang(lang) || !strings.HasPrefix(o.Number, souq.OrderNumberPrefix) {
				t.Errorf("order: got language %q number %q, want %s and a number", o.Language, o.Number, lang)
			}
			if o.Customer.Email != wantEmail {
				t.Errorf("order email: got %q, want %q", o.Customer.Email, wantEmail)
			}
			if got := f.stock("glow-serum"); got != before-2 {
				t.Errorf("stock: got %d, want %d", got, before-2)
			}
			status, body, resp = f.get(c, resp.Header.Get("Location"))
			if status != http.StatusOK {
				t.Fatalf("order page: got %d", status)
			}
			checkPage(t, "order page", lang, resp, body)
			want := map[string][]string{
				"en": {"Thank you! Your order is confirmed.", "<bdi>AED 178.00</bdi>", "<bdi>AED 8.48</bdi>", "VAT included (5%)", "Villa 12, Street 5", "Al Barsha, Dubai", "Cash on delivery", "Glow Serum"},
				"ar": {"شكرًا لك! تم تأكيد طلبك.", "<bdi>١٧٨٫٠٠ د.إ.</bdi>", "<bdi>٨٫٤٨ د.إ.</bdi>", "(٥٪)", "\u2066Al Barsha\u2069، دبي", `<bdi dir="ltr">Villa 12, Street 5</bdi>`, "الدفع عند الاستلام", "سيروم التوهج"},
			}[lang]
			mustContain(t, "order page", body, append(want, `<h1 id="order-confirmed" data-order-id="`+loc[2]+`">`, `<span dir="ltr">&#43;971501234567</span>`, `<bdi id="order-number" dir="ltr">`+o.Number+`</bdi>`)...)
			if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
				t.Errorf("order page Referrer-Policy: got %q, want no-referrer", got)
			}
			// The cart became the order: the shopper has an empty cart now.
			_, body, _ = f.get(c, "/"+lang+"/cart")
			if strings.Contains(body, `id="checkout-link"`) {
				t.Errorf("cart still full after the order")
			}
			// Submitting the same form again (a double click) places nothing new.
			if n := f.orderCount(); n != 1 {
				t.Errorf("orders: got %d, want 1", n)
			}
			// A wrong token shows no order.
			if status, _, _ := f.get(f.newClient(), "/"+lang+"/orders/"+loc[2]+"?token=wrong"); status != http.StatusNotFound {
				t.Errorf("order with a wrong token: got %d, want 404", status)
			}
		})
	}
}

// TestDoubleSubmit: the same checkout form posted twice places one order and
// sends both posts to it.
func TestDoubleSubmit(t *testing.T) {
	f := newFixture(t)
	c := f.newClient()
	form := f.checkoutForm(c)
	cartID := cartCookie(t, f, c)
	_, _, first := f.post(c, "/en/checkout", form)
	// The browser resends with the cookies it had before the first answer.
	u, _ := url.Parse(f.url)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: cookieCart, Value: string(cartID), Path: "/"}})
	_, _, second := f.post(c, "/en/checkout", form)
	if first.Header.Get("Location") == "" || first.Header.Get("Location") != second.Header.Get("Location") {
		t.Errorf("double submit: got %q then %q, want the same order page", first.Header.Get("Location"), second.Header.Get("Location"))
	}
	if n := f.orderCount(); n != 1 {
		t.Errorf("orders after a double submit: got %d, want 1", n)
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t)
	c := f.newClient()
	f.addToCart(c, "en", "glow-serum", "1")
	_, body, _ := f.get(c, "/en/checkout")
	good := f.csrf(body)
	other := f.newClient()
	_, otherBody, _ := f.get(other, "/en/")
	otherToken := f.csrf(otherBody)
	tests := []struct {
		name, lang, path string
		form             url.Values
	}{
		{"checkout without token", "en", "/en/checkout", without(checkoutValues(good), "csrf")},
		{"checkout with a wrong token", "ar", "/ar/checkout", with(checkoutValues(good), "csrf", strings.Repeat("A", 43))},
		{"checkout with another session's token", "en", "/en/checkout", with(checkoutValues(good), "csrf", otherToken)},
		{"add without token", "en", "/en/cart/items", url.Values{"product_id": {string(f.ids["sun-cream"])}, "quantity": {"1"}}},
		{"remove with an empty token", "en", "/en/cart/set", url.Values{"csrf": {""}, "product_id": {string(f.ids["glow-serum"])}, "quantity": {"0"}}},
		{"market with a wrong token", "ar", "/ar/market", url.Values{"csrf": {good + "x"}, "market": {"SA"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, resp := f.post(c, tt.path, tt.form)
			if status != http.StatusForbidden {
				t.Fatalf("got %d, want 403", status)
			}
			checkPage(t, tt.name, tt.lang, resp, body)
			want := map[string]string{"en": "This form has expired", "ar": "انتهت صلاحية هذا النموذج"}[tt.lang]
			mustContain(t, tt.name, body, want, `<div class="alert" role="alert">`)
		})
	}
	// Another site's form, even with a stolen token, is refused by Origin.
	req, _ := http.NewRequest(http.MethodPost, f.url+"/en/checkout", strings.NewReader(checkoutValues(good).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST: got %v %v, want 403", resp.StatusCode, err)
	}
	if n := f.orderCount(); n != 0 {
		t.Errorf("orders: got %d, want 0", n)
	}
	v, err := f.carts.Get(t.Context(), cartCookie(t, f, c))
	if err != nil || len(v.Lines) != 1 || v.Lines[0].Quantity != 1 || v.Market.Code != souq.AE {
		t.Errorf("cart changed by refused forms: %+v %v", v, err)
	}
}

func without(v url.Values, k string) url.Values { v.Del(k); return v }
func with(v url.Values, k, val string) url.Values {
	v.Set(k, val)
	return v
}

func TestTamperedFields(t *testing.T) {
	f := newFixture(t)
	c := f.newClient()
	_, body, _ := f.get(c, "/en/p/glow-serum")
	token := f.csrf(body)

	// A product that does not exist.
	for _, pid := range []string{"prd_doesnotexist000000", "glow-serum", "", "../../etc"} {
		status, body, _ := f.post(c, "/en/cart/items", url.Values{"csrf": {token}, "product_id": {pid}, "quantity": {"1"}})
		if status != http.StatusNotFound || !strings.Contains(body, "We could not find") {
			t.Errorf("product_id %q: got %d, want 404 with a message", pid, status)
		}
	}
	// A price field is never read: the cart holds the catalog's price.
	status, _, _ := f.post(c, "/en/cart/items", url.Values{"csrf": {token}, "product_id": {string(f.ids["glow-serum"])}, "quantity": {"1"}, "price": {"1"}, "unit_price": {"0.01"}})
	if status != http.StatusSeeOther {
		t.Fatalf("add with a price field: got %d, want 303", status)
	}
	v, err := f.carts.Get(t.Context(), cartCookie(t, f, c))
	if err != nil || len(v.Lines) != 1 || v.Lines[0].LineTotal.Amount != 8900 {
		t.Errorf("cart after a tampered price: %+v %v; want one line at 8900", v.Lines, err)
	}
	// A price in the checkout form is ignored too.
	_, body, _ = f.get(c, "/en/checkout")
	form := checkoutValues(f.csrf(body))
	form.Set("total", "0.01")
	form.Set("market", "KW")
	if status, _, resp := f.post(c, "/en/checkout", form); status != http.StatusSeeOther {
		t.Fatalf("checkout with extra fields: got %d (%s)", status, resp.Header.Get("Location"))
	}
	orders, _, _ := f.checkout.Orders(t.Context(), 1, 10)
	if len(orders) != 1 || orders[0].Total != 8900 || orders[0].Market != souq.AE {
		t.Errorf("order: got %+v, want AED 89.00 in AE", orders)
	}
}

func TestQuantityBounds(t *testing.T) {
	f := newFixture(t)
	c := f.newClient()
	tests := []struct {
		qty, want string
		status    int
	}{
		{"0", "Enter a quantity from 1 to 20.", http.StatusUnprocessableEntity},
		{"-3", "Enter a quantity from 1 to 20.", http.StatusUnprocessableEntity},
		{"abc", "Enter a quantity from 1 to 20.", http.StatusUnprocessableEntity},
		{"1.5", "Enter a quantity from 1 to 20.", http.StatusUnprocessableEntity},
		{"99999999999999999999", "Enter a quantity from 1 to 20.", http.StatusUnprocessableEntity},
		{"50", "Only 20 left in stock.", http.StatusConflict},
	}
	for _, tt := range tests {
		status, body, _ := f.addToCart(c, "en", "glow-serum", tt.qty)
		if status != tt.status || !strings.Contains(body, `<p class="field-error" id="quantity-error">`+tt.want) {
			t.Errorf("quantity %q: got %d, want %d with %q", tt.qty, status, tt.status, tt.want)
		}
		if !strings.Contains(body, `aria-describedby="quantity-error"`) {
			t.Errorf("quantity %q: the error is not tied to the field", tt.qty)
		}
	}
	if _, body, _ := f.get(c, "/en/cart"); !strings.Contains(body, "Your cart is empty.") {
		t.Errorf("cart is not empty after refused quantities")
	}
	// In the cart: 0 removes, a bad value says so.
	f.addToCart(c, "ar", "glow-serum", "٢")
	_, body, _ := f.get(c, "/ar/cart")
	token := f.csrf(body)
	status, body, _ := f.post(c, "/ar/cart/set", url.Values{"csrf": {token}, "product_id": {string(f.ids["glow-serum"])}, "quantity": {"1000"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "أدخل كمية من ٠ إلى ١٠٠") {
		t.Errorf("cart quantity 1000: got %d without the message", status)
	}
	status, _, _ = f.post(c, "/ar/cart/set", url.Values{"csrf": {token}, "product_id": {string(f.ids["glow-serum"])}, "quantity": {"5"}})
	if v, _ := f.carts.Get(t.Context(), cartCookie(t, f, c)); status != http.StatusSeeOther || v.Items != 5 {
		t.Errorf("set 5: got %d, %d items", status, v.Items)
	}
	status, _, _ = f.post(c, "/ar/cart/set", url.Values{"csrf": {token}, "product_id": {string(f.ids["glow-serum"])}, "quantity": {"0"}})
	if v, _ := f.carts.Get(t.Context(), cartCookie(t, f, c)); status != http.StatusSeeOther || len(v.Lines) != 0 {
		t.Errorf("remove: got %d, %d lines", status, len(v.Lines))
	}
}

func TestCheckoutValidation(t *testing.T) {
	tests := []struct {
		market string
		phone  string
		ok     bool
	}{
		{"AE", "501234567", true},
		{"AE", "0501234567", true},
		{"AE", "+971 50 123 4567", true},
		{"AE", "12345", false},
		{"AE", "50123456", false},       // 8 digits; the UAE needs 9
		{"AE", "5012345678", false},     // 10 digits
		{"AE", "50-123-abc7", false},    // letters
		{"AE", "", false},               // missing
		{"KW", "51234567", true},        // Kuwait: 8 digits
		{"KW", "512345678", false},      // 9 digits
		{"SA", "512345678", true},       // Saudi Arabia: 9
		{"QA", "3312345", false},        // 7 digits; Qatar needs 8
		{"OM", "٩٢١٢٣٤٥٦", true},        // Arabic-Indic digits
		{"BH", "+966 3612 3456", false}, // a Saudi prefix in Bahrain
	}
	city := map[string]string{"AE": "Dubai", "KW": "Hawalli", "SA": "Riyadh", "QA": "Doha", "OM": "Muscat", "BH": "Manama"}
	f := newFixture(t)
	for _, tt := range tests {
		t.Run(tt.market+" "+tt.phone, func(t *testing.T) {
			c := f.newClient()
			_, body, _ := f.get(c, "/en/")
			f.post(c, "/en/market", url.Values{"csrf": {f.csrf(body)}, "market": {tt.market}})
			f.addToCart(c, "en", "glow-serum", "1")
			_, body, _ = f.get(c, "/en/checkout")
			before := f.orderCount()
			form := checkoutValues(f.csrf(body))
			form.Set("phone", tt.phone)
			form.Set("city", city[tt.market])
			status, body, _ := f.post(c, "/en/checkout", form)
			if tt.ok {
				if status != http.StatusSeeOther {
					t.Errorf("got %d, want 303\n%s", status, fieldErrors(body))
				}
				return
			}
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("got %d, want 422", status)
			}
			mustContain(t, "phone error", body, `<p class="field-error" id="phone-error">Enter the`, `aria-describedby="phone-hint phone-error"`,
				`<div class="alert" role="alert">Please correct the fields marked below.</div>`)
			if f.orderCount() != before {
				t.Errorf("an order was placed with phone %q", tt.phone)
			}
		})
	}
	// Every field at once, in Arabic, in a shop that takes no cards; the
	// values typed stay in the form.
	f = newFixture(t, fixtureOptions{noCards: true})
	before := f.orderCount()
	c := f.newClient()
	f.addToCart(c, "ar", "glow-serum", "1")
	_, body, _ := f.get(c, "/ar/checkout")
	form := url.Values{"csrf": {f.csrf(body)}, "name": {"م"}, "phone": {"1"}, "email": {"not-an-email"}, "city": {"Paris"},
		"area": {""}, "address": {"x"}, "notes": {strings.Repeat("n", 201)}, "payment": {"card"}}
	status, body, _ := f.post(c, "/ar/checkout", form)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("all fields wrong: got %d, want 422", status)
	}
	for _, field := range []string{"name", "phone", "email", "city", "area", "address", "notes", "payment"} {
		if !strings.Contains(body, `class="field-error" id="`+field+`-error"`) {
			t.Errorf("no field error for %s", field)
		}
	}
	mustContain(t, "arabic errors", body, "الدفع بالبطاقة غير متاح حاليًا", `value="not-an-email"`, "أدخل رقم الجوال المكوّن من ٩ أرقام بعد")
	if f.orderCount() != before {
		t.Errorf("orders placed from invalid forms")
	}
}

var fieldErrorText = regexp.MustCompile(`class="(?:field-error|alert)"[^>]*>([^<]*)`)

func fieldErrors(body string) string {
	var out []string
	for _, m := range fieldErrorText.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return strings.Join(out, "; ")
}

// TestOutOfStockAtCheckout: stock runs out between cart and order; the
// checkout names the product, keeps the cart whole and orders nothing.
func TestOutOfStockAtCheckout(t *testing.T) {
	f := newFixture(t)
	c := f.newClient()
	f.addToCart(c, "en", "glow-serum", "1")
	f.addToCart(c, "en", "sun-cream", "3")
	_, body, _ := f.get(c, "/en/checkout")
	if _, err := f.catalog.SetStock(t.Context(), f.ids["sun-cream"], 1); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "ar"} {
		status, page, resp := f.post(c, "/"+lang+"/checkout", checkoutValues(f.csrf(body)))
		if status != http.StatusConflict {
			t.Fatalf("%s: got %d, want 409\n%s", lang, status, fieldErrors(page))
		}
		checkPage(t, "out of stock", lang, resp, page)
		want := map[string]string{"en": "“Sun Cream SPF50” no longer has enough stock (1 left).", "ar": "لم تعد الكمية المتوفرة من «كريم واقٍ من الشمس» كافية (المتبقي ١)"}[lang]
		mustContain(t, lang+" out of stock", page, `<div class="alert" role="alert">`+want, `value="Mariam Al Mansoori"`, `id="place-order"`)
	}
	if n := f.orderCount(); n != 0 {
		t.Errorf("orders: got %d, want 0", n)
	}
	v, err := f.carts.Get(t.Context(), cartCookie(t, f, c))
	if err != nil || len(v.Lines) != 2 || v.Items != 4 {
		t.Fatalf("cart after out of stock: %+v %v; want both lines, 4 items", v.Lines, err)
	}
	if got := f.stock("glow-serum"); got != 20 {
		t.Errorf("glow-serum stock: got %d, want 20 (nothing ordered)", got)
	}
	_, page, _ := f.get(c, "/en/cart")
	mustContain(t, "cart after out of stock", page, "Only 1 left: lower the quantity.", "Some items in your cart need your attention")
}

// TestInvalidUTF8Form: form bytes that are not UTF-8 are refused with an
// error page, not stored as U+FFFD.
func TestInvalidUTF8Form(t *testing.T) {
	f := newFixture(t)
	c := f.newClient()
	form := f.checkoutForm(c)
	form.Set("name", "\xff\xfeMariam")
	status, page, _ := f.post(c, "/en/checkout", form)
	if status < 400 || status >= 500 {
		t.Errorf("checkout with a name that is not UTF-8: got %d, want a 4xx page\n%s", status, clip(page))
	}
	if n := f.orderCount(); n != 0 {
		t.Errorf("orders: got %d, want 0", n)
	}
}

// checkoutForm puts one glow serum in c's cart and returns the checkout
// form, filled in, with its CSRF token and idempotency key.
func (f *fixture) checkoutForm(c *http.Client) url.Values {
	f.t.Helper()
	f.addToCart(c, "en", "glow-serum", "1")
	_, body, _ := f.get(c, "/en/checkout")
	form := checkoutValues(f.csrf(body))
	form.Set("key", regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(body)[1])
	return form
}

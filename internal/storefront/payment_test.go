package storefront

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// fakeProvider is a card provider with a hosted payment page, as Stripe
// is: Start answers a pending payment and the page's address, Lookup what
// the test says the shopper did there. Its mode makes Start decline the
// card or fail to answer instead.
type fakeProvider struct {
	mu       sync.Mutex
	mode     string // "page" (default), "decline" or "unreachable"
	payments map[string]checkout.PaymentState
	charges  []checkout.Charge
	lookups  int
	onStart  func() // called by Start, before it answers
}

const (
	fakeName = "stripe"
	fakePage = "https://pay.example/"
)

var _ checkout.PaymentProvider = (*fakeProvider)(nil)

func newFakeProvider(mode string) *fakeProvider {
	return &fakeProvider{mode: mode, payments: map[string]checkout.PaymentState{}}
}

func (p *fakeProvider) Name() string { return fakeName }

func (p *fakeProvider) setMode(mode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
}

func (p *fakeProvider) Start(_ context.Context, c checkout.Charge) (checkout.PaymentState, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.charges = append(p.charges, c)
	if p.onStart != nil {
		p.onStart()
	}
	switch p.mode {
	case "decline":
		return checkout.PaymentState{}, souq.Errorf(souq.ErrPayment, "your card was declined")
	case "unreachable":
		return checkout.PaymentState{}, errors.New("dial tcp: connection refused")
	}
	ref := "cs_" + string(c.Order)
	st, ok := p.payments[ref]
	if !ok {
		st = checkout.PaymentState{Reference: ref, Order: c.Order, Status: souq.PaymentPending, Amount: c.Amount}
		p.payments[ref] = st
	}
	st.RedirectURL = fakePage + ref
	return st, nil
}

func (p *fakeProvider) Lookup(_ context.Context, ref string) (checkout.PaymentState, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lookups++
	st, ok := p.payments[ref]
	if !ok {
		return checkout.PaymentState{}, souq.Errorf(souq.ErrNotFound, "no payment %q", ref)
	}
	return st, nil
}

// pay is the shopper paying on the provider's page.
func (p *fakeProvider) pay(order souq.ID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.payments["cs_"+string(order)]
	st.Status = souq.PaymentCaptured
	p.payments["cs_"+string(order)] = st
}

func (p *fakeProvider) lastCharge() checkout.Charge {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.charges) == 0 {
		return checkout.Charge{}
	}
	return p.charges[len(p.charges)-1]
}

func (p *fakeProvider) chargeCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.charges)
}

func (p *fakeProvider) lookupCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lookups
}

func (p *fakeProvider) Capture(ctx context.Context, ref string) (checkout.PaymentState, error) {
	return p.Lookup(ctx, ref)
}

func (p *fakeProvider) Cancel(ctx context.Context, ref string) (checkout.PaymentState, error) {
	return p.Lookup(ctx, ref)
}

func (p *fakeProvider) Refund(context.Context, string, souq.ID) (string, error) {
	return "", errors.New("not refundable")
}

func (p *fakeProvider) Webhook(http.Header, []byte) (checkout.Notification, error) {
	return checkout.Notification{}, souq.Errorf(souq.ErrUnauthorized, "no webhooks")
}

var (
	formKey    = regexp.MustCompile(`name="key" value="([^"]+)"`)
	payAction  = regexp.MustCompile(`<form id="pay-form" method="post" action="([^"]+)">`)
	metaReload = `<meta http-equiv="refresh" content="10">`
)

// cardForm fills c's cart with two glow serums and returns the checkout
// form, paying by card, with the checkout page.
func (f *fixture) cardForm(c *http.Client, lang string) (url.Values, string) {
	f.t.Helper()
	f.addToCart(c, lang, "glow-serum", "2")
	status, body, _ := f.get(c, "/"+lang+"/checkout")
	if status != http.StatusOK {
		f.t.Fatalf("checkout page: got %d, want 200", status)
	}
	form := checkoutValues(f.csrf(body))
	form.Set("key", formKey.FindStringSubmatch(body)[1])
	form.Set("payment", "card")
	return form, body
}

// setCookie returns the cookie named name that resp sets.
func setCookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestCardWithTestProvider: with the built-in test provider, a card
// order is paid at once and ends on its confirmed page.
func TestCardWithTestProvider(t *testing.T) {
	for _, lang := range []string{"en", "ar"} {
		t.Run(lang, func(t *testing.T) {
			f := newFixture(t)
			c := f.newClient()
			form, page := f.cardForm(c, lang)
			label := map[string]string{"en": "Test card (no money moves)", "ar": "بطاقة تجريبية (لا تُنقل أي أموال)"}[lang]
			mustContain(t, "checkout page", page, `<input type="radio" id="payment-card" name="payment" value="card"> <label for="payment-card">`+label+`</label>`,
				`value="cod" checked`)
			status, body, resp := f.post(c, "/"+lang+"/checkout", form)
			loc := orderLocation.FindStringSubmatch(resp.Header.Get("Location"))
			if status != http.StatusSeeOther || loc == nil {
				t.Fatalf("place card order: got %d to %q, want 303 to the order page\n%s", status, resp.Header.Get("Location"), fieldErrors(body))
			}
			token, _ := url.QueryUnescape(loc[3])
			o, err := f.checkout.Order(t.Context(), souq.ID(loc[2]), token)
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != souq.StatusPaid || o.Payment.Method != souq.PayCard || o.Payment.Status != souq.PaymentCaptured {
				t.Errorf("order: got %s paid by %s (%s), want paid by card (captured)", o.Status, o.Payment.Method, o.Payment.Status)
			}
			if got := f.stock("glow-serum"); got != 18 {
				t.Errorf("stock: got %d, want 18", got)
			}
			if ck := setCookie(resp, cookiePay); ck != nil {
				t.Errorf("pay cookie set for an order paid at once: %v", ck)
			}
			status, body, resp = f.get(c, resp.Header.Get("Location"))
			if status != http.StatusOK {
				t.Fatalf("order page: got %d", status)
			}
			checkPage(t, "paid order page", lang, resp, body)
			want := map[string][]string{
				"en": {"Thank you! Your order is confirmed.", `<strong id="order-status">Paid</strong>`, `<p id="payment-state">Paid by card.</p>`},
				"ar": {"شكرًا لك! تم تأكيد طلبك.", `<strong id="order-status">مدفوع</strong>`, `<p id="payment-state">تم الدفع بالبطاقة.</p>`},
			}[lang]
			mustContain(t, "paid order page", body, want...)
			for _, unwanted := range []string{metaReload, `id="pay-now"`} {
				if strings.Contains(body, unwanted) {
					t.Errorf("paid order page holds %s", unwanted)
				}
			}
			if _, body, _ := f.get(c, "/"+lang+"/cart"); strings.Contains(body, `id="checkout-link"`) {
				t.Errorf("cart still full after the order")
			}
		})
	}
}

// TestCardDeclined: a card declined when the order is placed shows the
// form again, with the products back in the cart and nothing ordered; the
// shopper can then pay cash on delivery.
func TestCardDeclined(t *testing.T) {
	for _, lang := range []string{"en", "ar"} {
		t.Run(lang, func(t *testing.T) {
			f := newFixture(t, fixtureOptions{provider: newFakeProvider("decline")})
			c := f.newClient()
			form, _ := f.cardForm(c, lang)
			cartID := cartCookie(t, f, c)
			status, body, resp := f.post(c, "/"+lang+"/checkout", form)
			if status != http.StatusPaymentRequired {
				t.Fatalf("declined card: got %d to %q, want 402 with the form\n%s", status, resp.Header.Get("Location"), clip(body))
			}
			checkPageCSP(t, "declined", lang, resp, body, paymentSecurityPolicy)
			checkLabels(t, "declined", body)
			alert := map[string]string{"en": "Your card was not accepted and nothing was charged. Your cart is as it was",
				"ar": "لم تُقبل بطاقتك ولم يُخصم أي مبلغ. سلتك كما كانت"}[lang]
			mustContain(t, "declined", body, `<div class="alert" role="alert">`+alert, `value="Mariam Al Mansoori"`,
				`id="payment-card" name="payment" value="card" checked`, `id="place-order"`)
			if strings.Contains(body, `value="cod" checked`) {
				t.Errorf("declined: cash on delivery is checked; the shopper chose card")
			}
			if n := f.orderCount(); n != 1 {
				t.Fatalf("orders: got %d, want the one released", n)
			}
			orders, _, _ := f.checkout.Orders(t.Context(), 1, 1)
			if o := orders[0]; o.Status != souq.StatusCancelled || o.Payment.Status != souq.PaymentFailed {
				t.Errorf("declined order: got %s with payment %s, want cancelled with payment failed", o.Status, o.Payment.Status)
			}
			if got := f.stock("glow-serum"); got != 20 {
				t.Errorf("stock after the decline: got %d, want 20 (released)", got)
			}
			checkCart := func(when string) {
				t.Helper()
				if got := cartCookie(t, f, c); got != cartID {
					t.Errorf("%s: cart cookie %q, want the cart %q", when, got, cartID)
				}
				v, err := f.carts.Get(t.Context(), cartID)
				if err != nil || len(v.Lines) != 1 || v.Lines[0].Quantity != 2 {
					t.Errorf("%s: cart %+v (%v), want the two glow serums back", when, v.Lines, err)
				}
			}
			checkCart("after the decline")

			// The same form posted again (a double click) answers the same,
			// without doubling the cart or placing another order.
			status, body, _ = f.post(c, "/"+lang+"/checkout", form)
			if status != http.StatusPaymentRequired || !strings.Contains(body, alert) {
				t.Errorf("declined form posted again: got %d without the message\n%s", status, fieldErrors(body))
			}
			checkCart("after posting the form again")
			if n := f.orderCount(); n != 1 {
				t.Errorf("orders after posting the form again: got %d, want 1", n)
			}

			// The form as shown again places a cash-on-delivery order.
			retry := checkoutValues(f.csrf(body))
			retry.Set("key", formKey.FindStringSubmatch(body)[1])
			if retry.Get("key") == form.Get("key") {
				t.Errorf("the form shown again reuses the declined order's key")
			}
			status, _, resp = f.post(c, "/"+lang+"/checkout", retry)
			loc := orderLocation.FindStringSubmatch(resp.Header.Get("Location"))
			if status != http.StatusSeeOther || loc == nil {
				t.Fatalf("cash on delivery after the decline: got %d to %q", status, resp.Header.Get("Location"))
			}
			token, _ := url.QueryUnescape(loc[3])
			if o, err := f.checkout.Order(t.Context(), souq.ID(loc[2]), token); err != nil || o.Status != souq.StatusPlaced || o.Lines[0].Quantity != 2 {
				t.Errorf("order after the decline: got %+v (%v), want two serums placed for cash on delivery", o, err)
			}
		})
	}
}

// TestCardDeclinedCartGone: when the products cannot go back in the cart
// (here, withdrawn from the market while the card was being declined),
// the page says so instead of showing an empty form.
func TestCardDeclinedCartGone(t *testing.T) {
	provider := newFakeProvider("decline")
	f := newFixture(t, fixtureOptions{provider: provider})
	provider.onStart = func() {
		in := testProducts()[0]
		delete(in.Prices, souq.AE)
		in.Stock = nil
		if _, err := f.catalog.Update(context.Background(), f.ids["glow-serum"], in); err != nil {
			t.Errorf("withdraw the product: %v", err)
		}
	}
	c := f.newClient()
	form, _ := f.cardForm(c, "ar")
	status, body, resp := f.post(c, "/ar/checkout", form)
	if status != http.StatusPaymentRequired {
		t.Fatalf("declined: got %d to %q, want 402\n%s", status, resp.Header.Get("Location"), clip(body))
	}
	checkPage(t, "declined, cart gone", "ar", resp, body)
	mustContain(t, "declined, cart gone", body, "<h1>لم تكتمل عملية الدفع</h1>",
		`<div class="alert" role="alert">لم تُقبل بطاقتك ولم يُخصم أي مبلغ، لكن تعذّرت إعادة المنتجات إلى سلتك.`)
	if strings.Contains(body, `id="place-order"`) {
		t.Errorf("declined, cart gone: the checkout form is shown with an empty cart")
	}
}

// TestCardOnProviderPage walks a card payment on the provider's page:
// the redirect, the pay cookie, the order waiting for its payment, the
// return in another browser and in the shopper's.
func TestCardOnProviderPage(t *testing.T) {
	for _, lang := range []string{"en", "ar"} {
		t.Run(lang, func(t *testing.T) {
			provider := newFakeProvider("page")
			f := newFixture(t, fixtureOptions{provider: provider})
			c := f.newClient()
			form, page := f.cardForm(c, lang)
			label := map[string]string{"en": "Card or Apple Pay (on the payment provider&#39;s secure page; 3-D Secure)",
				"ar": "البطاقة أو Apple Pay (في صفحة الدفع الآمنة لدى مزوّد الدفع، مع التحقق 3-D Secure)"}[lang]
			mustContain(t, "checkout page", page, `<label for="payment-card">`+label+`</label>`)
			status, body, resp := f.post(c, "/"+lang+"/checkout", form)
			charge := provider.lastCharge()
			id := charge.Order
			if status != http.StatusSeeOther || resp.Header.Get("Location") != fakePage+"cs_"+string(id) {
				t.Fatalf("place card order: got %d to %q, want 303 to the provider's page\n%s", status, resp.Header.Get("Location"), fieldErrors(body))
			}
			if charge.Token != "" || charge.Language != lang || charge.ReturnURL != f.url+"/"+lang+"/orders/"+string(id)+"/return" {
				t.Errorf("charge: got token %q, language %q, return %q; want no token, %s, the order's return page", charge.Token, charge.Language, charge.ReturnURL, lang)
			}
			ck := setCookie(resp, cookiePay)
			if ck == nil {
				t.Fatal("no pay cookie")
			}
			oid, token, _ := strings.Cut(ck.Value, ".")
			if oid != string(id) || !validToken(token) || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.MaxAge != 3600 || ck.Path != "/" {
				t.Errorf("pay cookie: got %+v, want HttpOnly, SameSite=Lax, an hour, naming order %s", ck, id)
			}
			if cart := setCookie(resp, cookieCart); cart == nil || cart.MaxAge >= 0 {
				t.Errorf("cart cookie: got %v, want it deleted", cart)
			}
			o, err := f.checkout.Order(t.Context(), id, token)
			if err != nil || o.Status != souq.StatusPendingPayment {
				t.Fatalf("order: got %s (%v), want pending_payment", o.Status, err)
			}

			// The order's page while it waits: the pay button, the reload.
			status, body, resp = f.get(c, "/"+lang+"/orders/"+string(id)+"?token="+token)
			if status != http.StatusOK {
				t.Fatalf("pending order page: got %d", status)
			}
			checkPageCSP(t, "pending order page", lang, resp, body, paymentSecurityPolicy)
			checkLabels(t, "pending order page", body)
			want := map[string][]string{
				"en": {">Waiting for your payment</h1>", `<strong id="order-status">Waiting for payment</strong>`, "We are holding your items until", "(UAE time)", ">Pay now</button>"},
				"ar": {">بانتظار إتمام الدفع</h1>", `<strong id="order-status">بانتظار الدفع</strong>`, "نحجز لك المنتجات حتى", "(بتوقيت الإمارات)", ">ادفع الآن</button>"},
			}[lang]
			mustContain(t, "pending order page", body, append(want, metaReload, `<time id="held-until" datetime="`+o.Payment.DueAt.UTC().Format(time.RFC3339)+`">`)...)
			for _, unwanted := range []string{"Thank you! Your order is confirmed.", "شكرًا لك! تم تأكيد طلبك."} {
				if strings.Contains(body, unwanted) {
					t.Errorf("pending order page says %q", unwanted)
				}
			}
			m := payAction.FindStringSubmatch(body)
			if m == nil || html.UnescapeString(m[1]) != "/"+lang+"/orders/"+string(id)+"/pay?token="+token {
				t.Errorf("pay form: got %v, want it posting to the order's pay address", m)
			}

			// The provider sends the shopper back to another browser: no
			// token, no order, no provider call.
			other := f.newClient()
			status, body, resp = f.get(other, "/"+lang+"/orders/"+string(id)+"/return")
			if status != http.StatusOK {
				t.Fatalf("return in another browser: got %d, want 200", status)
			}
			checkPage(t, "return page", lang, resp, body)
			want = map[string][]string{"en": {"Confirming your payment", "use the link to your order"}, "ar": {"جارٍ تأكيد الدفع", "استخدم رابط طلبك"}}[lang]
			mustContain(t, "return page", body, want...)
			if strings.Contains(body, token) || strings.Contains(body, "Glow Serum") || strings.Contains(body, "سيروم التوهج") {
				t.Errorf("return page without the cookie shows the order or its token")
			}
			if n := provider.lookupCount(); n != 0 {
				t.Errorf("provider lookups without the cookie: got %d, want 0", n)
			}

			// The shopper pays and comes back in the same browser.
			provider.pay(id)
			status, _, resp = f.get(c, "/"+lang+"/orders/"+string(id)+"/return")
			if status != http.StatusSeeOther || resp.Header.Get("Location") != "/"+lang+"/orders/"+string(id)+"?token="+token {
				t.Fatalf("return: got %d to %q, want 303 to the order page", status, resp.Header.Get("Location"))
			}
			if ck := setCookie(resp, cookiePay); ck == nil || ck.MaxAge >= 0 {
				t.Errorf("pay cookie after the return: got %v, want it deleted", ck)
			}
			if n := provider.lookupCount(); n != 1 {
				t.Errorf("provider lookups on the return: got %d, want 1", n)
			}
			if o, err := f.checkout.Order(t.Context(), id, token); err != nil || o.Status != souq.StatusPaid || o.Payment.Status != souq.PaymentCaptured {
				t.Errorf("order after the return: got %s with payment %s (%v), want paid, captured", o.Status, o.Payment.Status, err)
			}
			status, body, resp = f.get(c, resp.Header.Get("Location"))
			if status != http.StatusOK {
				t.Fatalf("order page after the return: got %d", status)
			}
			checkPage(t, "paid order page", lang, resp, body)
			want = map[string][]string{"en": {"Thank you! Your order is confirmed.", "Paid by card."}, "ar": {"شكرًا لك! تم تأكيد طلبك.", "تم الدفع بالبطاقة."}}[lang]
			mustContain(t, "paid order page", body, want...)
			if strings.Contains(body, metaReload) || strings.Contains(body, `id="pay-now"`) {
				t.Errorf("paid order page still reloads or offers to pay")
			}
			// The cookie is gone: coming back again shows the waiting page.
			if status, body, _ := f.get(c, "/"+lang+"/orders/"+string(id)+"/return"); status != http.StatusOK || strings.Contains(body, token) {
				t.Errorf("second return: got %d, want the waiting page without the token", status)
			}
		})
	}
}

// TestPaymentReturnCookie: the return page believes the pay cookie only
// for its own order, and only with the order's token.
func TestPaymentReturnCookie(t *testing.T) {
	provider := newFakeProvider("page")
	f := newFixture(t, fixtureOptions{provider: provider})
	c := f.newClient()
	form, _ := f.cardForm(c, "en")
	f.post(c, "/en/checkout", form)
	id := provider.lastCharge().Order
	u, _ := url.Parse(f.url)
	tests := []struct {
		name, cookie string
		status       int
	}{
		{"another order's cookie", "ord_another." + souq.NewToken(), http.StatusOK},
		{"a malformed cookie", string(id), http.StatusOK},
		{"a wrong token", string(id) + "." + souq.NewToken(), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := f.newClient()
			b.Jar.SetCookies(u, []*http.Cookie{{Name: cookiePay, Value: tt.cookie, Path: "/"}})
			status, body, resp := f.get(b, "/en/orders/"+string(id)+"/return")
			if status != tt.status {
				t.Errorf("got %d to %q, want %d", status, resp.Header.Get("Location"), tt.status)
			}
			if tt.status == http.StatusOK && !strings.Contains(body, "Confirming your payment") {
				t.Errorf("no waiting message")
			}
		})
	}
	if n := provider.lookupCount(); n != 0 {
		t.Errorf("provider lookups: got %d, want 0", n)
	}
}

// TestPayNow: an order whose provider could not be reached when it was
// placed waits for its payment; "Pay now" says when the provider is still
// unreachable, then sends the shopper to its page.
func TestPayNow(t *testing.T) {
	provider := newFakeProvider("unreachable")
	f := newFixture(t, fixtureOptions{provider: provider})
	c := f.newClient()
	form, _ := f.cardForm(c, "en")
	status, body, resp := f.post(c, "/en/checkout", form)
	loc := orderLocation.FindStringSubmatch(resp.Header.Get("Location"))
	if status != http.StatusSeeOther || loc == nil {
		t.Fatalf("provider unreachable: got %d to %q, want 303 to the order page\n%s", status, resp.Header.Get("Location"), fieldErrors(body))
	}
	if ck := setCookie(resp, cookieCart); ck == nil || ck.MaxAge >= 0 {
		t.Errorf("cart cookie: got %v, want it deleted (the cart became the order)", ck)
	}
	id, token := souq.ID(loc[2]), loc[3]
	status, body, _ = f.get(c, resp.Header.Get("Location"))
	m := payAction.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("pending order page: got %d without a pay form", status)
	}
	action := html.UnescapeString(m[1])

	status, body, resp = f.post(c, action, url.Values{"csrf": {f.csrf(body)}})
	if status != http.StatusServiceUnavailable {
		t.Fatalf("pay with the provider unreachable: got %d to %q, want 503", status, resp.Header.Get("Location"))
	}
	checkPageCSP(t, "pay unavailable", "en", resp, body, paymentSecurityPolicy)
	mustContain(t, "pay unavailable", body, `<div class="alert" role="alert">We could not reach the payment provider`, `id="pay-now"`)

	provider.setMode("page")
	status, _, resp = f.post(c, action, url.Values{"csrf": {f.csrf(body)}})
	if status != http.StatusSeeOther || resp.Header.Get("Location") != fakePage+"cs_"+string(id) {
		t.Fatalf("pay now: got %d to %q, want 303 to the provider's page", status, resp.Header.Get("Location"))
	}
	if ck := setCookie(resp, cookiePay); ck == nil || ck.Value != string(id)+"."+token {
		t.Errorf("pay cookie: got %v, want it naming the order", ck)
	}
	if got := provider.lastCharge(); got.Language != "en" || got.Token != "" {
		t.Errorf("charge: got language %q token %q, want en and no token", got.Language, got.Token)
	}
	// Without the CSRF token nothing is started.
	before := provider.chargeCount()
	if status, _, _ := f.post(c, action, url.Values{}); status != http.StatusForbidden {
		t.Errorf("pay without csrf: got %d, want 403", status)
	}
	if provider.chargeCount() != before {
		t.Errorf("pay without csrf started a payment")
	}
	// A wrong token finds no order.
	if status, _, _ := f.post(c, "/en/orders/"+string(id)+"/pay?token=wrong", url.Values{"csrf": {f.csrf(body)}}); status != http.StatusNotFound {
		t.Errorf("pay with a wrong token: got %d, want 404", status)
	}
}

// TestCheckoutWithoutCards: a shop without a card provider shows card
// disabled and refuses it.
func TestCheckoutWithoutCards(t *testing.T) {
	f := newFixture(t, fixtureOptions{noCards: true})
	c := f.newClient()
	form, page := f.cardForm(c, "en")
	mustContain(t, "checkout page", page, `value="card" disabled> <label for="payment-card">Card (not available yet)</label>`, `value="cod" checked`)
	status, body, _ := f.post(c, "/en/checkout", form)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("card without a provider: got %d, want 422", status)
	}
	mustContain(t, "card refused", body, `<p class="field-error" id="payment-error">Card payment is not available yet; choose cash on delivery.</p>`)
	if n := f.orderCount(); n != 0 {
		t.Errorf("orders: got %d, want 0", n)
	}
	// A shop that takes cards still refuses a method it does not know.
	g := newFixture(t)
	form, _ = g.cardForm(c, "en")
	status, body, _ = g.post(c, "/en/checkout", with(form, "payment", "cheque"))
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="payment-error">Choose how you will pay.</p>`) {
		t.Errorf("unknown payment method: got %d, want 422 with the payment error\n%s", status, fieldErrors(body))
	}
}

func TestPaymentNote(t *testing.T) {
	now := time.Now()
	card := func(status souq.OrderStatus, pay souq.PaymentStatus, completed bool) souq.Order {
		o := souq.Order{Status: status, Payment: souq.Payment{Method: souq.PayCard, Status: pay}}
		if completed {
			o.CompletedAt = &now
		}
		return o
	}
	tests := []struct {
		name string
		o    souq.Order
		want string
	}{
		{"cash on delivery", souq.Order{Status: souq.StatusPlaced, Payment: souq.Payment{Method: souq.PayCashOnDelivery}}, ""},
		{"pending", card(souq.StatusPendingPayment, souq.PaymentPending, false), ""},
		{"captured", card(souq.StatusPaid, souq.PaymentCaptured, true), "Paid by card."},
		{"authorised", card(souq.StatusPaid, souq.PaymentAuthorized, true), "The amount is reserved on your card and will be charged when your order is dispatched."},
		{"refunded", card(souq.StatusCancelled, souq.PaymentRefunded, true), "Your payment has been refunded."},
		{"refund pending", card(souq.StatusCancelled, souq.PaymentRefundPending, true), "Your payment is being refunded."},
		{"declined", card(souq.StatusCancelled, souq.PaymentFailed, false), "The card payment was declined. Nothing was charged."},
		{"not paid in time", card(souq.StatusCancelled, souq.PaymentCanceled, false), "The payment was not completed in time, so the order was cancelled. Nothing was charged."},
		{"authorisation voided", card(souq.StatusCancelled, souq.PaymentCanceled, true), "The amount reserved on your card was released. Nothing was charged."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := paymentNote(souq.English, tt.o); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

package storefront

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/souq-commerce/souq/internal/delivery"
	"github.com/souq-commerce/souq/internal/souq"
)

// setDelivery gives the UAE AED 15 delivery, free from AED 200, and AED 10
// for cash on delivery. The cut-off at midnight dispatches every order the
// next day, whatever the time the test runs: the capitals (0 days from
// dispatch) get it tomorrow, other emirates in 2–3 days.
func (f *fixture) setDelivery() {
	f.t.Helper()
	_, err := f.delivery.Put(context.Background(), delivery.Settings{Market: souq.AE, Fee: 1500, FreeOver: 20000, CODFee: 1000,
		Cutoff: "00:00", Estimate: delivery.Days{MinDays: 1, MaxDays: 2},
		Cities: map[string]delivery.Days{"Abu Dhabi": {}, "Dubai": {}}})
	if err != nil {
		f.t.Fatal(err)
	}
}

func wantIn(t *testing.T, what, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Errorf("%s: no %q in the page:\n%s", what, p, clip(body))
		}
	}
}

func TestDeliveryShown(t *testing.T) {
	f := newFixture(t)
	f.setDelivery()
	c := f.newClient()

	_, body, _ := f.get(c, "/en/p/glow-serum")
	wantIn(t, "product page", body, "Arrives tomorrow in Abu Dhabi", "Delivery: <bdi>AED 15.00</bdi>", "Free delivery over AED 200.00")
	_, body, _ = f.get(c, "/ar/p/glow-serum")
	wantIn(t, "Arabic product page", body, "يصل غداً إلى", "توصيل مجاني للطلبات فوق")

	f.addToCart(c, "en", "glow-serum", "1") // AED 89.00
	_, body, _ = f.get(c, "/en/cart")
	wantIn(t, "cart", body, `<dd id="delivery-fee"><bdi>AED 15.00</bdi></dd>`, "<bdi>AED 104.00</bdi>", "Cash on delivery adds AED 10.00.")

	_, body, _ = f.get(c, "/en/checkout")
	wantIn(t, "checkout", body, `<dd id="delivery-fee"><bdi>AED 15.00</bdi></dd>`, `<dd id="cod-fee"><bdi>AED 10.00</bdi>`,
		`To pay: <bdi>AED 114.00</bdi>`, "Arrives tomorrow in Abu Dhabi")

	// Shown again with an error, the form gives the chosen emirate's estimate.
	form := checkoutValues(f.csrf(body))
	form.Set("city", "Fujairah")
	form.Set("phone", "12")
	status, body, _ := f.post(c, "/en/checkout", form)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("bad phone: got %d, want 422", status)
	}
	wantIn(t, "checkout shown again", body, "Arrives in 2–3 days in Fujairah")

	form = checkoutValues(f.csrf(body))
	status, _, resp := f.post(c, "/en/checkout", form)
	if status != http.StatusSeeOther {
		t.Fatalf("place: got %d, want 303", status)
	}
	_, body, _ = f.get(c, resp.Header.Get("Location"))
	wantIn(t, "order page", body, "<dt>Delivery</dt><dd><bdi>AED 15.00</bdi></dd>", "<dt>Cash on delivery fee</dt><dd><bdi>AED 10.00</bdi></dd>", "<bdi>AED 114.00</bdi>")
}

func TestDeliveryFreeOverThreshold(t *testing.T) {
	f := newFixture(t)
	f.setDelivery()
	c := f.newClient()
	f.addToCart(c, "en", "glow-serum", "3") // AED 267.00
	_, body, _ := f.get(c, "/en/cart")
	wantIn(t, "cart", body, `<dd id="delivery-fee">Free</dd>`, "<bdi>AED 267.00</bdi>")
	if strings.Contains(body, "Free delivery over") {
		t.Errorf("cart over the threshold: got the threshold note, want none")
	}
}

func TestDeliveryCODLimit(t *testing.T) {
	f := newFixture(t)
	_, err := f.delivery.Put(context.Background(), delivery.Settings{Market: souq.AE, Fee: 1500, CODFee: 1000, CODLimit: 10000,
		Cutoff: "14:00", Estimate: delivery.Days{MinDays: 1, MaxDays: 2}})
	if err != nil {
		t.Fatal(err)
	}
	c := f.newClient()
	form := f.checkoutForm(c) // AED 89.00 + 15.00 + 10.00, over the AED 100.00 limit
	status, body, _ := f.post(c, "/en/checkout", form)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("cash on delivery over the limit: got %d, want 422", status)
	}
	wantIn(t, "checkout shown again", body, `<p class="field-error" id="payment-error">Cash on delivery is available for orders up to AED 100.00`)
	if n := f.orderCount(); n != 0 {
		t.Errorf("orders: got %d, want 0", n)
	}
}

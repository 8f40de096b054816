package storefront

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// TestQueueCheckout: during a protected sale a browser reaches checkout
// only through the queue page, in its turn, for one order; the page works
// without JavaScript (meta refresh), in Arabic and English, under 20 KB,
// and says "sold out" when the stock is gone.
func TestQueueCheckout(t *testing.T) {
	f := newFixture(t, fixtureOptions{room: true, noCards: true})
	ctx := t.Context()
	now := f.catalog.Now()
	_, err := f.catalog.ScheduleSale(ctx, catalog.SaleInput{Name: souq.Localized{EN: "White Friday", AR: "الجمعة البيضاء"},
		StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour), Protected: true,
		Items: []catalog.SaleItem{{ProductID: f.ids["glow-serum"], DiscountPercent: 30}}})
	if err != nil {
		t.Fatal(err)
	}
	tick := func() {
		t.Helper()
		if _, err := f.room.Tick(ctx, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	tick()
	amal, badr := f.client, f.newClient()
	f.addToCart(amal, "en", "glow-serum", "1")
	f.addToCart(badr, "ar", "glow-serum", "1")

	status, _, resp := f.get(amal, "/en/checkout")
	if status != http.StatusSeeOther || resp.Header.Get("Location") != "/en/queue" {
		t.Fatalf("checkout without admission: %d to %q, want 303 to /en/queue", status, resp.Header.Get("Location"))
	}
	status, body, _ := f.get(amal, "/en/queue")
	if status != 200 {
		t.Fatalf("queue page: %d", status)
	}
	mustContain(t, "English queue page", body, "Your place in the queue: 1", `http-equiv="refresh" content="1; url=/en/queue?wait=1"`, `role="status"`)
	t.Logf("queue page: %d bytes", len(body))
	if len(body) > 20<<10 {
		t.Errorf("queue page is %d bytes, want under 20 KB", len(body))
	}
	_, body, _ = f.get(badr, "/ar/queue")
	mustContain(t, "Arabic queue page", body, `dir="rtl"`, "ترتيبك في قائمة الانتظار: ٢")

	// No way around the queue: a posted checkout without admission
	// orders nothing.
	_, page, _ := f.get(amal, "/en/cart")
	status, _, resp = f.post(amal, "/en/checkout", checkoutValues(f.csrf(page)))
	if status != http.StatusSeeOther || resp.Header.Get("Location") != "/en/queue" || f.orderCount() != 0 {
		t.Fatalf("checkout posted without admission: %d to %q, %d orders; want 303 to the queue and none", status, resp.Header.Get("Location"), f.orderCount())
	}

	tick() // admits one: amal
	status, _, resp = f.get(amal, "/en/queue?wait=1")
	if status != http.StatusSeeOther || resp.Header.Get("Location") != "/en/checkout" {
		t.Fatalf("admitted: %d to %q, want 303 to /en/checkout", status, resp.Header.Get("Location"))
	}
	status, page, _ = f.get(amal, "/en/checkout")
	if status != 200 {
		t.Fatalf("checkout after admission: %d", status)
	}
	status, _, resp = f.post(amal, "/en/checkout", checkoutValues(f.csrf(page)))
	if status != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/en/orders/") || f.orderCount() != 1 {
		t.Fatalf("admitted checkout: %d to %q, %d orders; want the order placed", status, resp.Header.Get("Location"), f.orderCount())
	}
	// One admission, one order: a second checkout goes back to the
	// queue, at its end.
	f.addToCart(amal, "en", "glow-serum", "1")
	status, _, resp = f.post(amal, "/en/checkout", checkoutValues(f.csrf(page)))
	if status != http.StatusSeeOther || resp.Header.Get("Location") != "/en/queue" || f.orderCount() != 1 {
		t.Fatalf("second checkout with one admission: %d to %q, %d orders", status, resp.Header.Get("Location"), f.orderCount())
	}
	_, body, _ = f.get(amal, "/en/queue")
	mustContain(t, "queue page after a used admission", body, "Your place in the queue: 3")

	// Sold out: every queued browser is told, and the page stops
	// refreshing.
	if _, err := f.catalog.SetStock(ctx, f.ids["glow-serum"], 0); err != nil {
		t.Fatal(err)
	}
	tick()
	_, body, _ = f.get(badr, "/ar/queue?wait=1")
	mustContain(t, "sold-out page", body, "نفدت الكمية")
	if strings.Contains(body, `http-equiv="refresh"`) {
		t.Error("the sold-out page still refreshes")
	}
}

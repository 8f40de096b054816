package stripepay

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"

	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/sqlite"
)

// TestStripeCheckout runs checkout with this provider against stripe-mock:
// an order placed for Stripe's hosted page waits, its stock held, until a
// correctly signed payment_intent.succeeded arrives (once, however often
// it is delivered); forged and stale deliveries are refused; cancelling
// the paid order gives the stock back and asks Stripe to give the money
// back.
func TestStripeCheckout(t *testing.T) {
	p, tr := mockProvider(t)
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "souq.db"), sqlite.Options{Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat := catalog.New(db, time.Now, log)
	carts := cart.New(db, cat, time.Now, log)
	svc := checkout.New(db, cat, carts, checkout.Payments{Provider: p,
		ReturnURL: func(id souq.ID, lang string) string {
			return "https://shop.example/" + lang + "/orders/" + string(id) + "/return"
		}},
		time.Now, log)
	stock := 3
	prod, err := cat.Create(ctx, catalog.ProductInput{SKU: "OUD-0001", Slug: "oud-oil", Brand: "Ajmal", Category: "fragrance",
		Name:   souq.Localized{EN: "Oud Oil", AR: "دهن العود"},
		Prices: map[souq.MarketCode]int64{souq.AE: 25000, souq.SA: 25000, souq.QA: 25000, souq.KW: 25000, souq.BH: 25000, souq.OM: 25000},
		Stock:  &stock})
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.PlaceOrder(ctx, checkout.OrderRequest{Market: "AE",
		Items:           []checkout.ItemRequest{{ProductID: prod.ID, Quantity: 2}},
		Customer:        souq.Customer{Name: "Hessa Al Falasi", Email: "hessa@example.ae", Phone: "+971502223344"},
		ShippingAddress: souq.Address{Line1: "Villa 8, Street 2", Area: "Mirdif", City: "Dubai", Country: souq.AE},
		Payment:         checkout.PaymentRequest{Method: souq.PayCard, Language: "ar"},
	}, nil)
	if err != nil {
		t.Fatalf("PlaceOrder: %v", err)
	}
	o := res.Placed.Order
	if o.Status != souq.StatusPendingPayment || !strings.HasPrefix(o.Payment.Reference, "cs_") {
		t.Fatalf("placed: %s with reference %q; want pending_payment on a Checkout Session", o.Status, o.Payment.Reference)
	}
	if reqs := tr.requests(); !slices.Contains(reqs, "POST /v1/checkout/sessions souq-checkout-"+string(o.ID)) {
		t.Errorf("requests: %q; want the Checkout Session created with the order's idempotency key", reqs)
	}
	wantOrder := func(status souq.OrderStatus, stockLeft int, events map[string]int) {
		t.Helper()
		got, err := db.Order(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != status {
			t.Errorf("order: got %s (payment %s), want %s", got.Status, got.Payment.Status, status)
		}
		if pr, _ := db.Product(ctx, prod.ID); pr.Stock != stockLeft {
			t.Errorf("stock: got %d, want %d", pr.Stock, stockLeft)
		}
		evs, err := db.PendingOutbox(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		for _, ev := range evs {
			n[ev.Name]++
		}
		if fmt.Sprint(n) != fmt.Sprint(events) {
			t.Errorf("outbox: got %v, want %v", n, events)
		}
	}
	wantOrder(souq.StatusPendingPayment, 1, map[string]int{})

	paid := eventBody(t, "evt_paid", stripe.EventTypePaymentIntentSucceeded, intent(map[string]any{
		"id": "pi_paid", "amount": o.Total, "amount_received": o.Total, "metadata": map[string]string{"order_id": string(o.ID)}}))
	for _, c := range []struct {
		name   string
		secret string
		at     time.Time
	}{
		{"signed with another secret", "whsec_other", time.Now()},
		{"signed 10 minutes ago (a replay)", testSecret, time.Now().Add(-10 * time.Minute)},
	} {
		if err := svc.PaymentWebhook(ctx, signed(paid, c.secret, c.at), paid); !errors.Is(err, souq.ErrUnauthorized) {
			t.Errorf("webhook %s: got %v, want ErrUnauthorized", c.name, err)
		}
	}
	wantOrder(souq.StatusPendingPayment, 1, map[string]int{})
	for range 3 {
		if err := svc.PaymentWebhook(ctx, signed(paid, testSecret, time.Now()), paid); err != nil {
			t.Fatalf("webhook: %v", err)
		}
	}
	wantOrder(souq.StatusPaid, 1, map[string]int{souq.EventOrderCompleted: 1})
	if got, _ := db.Order(ctx, o.ID); got.Payment.Reference != "pi_paid" || got.Payment.Status != souq.PaymentCaptured {
		t.Errorf("paid order's payment: %+v; want captured on pi_paid", got.Payment)
	}

	if _, err := svc.AdminCancel(ctx, o.ID); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	wantOrder(souq.StatusCancelled, 3, map[string]int{souq.EventOrderCompleted: 1, souq.EventOrderCancelled: 1})
	// stripe-mock keeps no state: what the payment is after giving it
	// back is its fixture's. That Stripe was asked is what shows here.
	reqs := tr.requests()
	if !slices.Contains(reqs, "GET /v1/payment_intents/pi_paid ") {
		t.Errorf("requests: %q; want the payment read back before it is given back", reqs)
	}
}

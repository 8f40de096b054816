package stripepay

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

func TestStartHosted(t *testing.T) {
	tests := []struct {
		name   string
		change func(*checkout.Charge)
		want   map[string]string // fields that differ from the base request
		drop   []string          // fields not sent
	}{
		{name: "Arabic (which Checkout lacks), automatic capture", change: func(*checkout.Charge) {}},
		{
			name: "English, manual capture, no email, no cancel URL",
			change: func(c *checkout.Charge) {
				c.Language, c.Capture, c.Email, c.CancelURL = "en", checkout.CaptureManual, "", ""
			},
			want: map[string]string{
				"locale":                              "en",
				"payment_intent_data[capture_method]": "manual",
				"cancel_url":                          "https://shop.example/orders/ord_1/paid",
			},
			drop: []string{"customer_email"},
		},
		{
			name:   "another language, a long stock hold",
			change: func(c *checkout.Charge) { c.Language, c.ExpiresAt = "fr", testNow.Add(2*time.Hour) },
			want:   map[string]string{"locale": "auto", "expires_at": unix(testNow.Add(2 * time.Hour))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, f := newFake(t, routes{"POST /v1/checkout/sessions": ok(session(nil))})
			c := tokenCharge()
			c.Token = ""
			tt.change(&c)
			got, err := p.Start(t.Context(), c)
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			want := checkout.PaymentState{
				Reference: "cs_test_1", Order: "ord_1", Status: souq.PaymentPending, Amount: souq.M(8900, souq.AED),
				RedirectURL: "https://checkout.stripe.com/c/pay/cs_test_1",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Start: state (-want +got):\n%s", diff)
			}
			req := f.only()
			if req.idempotencyKey != "souq-checkout-ord_1" {
				t.Errorf("Idempotency-Key: got %q, want souq-checkout-ord_1", req.idempotencyKey)
			}
			form := map[string]string{
				"mode":                                          "payment",
				"line_items[0][quantity]":                       "1",
				"line_items[0][price_data][currency]":           "aed",
				"line_items[0][price_data][unit_amount]":        "8900",
				"line_items[0][price_data][product_data][name]": "Souq order ord_1",
				"client_reference_id":                           "ord_1",
				"metadata[order_id]":                            "ord_1",
				"payment_intent_data[metadata][order_id]":       "ord_1",
				"payment_intent_data[capture_method]":           "automatic",
				"payment_intent_data[description]":              "Souq order ord_1",
				"success_url":                                   "https://shop.example/orders/ord_1/paid",
				"cancel_url":                                    "https://shop.example/orders/ord_1",
				"locale":                                        "auto",
				"customer_email":                                "shopper@example.com",
				"expires_at":                                    unix(testNow.Add(45 * time.Minute)), // the 15-minute hold, moved by a half-hour step
			}
			for k, v := range tt.want {
				form[k] = v
			}
			for _, k := range tt.drop {
				delete(form, k)
			}
			checkForm(t, req, form)
		})
	}
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func TestSessionExpiry(t *testing.T) {
	now := time.Date(2025, 3, 1, 10, 7, 30, 0, time.UTC)
	tests := []struct {
		name      string
		want, now time.Time
		expect    time.Time
	}{
		{"within Stripe's window", now.Add(3 * time.Hour), now, now.Add(3 * time.Hour)},
		{"at the earliest", now.Add(31 * time.Minute), now, now.Add(31 * time.Minute)},
		{"too soon: moved by half-hours", now.Add(10 * time.Minute), now, now.Add(40 * time.Minute)},
		{"too soon, a minute later: the same", now.Add(10 * time.Minute), now.Add(time.Minute), now.Add(40 * time.Minute)},
		{"passed already", now.Add(-50 * time.Minute), now, now.Add(40 * time.Minute)},
		{"no hold: a half-hour of the clock", time.Time{}, now, time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC)},
		{"no hold, a minute later: the same", time.Time{}, now.Add(time.Minute), time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC)},
		{"long ago", time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), now, time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC)},
		{"beyond 24 hours", now.Add(72 * time.Hour), now, time.Date(2025, 3, 2, 10, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := time.Unix(sessionExpiry(tt.want, tt.now), 0).UTC()
			if !got.Equal(tt.expect) {
				t.Errorf("sessionExpiry(%s, now %s): got %s, want %s", tt.want, tt.now, got, tt.expect)
			}
			if life := got.Sub(tt.now); life < 30*time.Minute || life > 24*time.Hour {
				t.Errorf("sessionExpiry: %s from now, outside Stripe's 30 minutes to 24 hours", life)
			}
		})
	}
}

func TestLookupSession(t *testing.T) {
	tests := []struct {
		name    string
		changes map[string]any
		want    checkout.PaymentState
	}{
		{"open", nil, checkout.PaymentState{Reference: "cs_test_1", Order: "ord_1", Status: souq.PaymentPending, Amount: souq.M(8900, souq.AED),
			RedirectURL: "https://checkout.stripe.com/c/pay/cs_test_1"}},
		{"expired", map[string]any{"status": "expired"},
			checkout.PaymentState{Reference: "cs_test_1", Order: "ord_1", Status: souq.PaymentCanceled, Amount: souq.M(8900, souq.AED)}},
		{"complete, captured", map[string]any{"status": "complete", "payment_status": "paid", "payment_intent": intent(nil)},
			checkout.PaymentState{Reference: "pi_1", Order: "ord_1", Status: souq.PaymentCaptured, Amount: souq.M(8900, souq.AED)}},
		{"complete, authorised", map[string]any{"status": "complete", "payment_intent": intent(map[string]any{"status": "requires_capture", "amount_received": 0})},
			checkout.PaymentState{Reference: "pi_1", Order: "ord_1", Status: souq.PaymentAuthorized, Amount: souq.M(8900, souq.AED)}},
		{"complete, no order on the payment intent", map[string]any{"status": "complete", "payment_status": "paid", "payment_intent": intent(map[string]any{"metadata": nil})},
			checkout.PaymentState{Reference: "pi_1", Order: "ord_1", Status: souq.PaymentCaptured, Amount: souq.M(8900, souq.AED)}},
		{"order in the metadata only", map[string]any{"client_reference_id": nil},
			checkout.PaymentState{Reference: "cs_test_1", Order: "ord_1", Status: souq.PaymentPending, Amount: souq.M(8900, souq.AED),
				RedirectURL: "https://checkout.stripe.com/c/pay/cs_test_1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, f := newFake(t, routes{"GET /v1/checkout/sessions/cs_test_1": ok(session(tt.changes))})
			got, err := p.Lookup(t.Context(), "cs_test_1")
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Lookup: state (-want +got):\n%s", diff)
			}
			checkForm(t, f.only(), map[string]string{"expand[0]": "payment_intent.latest_charge"})
		})
	}
}

func TestCancelSession(t *testing.T) {
	notOpen := fail(400, `{"error":{"type":"invalid_request_error","message":"Only Checkout Sessions with a status in [\"open\"] can be expired."}}`)
	tests := []struct {
		name     string
		r        routes
		want     checkout.PaymentState
		wantKind error
	}{
		{"open: expired", routes{"POST /v1/checkout/sessions/cs_test_1/expire": ok(session(map[string]any{"status": "expired"}))},
			checkout.PaymentState{Reference: "cs_test_1", Order: "ord_1", Status: souq.PaymentCanceled, Amount: souq.M(8900, souq.AED)}, nil},
		{"paid meanwhile", routes{
			"POST /v1/checkout/sessions/cs_test_1/expire": notOpen,
			"GET /v1/checkout/sessions/cs_test_1":         ok(session(map[string]any{"status": "complete", "payment_status": "paid", "payment_intent": intent(nil)})),
		}, checkout.PaymentState{Reference: "pi_1", Order: "ord_1", Status: souq.PaymentCaptured, Amount: souq.M(8900, souq.AED)}, nil},
		{"expired already", routes{
			"POST /v1/checkout/sessions/cs_test_1/expire": notOpen,
			"GET /v1/checkout/sessions/cs_test_1":         ok(session(map[string]any{"status": "expired"})),
		}, checkout.PaymentState{Reference: "cs_test_1", Order: "ord_1", Status: souq.PaymentCanceled, Amount: souq.M(8900, souq.AED)}, nil},
		{"refused, yet open", routes{
			"POST /v1/checkout/sessions/cs_test_1/expire": notOpen,
			"GET /v1/checkout/sessions/cs_test_1":         ok(session(nil)),
		}, checkout.PaymentState{}, souq.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, f := newFake(t, tt.r)
			got, err := p.Cancel(t.Context(), "cs_test_1")
			if !errors.Is(err, tt.wantKind) || (tt.wantKind == nil && err != nil) {
				t.Fatalf("Cancel: got %v, want %v", err, tt.wantKind)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Cancel: state (-want +got):\n%s", diff)
			}
			req := f.requests()[0]
			if req.path != "/v1/checkout/sessions/cs_test_1/expire" || req.idempotencyKey != "souq-expire-cs_test_1" {
				t.Errorf("first request: got %s %s key %q, want the expiry with key souq-expire-cs_test_1", req.method, req.path, req.idempotencyKey)
			}
		})
	}
}

// TestCaptureSession: a hosted payment's Capture captures its PaymentIntent.
func TestCaptureSession(t *testing.T) {
	p, f := newFake(t, routes{
		"GET /v1/checkout/sessions/cs_test_1":   ok(session(map[string]any{"status": "complete", "payment_intent": intent(map[string]any{"status": "requires_capture"})})),
		"POST /v1/payment_intents/pi_1/capture": ok(intent(nil)),
	})
	got, err := p.Capture(t.Context(), "cs_test_1")
	if err != nil || got.Reference != "pi_1" || got.Status != souq.PaymentCaptured {
		t.Fatalf("Capture: got %+v, %v; want pi_1 captured", got, err)
	}
	if reqs := f.requests(); len(reqs) != 2 || reqs[1].idempotencyKey != "souq-capture-pi_1" {
		t.Errorf("requests: got %v, want a lookup, then the capture with key souq-capture-pi_1", reqs)
	}
}

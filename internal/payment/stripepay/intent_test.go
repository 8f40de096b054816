package stripepay

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stripe/stripe-go/v82"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// tokenCharge is a charge with a token: AED 89.00 for order ord_1.
func tokenCharge() checkout.Charge {
	return checkout.Charge{
		Order:     "ord_1",
		Amount:    souq.M(8900, souq.AED),
		Capture:   checkout.CaptureAutomatic,
		Email:     "shopper@example.com",
		Language:  "ar",
		Token:     "pm_card_visa",
		ReturnURL: "https://shop.example/orders/ord_1/paid",
		CancelURL: "https://shop.example/orders/ord_1",
		ExpiresAt: testNow.Add(15 * time.Minute),
	}
}

func TestStartToken(t *testing.T) {
	tests := []struct {
		name    string
		capture checkout.CaptureMode
		email   string
		reply   reply
		want    checkout.PaymentState
	}{
		{
			name: "captured", capture: checkout.CaptureAutomatic, email: "shopper@example.com",
			reply: ok(intent(nil)),
			want:  checkout.PaymentState{Reference: "pi_1", Order: "ord_1", Status: souq.PaymentCaptured, Amount: souq.M(8900, souq.AED)},
		},
		{
			name: "authorised", capture: checkout.CaptureManual,
			reply: ok(intent(map[string]any{"status": "requires_capture", "amount_received": 0, "capture_method": "manual"})),
			want:  checkout.PaymentState{Reference: "pi_1", Order: "ord_1", Status: souq.PaymentAuthorized, Amount: souq.M(8900, souq.AED)},
		},
		{
			name: "3-D Secure", capture: checkout.CaptureAutomatic,
			reply: ok(intent(map[string]any{"status": "requires_action", "amount_received": 0, "next_action": map[string]any{
				"type":            "redirect_to_url",
				"redirect_to_url": map[string]any{"url": "https://hooks.stripe.com/3d_secure_2/hosted?x=1", "return_url": "https://shop.example/orders/ord_1/paid"},
			}})),
			want: checkout.PaymentState{
				Reference: "pi_1", Order: "ord_1", Status: souq.PaymentPending, Amount: souq.M(8900, souq.AED),
				RedirectURL: "https://hooks.stripe.com/3d_secure_2/hosted?x=1", ClientSecret: "pi_1_secret_xyz",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, f := newFake(t, routes{"POST /v1/payment_intents": tt.reply})
			c := tokenCharge()
			c.Capture, c.Email = tt.capture, tt.email
			got, err := p.Start(t.Context(), c)
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Start: state (-want +got):\n%s", diff)
			}
			req := f.only()
			if req.idempotencyKey != "souq-order-ord_1" {
				t.Errorf("Idempotency-Key: got %q, want souq-order-ord_1", req.idempotencyKey)
			}
			want := map[string]string{
				"amount":             "8900",
				"currency":           "aed",
				"payment_method":     "pm_card_visa",
				"confirm":            "true",
				"return_url":         "https://shop.example/orders/ord_1/paid",
				"capture_method":     string(tt.capture),
				"description":        "Souq order ord_1",
				"metadata[order_id]": "ord_1",
			}
			if tt.email != "" {
				want["receipt_email"] = tt.email
			}
			checkForm(t, req, want)
		})
	}
}

func TestStartDeclined(t *testing.T) {
	p, _ := newFake(t, routes{"POST /v1/payment_intents": fail(402, `{"error":{
		"type":"card_error","code":"card_declined","decline_code":"insufficient_funds",
		"message":"Your card has insufficient funds.",
		"payment_intent":{"id":"pi_1","status":"requires_payment_method","client_secret":"pi_1_secret_xyz"}}}`)})
	_, err := p.Start(t.Context(), tokenCharge())
	var se *souq.Error
	if !errors.As(err, &se) || se.Kind != souq.ErrPayment {
		t.Fatalf("Start: got %v, want a *souq.Error of kind ErrPayment", err)
	}
	if se.Detail != "Your card has insufficient funds." {
		t.Errorf("Detail: got %q, want Stripe's message for the shopper", se.Detail)
	}
}

// TestStartRefuses: charges Stripe would refuse, or Souq must never send,
// are refused before any request.
func TestStartRefuses(t *testing.T) {
	tests := []struct {
		name     string
		change   func(*checkout.Charge)
		wantKind error // nil: a plain error (a bug in the caller)
		wantMsg  string
	}{
		{"KWD in thousandths", func(c *checkout.Charge) { c.Amount = souq.M(12345, souq.KWD) }, souq.ErrInvalid, "KWD 12.345 cannot be charged"},
		{"BHD in thousandths", func(c *checkout.Charge) { c.Amount = souq.M(1001, souq.BHD) }, souq.ErrInvalid, "multiples of 10"},
		{"OMR in thousandths, hosted", func(c *checkout.Charge) { c.Amount, c.Token = souq.M(5, souq.OMR), "" }, souq.ErrInvalid, "OMR 0.005"},
		{"zero", func(c *checkout.Charge) { c.Amount = souq.M(0, souq.AED) }, souq.ErrInvalid, "out of range"},
		{"not a PaymentMethod", func(c *checkout.Charge) { c.Token = "tok_visa" }, souq.ErrInvalid, "PaymentMethod"},
		{"no order", func(c *checkout.Charge) { c.Order = "" }, nil, "no order id"},
		{"unknown currency", func(c *checkout.Charge) { c.Amount = souq.M(100, "USD") }, nil, "unknown currency"},
		{"no capture mode", func(c *checkout.Charge) { c.Capture = "" }, nil, "unknown capture mode"},
		{"no return URL", func(c *checkout.Charge) { c.ReturnURL = "" }, nil, "no return URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, f := newFake(t, routes{})
			c := tokenCharge()
			tt.change(&c)
			_, err := p.Start(t.Context(), c)
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Start: got %v, want an error saying %q", err, tt.wantMsg)
			}
			var se *souq.Error
			if isSouq := errors.As(err, &se); isSouq != (tt.wantKind != nil) || (isSouq && se.Kind != tt.wantKind) {
				t.Errorf("Start: got %T %v, want kind %v", err, err, tt.wantKind)
			}
			if n := len(f.requests()); n != 0 {
				t.Errorf("got %d requests to Stripe, want none", n)
			}
		})
	}
	// Whole hundredths of a dinar are fine.
	p, _ := newFake(t, routes{"POST /v1/payment_intents": ok(intent(map[string]any{"amount": 12340, "amount_received": 12340, "currency": "kwd"}))})
	c := tokenCharge()
	c.Amount = souq.M(12340, souq.KWD)
	if st, err := p.Start(t.Context(), c); err != nil || st.Amount != souq.M(12340, souq.KWD) {
		t.Errorf("Start(KWD 12.340): got %+v, %v; want captured KWD 12.340", st, err)
	}
}

func TestIntentState(t *testing.T) {
	tests := []struct {
		name    string
		changes map[string]any
		want    checkout.PaymentState
	}{
		{"requires_payment_method after a decline", map[string]any{"status": "requires_payment_method", "amount_received": 0,
			"last_payment_error": map[string]any{"type": "card_error", "message": "Your card was declined."}},
			checkout.PaymentState{Status: souq.PaymentPending, ClientSecret: "pi_1_secret_xyz", Failure: "Your card was declined."}},
		{"requires_confirmation", map[string]any{"status": "requires_confirmation", "amount_received": 0},
			checkout.PaymentState{Status: souq.PaymentPending, ClientSecret: "pi_1_secret_xyz"}},
		{"requires_action without a redirect", map[string]any{"status": "requires_action", "amount_received": 0, "next_action": map[string]any{"type": "use_stripe_sdk"}},
			checkout.PaymentState{Status: souq.PaymentPending, ClientSecret: "pi_1_secret_xyz"}},
		{"processing", map[string]any{"status": "processing", "amount_received": 0},
			checkout.PaymentState{Status: souq.PaymentPending, ClientSecret: "pi_1_secret_xyz"}},
		{"requires_capture", map[string]any{"status": "requires_capture", "amount_received": 0},
			checkout.PaymentState{Status: souq.PaymentAuthorized}},
		{"succeeded, amount received", map[string]any{"amount": 9000, "amount_received": 8900},
			checkout.PaymentState{Status: souq.PaymentCaptured, Amount: souq.M(8900, souq.AED)}},
		{"succeeded and refunded", map[string]any{"latest_charge": map[string]any{"id": "ch_1", "refunded": true}},
			checkout.PaymentState{Status: souq.PaymentRefunded}},
		{"succeeded, charge not expanded", map[string]any{"latest_charge": "ch_1"},
			checkout.PaymentState{Status: souq.PaymentCaptured}},
		{"canceled", map[string]any{"status": "canceled", "amount_received": 0},
			checkout.PaymentState{Status: souq.PaymentCanceled}},
		{"SAR", map[string]any{"currency": "sar", "amount": 50, "amount_received": 50},
			checkout.PaymentState{Status: souq.PaymentCaptured, Amount: souq.M(50, souq.SAR)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, f := newFake(t, routes{"GET /v1/payment_intents/pi_1": ok(intent(tt.changes))})
			got, err := p.Lookup(t.Context(), "pi_1")
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			want := tt.want
			want.Reference, want.Order = "pi_1", "ord_1"
			if want.Amount == (souq.Money{}) {
				want.Amount = souq.M(8900, souq.AED)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Lookup: state (-want +got):\n%s", diff)
			}
			checkForm(t, f.only(), map[string]string{"expand[0]": "latest_charge"})
		})
	}
}

func TestLookupRefuses(t *testing.T) {
	tests := []struct {
		name     string
		ref      string
		reply    reply
		wantKind error // nil: a plain error
	}{
		{"unknown prefix", "ch_1", reply{}, souq.ErrNotFound},
		{"empty", "", reply{}, souq.ErrNotFound},
		{"no such payment", "pi_1", fail(404, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such payment_intent: 'pi_1'"}}`), souq.ErrNotFound},
		{"a currency Souq does not take", "pi_1", ok(intent(map[string]any{"currency": "usd"})), nil},
		{"an unknown status", "pi_1", ok(intent(map[string]any{"status": "requires_magic"})), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := routes{}
			if tt.reply.status != 0 {
				r["GET /v1/payment_intents/pi_1"] = tt.reply
			}
			p, _ := newFake(t, r)
			_, err := p.Lookup(t.Context(), tt.ref)
			if err == nil {
				t.Fatal("Lookup: got no error")
			}
			var se *souq.Error
			if isSouq := errors.As(err, &se); isSouq != (tt.wantKind != nil) || (isSouq && se.Kind != tt.wantKind) {
				t.Errorf("Lookup: got %T %v, want kind %v", err, err, tt.wantKind)
			}
		})
	}
}

const unexpectedState = `{"error":{"type":"invalid_request_error","code":"payment_intent_unexpected_state",
	"message":"This PaymentIntent could not be captured because it has a status of succeeded."}}`

func TestCapture(t *testing.T) {
	tests := []struct {
		name       string
		r          routes
		want       souq.PaymentStatus // "" for an error
		wantKind   error
		wantLookup bool
	}{
		{name: "authorised", r: routes{"POST /v1/payment_intents/pi_1/capture": ok(intent(nil))}, want: souq.PaymentCaptured},
		{name: "captured already", r: routes{
			"POST /v1/payment_intents/pi_1/capture": fail(400, unexpectedState),
			"GET /v1/payment_intents/pi_1":          ok(intent(nil)),
		}, want: souq.PaymentCaptured, wantLookup: true},
		{name: "cancelled", r: routes{
			"POST /v1/payment_intents/pi_1/capture": fail(400, unexpectedState),
			"GET /v1/payment_intents/pi_1":          ok(intent(map[string]any{"status": "canceled"})),
		}, wantKind: souq.ErrConflict, wantLookup: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, f := newFake(t, tt.r)
			got, err := p.Capture(t.Context(), "pi_1")
			if tt.want != "" && (err != nil || got.Status != tt.want || got.Reference != "pi_1") {
				t.Errorf("Capture: got %+v, %v; want pi_1 %s", got, err, tt.want)
			}
			if tt.wantKind != nil && !errors.Is(err, tt.wantKind) {
				t.Errorf("Capture: got %v, want %v", err, tt.wantKind)
			}
			reqs := f.requests()
			if reqs[0].idempotencyKey != "souq-capture-pi_1" {
				t.Errorf("Idempotency-Key: got %q, want souq-capture-pi_1", reqs[0].idempotencyKey)
			}
			checkForm(t, reqs[0], map[string]string{})
			if looked := len(reqs) == 2 && reqs[1].method == "GET"; looked != tt.wantLookup {
				t.Errorf("requests %v: looked the payment up %v, want %v", reqs, looked, tt.wantLookup)
			}
		})
	}
}

func TestCancelIntent(t *testing.T) {
	tests := []struct {
		name     string
		r        routes
		want     souq.PaymentStatus // "" for an error
		wantKind error
	}{
		{"authorisation voided", routes{"POST /v1/payment_intents/pi_1/cancel": ok(intent(map[string]any{"status": "canceled"}))}, souq.PaymentCanceled, nil},
		{"taken meanwhile", routes{
			"POST /v1/payment_intents/pi_1/cancel": fail(400, unexpectedState),
			"GET /v1/payment_intents/pi_1":         ok(intent(nil)),
		}, souq.PaymentCaptured, nil},
		{"cancelled already", routes{
			"POST /v1/payment_intents/pi_1/cancel": fail(400, unexpectedState),
			"GET /v1/payment_intents/pi_1":         ok(intent(map[string]any{"status": "canceled"})),
		}, souq.PaymentCanceled, nil},
		{"processing", routes{
			"POST /v1/payment_intents/pi_1/cancel": fail(400, unexpectedState),
			"GET /v1/payment_intents/pi_1":         ok(intent(map[string]any{"status": "processing"})),
		}, "", souq.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, f := newFake(t, tt.r)
			got, err := p.Cancel(t.Context(), "pi_1")
			if tt.want != "" && (err != nil || got.Status != tt.want || got.Reference != "pi_1") {
				t.Errorf("Cancel: got %+v, %v; want pi_1 %s", got, err, tt.want)
			}
			if tt.wantKind != nil && !errors.Is(err, tt.wantKind) {
				t.Errorf("Cancel: got %v, want %v", err, tt.wantKind)
			}
			if req := f.requests()[0]; req.path != "/v1/payment_intents/pi_1/cancel" || req.idempotencyKey != "souq-cancel-pi_1" {
				t.Errorf("first request: got %s %s key %q, want the cancel with key souq-cancel-pi_1", req.method, req.path, req.idempotencyKey)
			}
		})
	}
}

func TestRefund(t *testing.T) {
	refund := ok(map[string]any{"id": "re_1", "object": "refund", "status": "succeeded", "payment_intent": "pi_1"})
	alreadyRefunded := fail(400, `{"error":{"type":"invalid_request_error","code":"charge_already_refunded","message":"Charge ch_1 has already been refunded."}}`)
	tests := []struct {
		name     string
		ref      string
		r        routes
		want     string
		wantKind error
	}{
		{"payment intent", "pi_1", routes{"POST /v1/refunds": refund}, "re_1", nil},
		{"paid checkout session", "cs_test_1", routes{
			"GET /v1/checkout/sessions/cs_test_1": ok(session(map[string]any{"status": "complete", "payment_status": "paid", "payment_intent": intent(nil)})),
			"POST /v1/refunds":                    refund,
		}, "re_1", nil},
		{"unpaid checkout session", "cs_test_1", routes{
			"GET /v1/checkout/sessions/cs_test_1": ok(session(map[string]any{"status": "expired"})),
		}, "", souq.ErrConflict},
		{"refunded after the key expired", "pi_1", routes{
			"POST /v1/refunds": alreadyRefunded,
			"GET /v1/refunds": ok(map[string]any{"object": "list", "has_more": false, "url": "/v1/refunds", "data": []any{
				map[string]any{"id": "re_failed", "object": "refund", "status": "failed"},
				map[string]any{"id": "re_0", "object": "refund", "status": "succeeded"},
			}}),
		}, "re_0", nil},
		{"not captured", "pi_1", routes{"POST /v1/refunds": fail(400, `{"error":{"type":"invalid_request_error","message":"This PaymentIntent does not have a successful charge to refund."}}`)}, "", souq.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, f := newFake(t, tt.r)
			got, err := p.Refund(t.Context(), tt.ref, "ord_1")
			if tt.wantKind != nil {
				if !errors.Is(err, tt.wantKind) {
					t.Fatalf("Refund: got %q, %v; want %v", got, err, tt.wantKind)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Refund: got %q, %v; want %s", got, err, tt.want)
			}
			for _, req := range f.requests() {
				switch req.method + " " + req.path {
				case "POST /v1/refunds":
					if req.idempotencyKey != "souq-refund-ord_1" {
						t.Errorf("Idempotency-Key: got %q, want souq-refund-ord_1", req.idempotencyKey)
					}
					checkForm(t, req, map[string]string{"payment_intent": "pi_1", "metadata[order_id]": "ord_1"})
				case "GET /v1/refunds":
					if req.form.Get("payment_intent") != "pi_1" {
						t.Errorf("list refunds: payment_intent = %q, want pi_1", req.form.Get("payment_intent"))
					}
				}
			}
		})
	}
}

func TestMoney(t *testing.T) {
	for _, c := range []souq.Currency{souq.AED, souq.SAR, souq.QAR, souq.KWD, souq.BHD, souq.OMR} {
		got, err := money(1230, stripe.Currency(strings.ToLower(string(c))))
		if err != nil || got != souq.M(1230, c) {
			t.Errorf("money(1230, %s): got %v, %v; want %v", c, got, err, souq.M(1230, c))
		}
	}
	if _, err := money(100, "usd"); err == nil {
		t.Error("money(usd): got no error")
	}
}

// TestStartAgain: Start repeated for an order gets Stripe's first answer
// from its idempotency cache, perhaps out of date, so it reads the payment
// back.
func TestStartAgain(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		r      routes
		want   checkout.PaymentState
		lookup string // the request that reads the payment back
	}{
		{"token: 3-D Secure passed since", "pm_card_visa", routes{
			"POST /v1/payment_intents":     replay(ok(intent(map[string]any{"status": "requires_action", "amount_received": 0}))),
			"GET /v1/payment_intents/pi_1": ok(intent(nil)),
		}, checkout.PaymentState{Reference: "pi_1", Order: "ord_1", Status: souq.PaymentCaptured, Amount: souq.M(8900, souq.AED)},
			"GET /v1/payment_intents/pi_1"},
		{"hosted: paid since", "", routes{
			"POST /v1/checkout/sessions":          replay(ok(session(nil))),
			"GET /v1/checkout/sessions/cs_test_1": ok(session(map[string]any{"status": "complete", "payment_status": "paid", "payment_intent": intent(nil)})),
		}, checkout.PaymentState{Reference: "pi_1", Order: "ord_1", Status: souq.PaymentCaptured, Amount: souq.M(8900, souq.AED)},
			"GET /v1/checkout/sessions/cs_test_1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, f := newFake(t, tt.r)
			c := tokenCharge()
			c.Token = tt.token
			got, err := p.Start(t.Context(), c)
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Start: state (-want +got):\n%s", diff)
			}
			if reqs := f.requests(); len(reqs) != 2 || reqs[1].method+" "+reqs[1].path != tt.lookup {
				t.Errorf("requests: got %v, want the create, then %s", reqs, tt.lookup)
			}
		})
	}
}

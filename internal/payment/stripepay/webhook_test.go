package stripepay

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// eventCreated is when the test events were created.
var eventCreated = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// eventBody is a Stripe event's JSON, of the library's API version.
func eventBody(t testing.TB, id string, typ stripe.EventType, object any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"id":          id,
		"object":      "event",
		"api_version": stripe.APIVersion,
		"created":     eventCreated.Unix(),
		"livemode":    false,
		"type":        typ,
		"data":        map[string]any{"object": object},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signed returns the headers of a delivery of body signed at a time with a
// secret, as Stripe signs it.
func signed(body []byte, secret string, at time.Time) http.Header {
	s := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at})
	h := http.Header{}
	h.Set("Stripe-Signature", s.Header)
	return h
}

func webhookProvider(t testing.TB) *Provider {
	t.Helper()
	p, err := New(Config{SecretKey: testKey, WebhookSecret: testSecret, Tolerance: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWebhookVerification(t *testing.T) {
	p := webhookProvider(t)
	body := eventBody(t, "evt_1", stripe.EventTypePaymentIntentSucceeded, intent(nil))
	now := time.Now()
	tests := []struct {
		name    string
		header  http.Header
		body    []byte
		wantErr string // "" when accepted
	}{
		{"signed", signed(body, testSecret, now), body, ""},
		{"signed a little in the past", signed(body, testSecret, now.Add(-4*time.Minute)), body, ""},
		{"a rolled secret among the signatures", func() http.Header {
			h := signed(body, testSecret, now)
			other := signed(body, "whsec_old", now).Get("Stripe-Signature")
			h.Set("Stripe-Signature", other+","+strings.Split(h.Get("Stripe-Signature"), ",")[1])
			return h
		}(), body, ""},
		{"wrong secret", signed(body, "whsec_another_endpoint", now), body, "no signature"},
		{"tampered body", signed(body, testSecret, now), []byte(strings.Replace(string(body), "8900", "1", 1)), "no signature"},
		{"replayed", signed(body, testSecret, now.Add(-6*time.Minute)), body, "older than 5m0s"},
		{"no header", http.Header{}, body, "no Stripe-Signature header"},
		{"malformed header", http.Header{"Stripe-Signature": {"t=yesterday,v1=abc"}}, body, "malformed"},
		{"no v1 signature", http.Header{"Stripe-Signature": {"t=1,v0=abc"}}, body, "no signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := p.Webhook(tt.header, tt.body)
			if tt.wantErr == "" {
				if err != nil || n.ID != "evt_1" || n.State.Status != souq.PaymentCaptured {
					t.Fatalf("Webhook: got %+v, %v; want evt_1 captured", n, err)
				}
				return
			}
			var se *souq.Error
			if !errors.As(err, &se) || se.Kind != souq.ErrUnauthorized || !strings.Contains(se.Detail, tt.wantErr) {
				t.Errorf("Webhook: got %T %v, want an ErrUnauthorized saying %q", err, err, tt.wantErr)
			}
			if n != (checkout.Notification{}) {
				t.Errorf("Webhook: got %+v with the error, want nothing", n)
			}
		})
	}
}

// TestWebhookAPIVersion: an event of another API version is refused with
// ErrAPIVersion, a server-side error.
func TestWebhookAPIVersion(t *testing.T) {
	p := webhookProvider(t)
	body := []byte(strings.Replace(string(eventBody(t, "evt_1", stripe.EventTypePaymentIntentSucceeded, intent(nil))),
		stripe.APIVersion, "2024-06-20", 1))
	_, err := p.Webhook(signed(body, testSecret, time.Now()), body)
	if !errors.Is(err, ErrAPIVersion) || !strings.Contains(err.Error(), stripe.APIVersion) {
		t.Fatalf("Webhook: got %v, want ErrAPIVersion naming %s", err, stripe.APIVersion)
	}
	var se *souq.Error
	if errors.As(err, &se) {
		t.Errorf("Webhook: got a %v *souq.Error, want a server-side error", se.Kind)
	}
}

func TestWebhookEvents(t *testing.T) {
	p := webhookProvider(t)
	pending := map[string]any{"amount_received": 0}
	with := func(base map[string]any, kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name   string
		typ    stripe.EventType
		object any
		want   checkout.PaymentState
	}{
		{"succeeded", stripe.EventTypePaymentIntentSucceeded, intent(map[string]any{"latest_charge": "ch_1"}),
			checkout.PaymentState{Reference: "pi_1", Order: "ord_1", Status: souq.PaymentCaptured, Amount: souq.M(8900, souq.AED)}},
		{"amount capturable updated", stripe.EventTypePaymentIntentAmountCapturableUpdated,
			intent(with(pending, "status", "requires_capture", "amount_capturable", 8900, "currency", "kwd", "amount", 8900)),
			checkout.PaymentState{Reference: "pi_1", Order: "ord_1", Status: souq.PaymentAuthorized, Amount: souq.M(8900, souq.KWD)}},
		{"payment failed", stripe.EventTypePaymentIntentPaymentFailed,
			intent(with(pending, "status", "requires_payment_method", "last_payment_error", map[string]any{"type": "card_error", "code": "card_declined", "message": "Your card was declined."})),
			checkout.PaymentState{Reference: "pi_1", Order: "ord_1", Status: souq.PaymentPending, Amount: souq.M(8900, souq.AED),
				ClientSecret: "pi_1_secret_xyz", Failure: "Your card was declined."}},
		{"canceled", stripe.EventTypePaymentIntentCanceled, intent(with(pending, "status", "canceled", "cancellation_reason", "abandoned")),
			checkout.PaymentState{Reference: "pi_1", Order: "ord_1", Status: souq.PaymentCanceled, Amount: souq.M(8900, souq.AED)}},
		{"processing", stripe.EventTypePaymentIntentProcessing, intent(with(pending, "status", "processing", "metadata", map[string]string{"order_id": "ord_2"})),
			checkout.PaymentState{Reference: "pi_1", Order: "ord_2", Status: souq.PaymentPending, Amount: souq.M(8900, souq.AED), ClientSecret: "pi_1_secret_xyz"}},
		{"requires action", stripe.EventTypePaymentIntentRequiresAction, intent(with(pending, "status", "requires_action", "next_action", map[string]any{
			"type": "redirect_to_url", "redirect_to_url": map[string]any{"url": "https://hooks.stripe.com/redirect/authenticate/src_1"},
		})), checkout.PaymentState{Reference: "pi_1", Order: "ord_1", Status: souq.PaymentPending, Amount: souq.M(8900, souq.AED),
			ClientSecret: "pi_1_secret_xyz", RedirectURL: "https://hooks.stripe.com/redirect/authenticate/src_1"}},
		{"session completed, paid", stripe.EventTypeCheckoutSessionCompleted,
			session(map[string]any{"status": "complete", "payment_status": "paid", "payment_intent": "pi_1"}),
			checkout.PaymentState{Reference: "pi_1", Order: "ord_1", Status: souq.PaymentCaptured, Amount: souq.M(8900, souq.AED)}},
		{"session completed, authorised", stripe.EventTypeCheckoutSessionCompleted,
			session(map[string]any{"status": "complete", "payment_status": "unpaid", "payment_intent": "pi_1"}),
			checkout.PaymentState{Reference: "pi_1", Order: "ord_1", Status: souq.PaymentPending, Amount: souq.M(8900, souq.AED)}},
		{"session expired", stripe.EventTypeCheckoutSessionExpired,
			session(map[string]any{"status": "expired", "client_reference_id": nil, "metadata": map[string]string{"order_id": "ord_3"}}),
			checkout.PaymentState{Reference: "cs_test_1", Order: "ord_3", Status: souq.PaymentCanceled, Amount: souq.M(8900, souq.AED)}},
		{"charge refunded", stripe.EventTypeChargeRefunded, map[string]any{
			"id": "ch_1", "object": "charge", "amount": 8900, "amount_refunded": 8900, "currency": "aed", "refunded": true,
			"payment_intent": "pi_1", "metadata": map[string]string{"order_id": "ord_1"},
		}, checkout.PaymentState{Reference: "pi_1", Order: "ord_1", Status: souq.PaymentRefunded, Amount: souq.M(8900, souq.AED)}},
		{"charge partly refunded", stripe.EventTypeChargeRefunded, map[string]any{
			"id": "ch_1", "object": "charge", "amount": 8900, "amount_refunded": 100, "currency": "aed", "refunded": false, "payment_intent": "pi_1",
		}, checkout.PaymentState{}},
		{"another integration's payment", stripe.EventTypePaymentIntentSucceeded, intent(map[string]any{"metadata": nil, "currency": "usd"}), checkout.PaymentState{}},
		{"another integration's session", stripe.EventTypeCheckoutSessionCompleted,
			session(map[string]any{"client_reference_id": nil, "metadata": nil, "mode": "setup", "currency": nil}), checkout.PaymentState{}},
		{"unrelated event", "customer.created", map[string]any{"id": "cus_1", "object": "customer"}, checkout.PaymentState{}},
		{"payment intent created", stripe.EventTypePaymentIntentCreated, intent(nil), checkout.PaymentState{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := eventBody(t, "evt_1", tt.typ, tt.object)
			n, err := p.Webhook(signed(body, testSecret, time.Now()), body)
			if err != nil {
				t.Fatalf("Webhook: %v", err)
			}
			want := checkout.Notification{ID: "evt_1", State: tt.want}
			if diff := cmp.Diff(want, n); diff != "" {
				t.Errorf("Webhook (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWebhookUnreadable: signed bodies that are not events Souq can read are
// ErrInvalid errors.
func TestWebhookUnreadable(t *testing.T) {
	p := webhookProvider(t)
	tests := []struct {
		name string
		body []byte
	}{
		{"not JSON", []byte("hello")},
		{"no data", []byte(`{"id":"evt_1","api_version":"` + stripe.APIVersion + `","type":"payment_intent.succeeded"}`)},
		{"no id", eventBody(t, "", stripe.EventTypePaymentIntentSucceeded, intent(nil))},
		{"object of the wrong shape", eventBody(t, "evt_1", stripe.EventTypePaymentIntentSucceeded, map[string]any{"id": "pi_1", "amount": "lots"})},
		{"a currency Souq does not take", eventBody(t, "evt_1", stripe.EventTypePaymentIntentSucceeded, intent(map[string]any{"currency": "usd"}))},
		{"a payment intent with no id", eventBody(t, "evt_1", stripe.EventTypePaymentIntentSucceeded, intent(map[string]any{"id": ""}))},
		{"a session with no status", eventBody(t, "evt_1", stripe.EventTypeCheckoutSessionExpired, session(map[string]any{"status": ""}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Webhook(signed(tt.body, testSecret, time.Now()), tt.body)
			if !errors.Is(err, souq.ErrInvalid) {
				t.Errorf("Webhook: got %v, want ErrInvalid", err)
			}
		})
	}
}

// FuzzWebhook feeds Webhook arbitrary bodies, correctly signed: it must not
// panic, must not refuse the signature, and must either refuse the body as
// ErrInvalid or ErrAPIVersion or return a notification that makes sense.
func FuzzWebhook(f *testing.F) {
	for _, typ := range []stripe.EventType{
		stripe.EventTypePaymentIntentSucceeded, stripe.EventTypePaymentIntentPaymentFailed,
		stripe.EventTypeCheckoutSessionCompleted, stripe.EventTypeChargeRefunded, "customer.created",
	} {
		f.Add(eventBody(f, "evt_1", typ, intent(nil)))
	}
	f.Add(eventBody(f, "evt_1", stripe.EventTypeCheckoutSessionExpired, session(map[string]any{"status": "expired"})))
	f.Add([]byte(`{"id":"evt_1","api_version":"` + stripe.APIVersion + `","type":"payment_intent.succeeded","data":{"object":"pi_1"}}`))
	f.Add([]byte(`{"id":"evt_1","api_version":"` + stripe.APIVersion + `","type":"charge.refunded","data":{"object":{"refunded":true,"payment_intent":{"id":7}}}}`))
	f.Add([]byte(`{"api_version":"x"}`))
	f.Add([]byte(`null`))
	f.Add([]byte{})
	p := webhookProvider(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := p.Webhook(signed(body, testSecret, time.Now()), body)
		if err != nil {
			if !errors.Is(err, souq.ErrInvalid) && !errors.Is(err, ErrAPIVersion) {
				t.Fatalf("Webhook(%q): got %T %v, want ErrInvalid or ErrAPIVersion", body, err, err)
			}
			return
		}
		if n.ID == "" {
			t.Fatalf("Webhook(%q): accepted with no event id", body)
		}
		if st := n.State; st.Status != "" && (st.Reference == "" || !st.Amount.Currency.Valid()) {
			t.Fatalf("Webhook(%q): got state %+v, want a reference and a Souq currency", body, st)
		}
	})
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"
)

// cardOrder places an order paid by card with the test provider's token
// and returns the status and body.
func cardOrder(t *testing.T, base string) (int, map[string]any) {
	t.Helper()
	var list productList
	getJSON(t, base+"/api/v1/products?market=AE&page_size=50", &list)
	order := fmt.Sprintf(`{"market":"AE","items":[{"product_id":%q,"quantity":1}],
		"customer":{"name":"Mariam","email":"mariam@example.ae","phone":"+971501234567"},
		"shipping_address":{"line1":"Villa 12, Street 5","area":"Jumeirah","city":"Dubai","country":"AE"},
		"payment":{"method":"card","token":"tok_ok"}}`, list.inStock(t))
	resp, err := http.Post(base+"/api/v1/orders", "application/json", strings.NewReader(order))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("order answer %d is not JSON: %s", resp.StatusCode, b)
	}
	body["content_type"] = resp.Header.Get("Content-Type")
	return resp.StatusCode, body
}

// TestTestPaymentProviderOnlyWhenAskedFor: the built-in test provider
// takes card orders with --demo or --payment test; without either, a card
// order is refused with a problem and nothing is ordered.
func TestTestPaymentProviderOnlyWhenAskedFor(t *testing.T) {
	data := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		wantPaid bool
		wantSays string
	}{
		{"demo", []string{"--demo"}, true, "payments: TEST provider"},
		{"no provider", nil, false, "payments: cash on delivery only"},
		{"explicit test provider", []string{"--payment", "test"}, true, "payments: TEST provider"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--addr", "127.0.0.1:0", "--data", data, "--shoppers", "0", "--admin-token", "adm"}, tt.args...)
			base, stdout, stop := startServe(t, args, nil)
			defer stop()
			if !strings.Contains(strings.Join(strings.Fields(stdout.String()), " "), tt.wantSays) {
				t.Errorf("serve output lacks %q:\n%s", tt.wantSays, stdout.String())
			}
			before := countOrders(t, base)
			status, body := cardOrder(t, base)
			if tt.wantPaid {
				if status != http.StatusCreated || body["status"] != "paid" {
					t.Errorf("card order: got %d %v, want 201 paid", status, body)
				}
				return
			}
			if status != http.StatusUnprocessableEntity && status != http.StatusBadRequest || body["content_type"] != "application/problem+json" ||
				!strings.Contains(fmt.Sprint(body["detail"]), "card payment is not available") {
				t.Errorf("card order without a provider: got %d %v, want a 4xx problem saying card payment is not available", status, body)
			}
			if after := countOrders(t, base); after != before {
				t.Errorf("orders: got %d after the refused card order, want %d", after, before)
			}
		})
	}
}

// countOrders counts the shop's orders through the admin API (token adm).
func countOrders(t *testing.T, base string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/admin/orders?page_size=1", nil)
	req.Header.Set("Authorization", "Bearer adm")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Total int `json:"total"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&page) != nil {
		t.Fatalf("admin orders: got %d", resp.StatusCode)
	}
	return page.Total
}

func TestPaymentFlag(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"test provider off loopback", []string{"--addr", "0.0.0.0:0", "--payment", "test"}, "--payment test"},
		{"unknown provider", []string{"--addr", "127.0.0.1:0", "--payment", "paypal"}, `--payment must be none, stripe or test, not "paypal"`},
		{"stripe without a public URL", []string{"--payment", "stripe", "--stripe-secret-key", "sk_test_1", "--stripe-webhook-secret", "whsec_1"}, "--payment stripe needs --public-url"},
		{"stripe without secrets", []string{"--payment", "stripe", "--public-url", "https://shop.example.ae"}, "SOUQ_STRIPE_SECRET_KEY"},
		{"stripe with a publishable key", []string{"--payment", "stripe", "--public-url", "https://shop.example.ae",
			"--stripe-secret-key", "pk_live_1", "--stripe-webhook-secret", "whsec_1"}, "--payment stripe"},
		{"stripe settings without stripe", []string{"--stripe-secret-key", "sk_test_1"}, "apply to --payment stripe"},
		{"a public URL with a path", []string{"--public-url", "https://shop.example.ae/en/"}, "--public-url"},
		{"unknown capture", []string{"--payment-capture", "later"}, "--payment-capture must be automatic or manual"},
		{"a timeout too short", []string{"--payment-timeout", "10s"}, "--payment-timeout must be between 1m and 24h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			err := run(t.Context(), append([]string{"serve", "--data", t.TempDir()}, tt.args...), func(string) string { return "" }, &stdout, &stderr)
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want a usage error mentioning %q", err, tt.want)
			}
			for _, secret := range []string{"sk_test_1", "pk_live_1", "whsec_1"} {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("the error quotes a secret: %v", err)
				}
			}
		})
	}
}

// TestStripeServe runs `souq serve --payment stripe` with Stripe out of
// reach: a card order is placed anyway, pending payment with its stock
// held and the reason, and a correctly signed payment_intent.succeeded on
// the webhook endpoint pays it; a forged one is refused.
func TestStripeServe(t *testing.T) {
	const secret = "whsec_serve_test"
	env := map[string]string{"SOUQ_STRIPE_SECRET_KEY": "sk_test_serve", "SOUQ_STRIPE_WEBHOOK_SECRET": secret}
	base, stdout, stop := startServe(t, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo", "--shoppers", "0",
		"--admin-token", "adm", "--payment", "stripe", "--public-url", "http://127.0.0.1:8080",
		"--stripe-api-url", "http://127.0.0.1:1"}, env) // nothing listens on port 1
	defer stop()
	if !strings.Contains(stdout.String(), "payments:  Stripe (automatic capture; unpaid orders released after 15m0s)") {
		t.Errorf("serve does not say it takes Stripe payments:\n%s", stdout.String())
	}
	var list productList
	getJSON(t, base+"/api/v1/products?market=AE&page_size=50", &list)
	order := fmt.Sprintf(`{"market":"AE","items":[{"product_id":%q,"quantity":1}],
		"customer":{"name":"Mariam","email":"mariam@example.ae","phone":"+971501234567"},
		"shipping_address":{"line1":"Villa 12, Street 5","area":"Jumeirah","city":"Dubai","country":"AE"},
		"payment":{"method":"card","language":"ar"}}`, list.inStock(t))
	resp, err := http.Post(base+"/api/v1/orders", "application/json", strings.NewReader(order))
	if err != nil {
		t.Fatal(err)
	}
	var placed struct {
		ID           string `json:"id"`
		Status       string `json:"status"`
		AccessToken  string `json:"access_token"`
		PaymentError string `json:"payment_error"`
		Total        struct {
			Amount int64 `json:"amount"`
		} `json:"total"`
	}
	err = json.NewDecoder(resp.Body).Decode(&placed)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated || placed.Status != "pending_payment" || placed.PaymentError == "" || placed.AccessToken == "" {
		t.Fatalf("card order with Stripe out of reach: got %d %+v (%v); want 201 pending_payment with payment_error and a token", resp.StatusCode, placed, err)
	}

	event, _ := json.Marshal(map[string]any{
		"id": "evt_serve_1", "object": "event", "api_version": stripe.APIVersion, "created": time.Now().Unix(),
		"type": "payment_intent.succeeded",
		"data": map[string]any{"object": map[string]any{
			"id": "pi_serve_1", "object": "payment_intent", "amount": placed.Total.Amount, "amount_received": placed.Total.Amount,
			"currency": "aed", "status": "succeeded", "metadata": map[string]string{"order_id": placed.ID}}},
	})
	deliver := func(signedWith string) int {
		t.Helper()
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: event, Secret: signedWith, Timestamp: time.Now()})
		req, _ := http.NewRequest("POST", base+"/api/v1/payments/webhook", bytes.NewReader(event))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", signed.Header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	orderStatus := func() (string, string) {
		t.Helper()
		var o struct {
			Status  string `json:"status"`
			Payment struct {
				Status string `json:"status"`
			} `json:"payment"`
		}
		getJSON(t, base+"/api/v1/orders/"+placed.ID+"?token="+url.QueryEscape(placed.AccessToken), &o)
		return o.Status, o.Payment.Status
	}
	if got := deliver("whsec_forged"); got != http.StatusUnauthorized {
		t.Errorf("forged webhook: got %d, want 401", got)
	}
	if st, _ := orderStatus(); st != "pending_payment" {
		t.Fatalf("after a forged webhook: order %s, want pending_payment", st)
	}
	for range 2 {
		if got := deliver(secret); got != http.StatusOK {
			t.Fatalf("signed webhook: got %d, want 200", got)
		}
	}
	if st, pst := orderStatus(); st != "paid" || pst != "captured" {
		t.Errorf("after the signed webhook: order %s, payment %s; want paid, captured", st, pst)
	}
}

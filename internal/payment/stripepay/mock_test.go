package stripepay

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stripe/stripe-go/v82"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// The tests against stripe-mock (github.com/stripe/stripe-mock), which
// checks each request against Stripe's OpenAPI spec and answers with fixture
// objects: they prove the requests are well-formed and the answers decode.
// stripe-mock keeps nothing, so a retrieved object is its fixture, not what
// the test created; what stripe-mock cannot play (declines, 3-D Secure,
// states) the fake in the other tests does.

// mockProvider returns a provider that calls the stripe-mock server at
// SOUQ_TEST_STRIPE_URL, and the log of its requests; it skips the test
// without one.
func mockProvider(t *testing.T) (*Provider, *mockTransport) {
	t.Helper()
	u := os.Getenv("SOUQ_TEST_STRIPE_URL")
	if u == "" {
		t.Skip("SOUQ_TEST_STRIPE_URL is not set: set it to a stripe-mock server's URL, e.g. http://127.0.0.1:12111 " +
			`(.ci/run starts stripe-mock; by hand: eval "$(.ci/stripe.sh)")`)
	}
	tr := &mockTransport{}
	p, err := New(Config{
		SecretKey:     "sk_test_123",
		WebhookSecret: testSecret,
		APIURL:        u,
		HTTPClient:    &http.Client{Transport: tr},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, tr
}

// mockTransport records the requests to stripe-mock, and gives its fixture
// objects a currency Souq takes: they are in USD (or none), which Souq
// refuses (TestLookupRefuses shows it does); every "currency" of "usd" or
// null in an answer becomes "aed".
type mockTransport struct {
	mu   sync.Mutex
	reqs []string // "METHOD /path Idempotency-Key"
}

func (m *mockTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	m.mu.Lock()
	m.reqs = append(m.reqs, r.Method+" "+r.URL.Path+" "+r.Header.Get("Idempotency-Key"))
	m.mu.Unlock()
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var v any
	if json.Unmarshal(body, &v) == nil {
		inAED(v)
		if body, err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp, nil
}

func inAED(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if k == "currency" && (e == nil || e == "usd") {
				v[k] = "aed"
				continue
			}
			inAED(e)
		}
	case []any:
		for _, e := range v {
			inAED(e)
		}
	}
}

func (m *mockTransport) requests() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.reqs...)
}

func TestStripeMock(t *testing.T) {
	p, tr := mockProvider(t)
	ctx := t.Context()
	tests := []struct {
		name    string
		call    func() (checkout.PaymentState, error)
		wantRef string // the reference's prefix
		wantReq string // the first request, with its idempotency key
	}{
		{"start with a token", func() (checkout.PaymentState, error) {
			c := tokenCharge()
			c.Capture = checkout.CaptureManual
			return p.Start(ctx, c)
		}, "pi_", "POST /v1/payment_intents souq-order-ord_1"},
		{"start on the hosted page", func() (checkout.PaymentState, error) {
			c := tokenCharge()
			c.Token = ""
			return p.Start(ctx, c)
		}, "cs_", "POST /v1/checkout/sessions souq-checkout-ord_1"},
		{"lookup a payment intent", func() (checkout.PaymentState, error) { return p.Lookup(ctx, "pi_123") },
			"pi_", "GET /v1/payment_intents/pi_123 "},
		{"lookup a checkout session", func() (checkout.PaymentState, error) { return p.Lookup(ctx, "cs_123") },
			"cs_", "GET /v1/checkout/sessions/cs_123 "},
		{"capture", func() (checkout.PaymentState, error) { return p.Capture(ctx, "pi_123") },
			"pi_", "POST /v1/payment_intents/pi_123/capture souq-capture-pi_123"},
		{"cancel a payment intent", func() (checkout.PaymentState, error) { return p.Cancel(ctx, "pi_123") },
			"pi_", "POST /v1/payment_intents/pi_123/cancel souq-cancel-pi_123"},
		{"expire a checkout session", func() (checkout.PaymentState, error) { return p.Cancel(ctx, "cs_123") },
			"cs_", "POST /v1/checkout/sessions/cs_123/expire souq-expire-cs_123"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(tr.requests())
			st, err := tt.call()
			if err != nil {
				t.Fatalf("got %v", err)
			}
			if !strings.HasPrefix(st.Reference, tt.wantRef) || st.Status == "" || st.Amount.Currency != souq.AED {
				t.Errorf("got %+v, want a %s… reference, a status and an amount in AED", st, tt.wantRef)
			}
			if reqs := tr.requests(); len(reqs) <= before || reqs[before] != tt.wantReq {
				t.Errorf("requests: got %q, want %q first", reqs[before:], tt.wantReq)
			}
		})
	}

	t.Run("refund", func(t *testing.T) {
		ref, err := p.Refund(ctx, "pi_123", "ord_1")
		if err != nil || !strings.HasPrefix(ref, "re_") {
			t.Fatalf("Refund: got %q, %v; want a re_… id", ref, err)
		}
		if reqs := tr.requests(); reqs[len(reqs)-1] != "POST /v1/refunds souq-refund-ord_1" {
			t.Errorf("requests: got %q last, want the refund with key souq-refund-ord_1", reqs[len(reqs)-1])
		}
	})

	// stripe-mock refuses a request Stripe would: the tests above could fail.
	t.Run("a malformed request is refused", func(t *testing.T) {
		_, err := p.client.V1PaymentIntents.Create(ctx, &stripe.PaymentIntentCreateParams{
			Amount: stripe.Int64(100), Currency: stripe.String("aed"), CaptureMethod: stripe.String("whenever"),
		})
		if err = stripeErr("create", err); !errors.Is(err, souq.ErrInvalid) {
			t.Errorf("got %v, want ErrInvalid", err)
		}
	})
}

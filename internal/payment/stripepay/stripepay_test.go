package stripepay

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

const (
	testKey    = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
	testSecret = "whsec_souq_test_secret"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "" for none
	}{
		{"secret key", Config{SecretKey: testKey, WebhookSecret: testSecret}, ""},
		{"restricted key", Config{SecretKey: "rk_live_51Habc", WebhookSecret: testSecret, APIURL: "http://127.0.0.1:12111/"}, ""},
		{"no key", Config{WebhookSecret: testSecret}, "no secret key"},
		{"publishable key", Config{SecretKey: "pk_live_51Habc", WebhookSecret: testSecret}, "publishable key"},
		{"other key", Config{SecretKey: "whsec_51Habc", WebhookSecret: testSecret}, "does not start with sk_ or rk_"},
		{"key with newline", Config{SecretKey: testKey + "\n", WebhookSecret: testSecret}, "white space"},
		{"no webhook secret", Config{SecretKey: testKey}, "no webhook signing secret"},
		{"webhook secret of another kind", Config{SecretKey: testKey, WebhookSecret: "sk_test_51Habc"}, "does not start with whsec_"},
		{"webhook secret with newline", Config{SecretKey: testKey, WebhookSecret: testSecret + "\n"}, "white space"},
		{"API URL without scheme", Config{SecretKey: testKey, WebhookSecret: testSecret, APIURL: "127.0.0.1:12111"}, "not an http(s) URL"},
		{"negative tolerance", Config{SecretKey: testKey, WebhookSecret: testSecret, Tolerance: -time.Second}, "negative webhook tolerance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil || p == nil {
					t.Fatalf("New: got %v, want a provider", err)
				}
				if p.Name() != "stripe" {
					t.Errorf("Name: got %q, want stripe", p.Name())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New: got error %v, want one saying %q", err, tt.wantErr)
			}
			for _, secret := range []string{tt.cfg.SecretKey, tt.cfg.WebhookSecret} {
				if secret != "" && strings.Contains(err.Error(), strings.TrimSpace(secret)) {
					t.Errorf("New: the error %q quotes a secret", err)
				}
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	p, err := New(Config{SecretKey: testKey, WebhookSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	if p.tolerance != 5*time.Minute {
		t.Errorf("tolerance: got %s, want 5m0s", p.tolerance)
	}
	if p.now == nil {
		t.Error("now: got nil, want time.Now")
	}
}

// TestErrors: each kind of Stripe error becomes the right Souq kind, and no
// error quotes the secret key or a client secret.
func TestErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		wantKind error // nil: a plain (server-side) error
		wantMsg  string
	}{
		{"declined", 402, `{"error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline","message":"Your card was declined."}}`,
			souq.ErrPayment, "Your card was declined."},
		{"invalid request", 400, `{"error":{"type":"invalid_request_error","param":"return_url","message":"Not a valid URL"}}`,
			souq.ErrInvalid, "Not a valid URL"},
		{"no such object", 404, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such payment_intent: 'pi_404'"}}`,
			souq.ErrNotFound, "No such payment_intent"},
		{"idempotency key reused", 400, `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}`,
			souq.ErrConflict, "already started"},
		{"key refused", 401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_****p7dc"}}`,
			nil, "the API key was refused"},
		{"rate limited", 429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests"}}`,
			nil, "Too many requests"},
		{"Stripe down", 500, `{"error":{"type":"api_error","message":"Something went wrong","payment_intent":{"id":"pi_1","client_secret":"pi_1_secret_abc"}}}`,
			nil, "Something went wrong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newFake(t, routes{"POST /v1/payment_intents": fail(tt.status, tt.body)})
			_, err := p.Start(t.Context(), tokenCharge())
			if err == nil {
				t.Fatal("Start: got no error")
			}
			var se *souq.Error
			if tt.wantKind != nil && (!errors.Is(err, tt.wantKind) || !errors.As(err, &se)) {
				t.Errorf("got %T %v, want a *souq.Error of kind %v", err, err, tt.wantKind)
			}
			if tt.wantKind == nil && errors.As(err, &se) {
				t.Errorf("got a %v *souq.Error %q, want a plain server-side error", se.Kind, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("got %q, want it to say %q", err, tt.wantMsg)
			}
			for _, secret := range []string{"sk_test", "secret_abc"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("got %q, which quotes %q", err, secret)
				}
			}
		})
	}
}

// routes maps "METHOD /path" to the fake's reply.
type routes map[string]reply

type reply struct {
	status int
	body   string
	header http.Header // more headers, if any
}

// request is one request the fake received.
type request struct {
	method, path   string
	form           url.Values // the form body of a POST, or the query of a GET
	idempotencyKey string
}

// fakeStripe plays Stripe's API for the routes a test gives it, and records
// the requests. Replies say Stripe-Should-Retry: false, so the library does
// not retry (and sleep) on the errors a test plays.
type fakeStripe struct {
	t      *testing.T
	routes routes
	mu     sync.Mutex
	reqs   []request
}

func newFake(t *testing.T, r routes) (*Provider, *fakeStripe) {
	t.Helper()
	f := &fakeStripe{t: t, routes: r}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	p, err := New(Config{
		SecretKey:     testKey,
		WebhookSecret: testSecret,
		APIURL:        srv.URL,
		HTTPClient:    srv.Client(),
		Now:           func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, f
}

// testNow is the fake's clock.
var testNow = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func (f *fakeStripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("%s %s: %v", r.Method, r.URL.Path, err)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
		f.t.Errorf("%s %s: Authorization %q, want the key", r.Method, r.URL.Path, got)
	}
	req := request{method: r.Method, path: r.URL.Path, form: r.Form, idempotencyKey: r.Header.Get("Idempotency-Key")}
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Stripe-Should-Retry", "false")
	rep, ok := f.routes[r.Method+" "+r.URL.Path]
	if !ok {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","message":"Unrecognized request URL"}}`))
		return
	}
	for k, v := range rep.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write([]byte(rep.body))
}

// requests returns the requests received so far.
func (f *fakeStripe) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

// only returns the one request the fake received, failing the test otherwise.
func (f *fakeStripe) only() request {
	f.t.Helper()
	reqs := f.requests()
	if len(reqs) != 1 {
		f.t.Fatalf("got %d requests %v, want 1", len(reqs), reqs)
	}
	return reqs[0]
}

// checkForm compares the form fields a request sent with want (all of
// them: a field sent and not wanted is an error too).
func checkForm(t *testing.T, got request, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if g := got.form.Get(k); g != v || len(got.form[k]) != 1 {
			t.Errorf("%s %s: %s = %q, want %q", got.method, got.path, k, got.form[k], v)
		}
	}
	for k := range got.form {
		if _, ok := want[k]; !ok {
			t.Errorf("%s %s: unexpected field %s = %q", got.method, got.path, k, got.form[k])
		}
	}
}

// ok is a 200 reply with a JSON object.
func ok(v map[string]any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return reply{status: http.StatusOK, body: string(b)}
}

// fail is a reply with an error status and a Stripe error's JSON.
func fail(status int, body string) reply { return reply{status: status, body: body} }

// replay is r as Stripe answers a POST from its idempotency cache.
func replay(r reply) reply {
	r.header = http.Header{"Idempotent-Replayed": {"true"}}
	return r
}

// intent is a PaymentIntent's JSON: a captured AED 89.00 payment of order
// ord_1, with changes.
func intent(changes map[string]any) map[string]any {
	v := map[string]any{
		"id":              "pi_1",
		"object":          "payment_intent",
		"amount":          8900,
		"amount_received": 8900,
		"currency":        "aed",
		"status":          "succeeded",
		"client_secret":   "pi_1_secret_xyz",
		"metadata":        map[string]string{"order_id": "ord_1"},
	}
	maps.Copy(v, changes)
	return v
}

// session is a Checkout Session's JSON: an open one for order ord_1, with
// changes.
func session(changes map[string]any) map[string]any {
	v := map[string]any{
		"id":                  "cs_test_1",
		"object":              "checkout.session",
		"amount_total":        8900,
		"currency":            "aed",
		"status":              "open",
		"payment_status":      "unpaid",
		"client_reference_id": "ord_1",
		"metadata":            map[string]string{"order_id": "ord_1"},
		"url":                 "https://checkout.stripe.com/c/pay/cs_test_1",
		"payment_intent":      nil,
	}
	maps.Copy(v, changes)
	return v
}

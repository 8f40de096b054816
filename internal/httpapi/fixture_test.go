package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/delivery"
	"github.com/souq-commerce/souq/internal/fileblob"
	"github.com/souq-commerce/souq/internal/media"
	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/payment"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/sqlite"
	"github.com/souq-commerce/souq/internal/waitroom"
	"github.com/souq-commerce/souq/internal/webhook"
)

const testAdminToken = "test-admin-token"

// fixture is a real API server on an httptest listener over a fresh SQLite
// database, with a clock the test can move.
type fixture struct {
	t        *testing.T
	url      string
	db       *sqlite.DB
	catalog  *catalog.Service
	payments *payment.TestProvider
	registry *prometheus.Registry
	client   *http.Client
	room     *waitroom.Room // with newRoomFixture
	outcomes *outcomes.Recorder
	counts   *outcomes.MemStore // where outcomes flushes

	mu  sync.Mutex
	now time.Time
	seq atomic.Int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, true)
}

// newFixtureWith builds the fixture with the test card provider, or with
// none (cash on delivery only) when card is false.
func newFixtureWith(t *testing.T, card bool) *fixture {
	t.Helper()
	return buildFixture(t, card, false)
}

// newRoomFixture builds the fixture with a waiting room (in process),
// which the test drives with f.room.Tick.
func newRoomFixture(t *testing.T) *fixture {
	t.Helper()
	return buildFixture(t, false, true)
}

func buildFixture(t *testing.T, card, withRoom bool) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "souq.db"), sqlite.Options{Synchronous: "normal"})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	f := &fixture{t: t, db: db, registry: prometheus.NewRegistry(),
		now: time.Date(2026, 11, 27, 18, 0, 0, 0, time.UTC)}
	var provider checkout.PaymentProvider // nil: no card payments
	if card {
		f.payments = payment.NewTestProvider()
		provider = f.payments
	}
	f.catalog = catalog.New(db, f.clock, testLogger(t))
	carts := cart.New(db, f.catalog, f.clock, testLogger(t))
	orders := checkout.New(db, f.catalog, carts, checkout.Payments{Provider: provider}, f.clock, testLogger(t))
	deliveries := delivery.New(db, f.clock)
	orders.SetDelivery(deliveries)
	f.counts = outcomes.NewMemStore(f.clock)
	f.outcomes = outcomes.NewRecorder(f.counts, outcomes.Options{Now: f.clock})
	orders.SetOutcomes(f.outcomes)
	if withRoom {
		keys, err := waitroom.NewKeys([]byte("a waiting room secret for the API tests"))
		if err != nil {
			t.Fatal(err)
		}
		f.room, err = waitroom.New(waitroom.Config{Sales: f.catalog, Stocks: db.Stocks, State: waitroom.NewMemState(),
			Keys: keys, Registry: f.registry, Controller: waitroom.ControllerConfig{Initial: 2, Max: 2}})
		if err != nil {
			t.Fatal(err)
		}
	}
	blobs, err := fileblob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewServer(Deps{Catalog: f.catalog, Carts: carts, Checkout: orders, Room: f.room,
		Media: media.NewLibrary(blobs), Webhooks: webhook.NewService(db, f.clock), Delivery: deliveries, AdminToken: testAdminToken, Registry: f.registry, Ready: db.Ready}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	f.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 100}}
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// product creates a product sold in every market with the given AE price and
// stock, and returns it.
func (f *fixture) product(stock int, priceAE int64) souq.Product {
	f.t.Helper()
	n := f.seq.Add(1)
	p, err := f.catalog.Create(context.Background(), catalog.ProductInput{
		SKU: fmt.Sprintf("TEST-%04d", n), Slug: fmt.Sprintf("test-product-%d", n), Brand: "COSRX", Category: "skincare",
		Name:   souq.Localized{EN: fmt.Sprintf("Snail Essence %d", n), AR: fmt.Sprintf("جوهر الحلزون %d", n)},
		Prices: map[souq.MarketCode]int64{souq.AE: priceAE, souq.SA: priceAE, souq.QA: priceAE, souq.KW: priceAE * 10, souq.BH: priceAE * 10, souq.OM: priceAE * 10},
		Stock:  &stock,
	})
	if err != nil {
		f.t.Fatalf("create product: %v", err)
	}
	return p
}

// do sends a request with an optional JSON body (a string is sent as is) and
// returns the status, headers and body.
func (f *fixture) do(method, path string, body any, header ...string) (int, http.Header, []byte) {
	f.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = bytes.NewBufferString(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			f.t.Fatalf("marshal: %v", err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, f.url+path, r)
	if err != nil {
		f.t.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, resp.Header, out
}

// admin sends a request with the admin token.
func (f *fixture) admin(method, path string, body any) (int, []byte) {
	f.t.Helper()
	status, _, out := f.do(method, path, body, "Authorization", "Bearer "+testAdminToken)
	return status, out
}

// orderBody is a valid cash-on-delivery order in the UAE for the items.
func orderBody(items ...map[string]any) map[string]any {
	return map[string]any{
		"market":           "AE",
		"items":            items,
		"customer":         map[string]any{"name": "Mariam Al Mansoori", "email": "mariam@example.ae", "phone": "+971501234567"},
		"shipping_address": map[string]any{"line1": "Villa 12, Street 5", "area": "Al Barsha", "city": "Dubai", "country": "AE"},
		"payment":          map[string]any{"method": "cod"},
	}
}

func item(id souq.ID, qty int) map[string]any {
	return map[string]any{"product_id": id, "quantity": qty}
}

func decodeJSON[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

// problemBody is the part of a problem document tests look at.
type problemBody struct {
	Type          string            `json:"type"`
	Title         string            `json:"title"`
	Status        int               `json:"status"`
	Detail        string            `json:"detail"`
	InvalidParams []souq.FieldError `json:"invalid_params"`
	ProductID     string            `json:"product_id"`
	OrderID       string            `json:"order_id"`
}

// wantProblem checks a response is a problem document with the status.
func wantProblem(t *testing.T, status int, header http.Header, body []byte, wantStatus int) problemBody {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status: got %d, want %d (body %s)", status, wantStatus, body)
	}
	if ct := header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type: got %q, want application/problem+json", ct)
	}
	p := decodeJSON[problemBody](t, body)
	if p.Status != wantStatus || p.Detail == "" || p.Title == "" {
		t.Fatalf("problem: got %+v, want status %d with title and detail", p, wantStatus)
	}
	return p
}

// testLogger sends logs to the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(b)))
	return len(b), nil
}

// badRequest is a request the API must refuse with a problem document.
type badRequest struct {
	name, method, path string
	body               any
	token              bool // sent with the admin token
	status             int
	field              string // named in invalid_params, when set
}

// refuses sends each request and checks its status, that the answer is a
// problem document, and the field it names.
func (f *fixture) refuses(t *testing.T, tests []badRequest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var header []string
			if tt.token {
				header = []string{"Authorization", "Bearer " + testAdminToken}
			}
			status, h, body := f.do(tt.method, tt.path, tt.body, header...)
			if status != tt.status {
				t.Fatalf("got %d %s, want %d", status, body, tt.status)
			}
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
				t.Errorf("content type: got %q, want application/problem+json", ct)
			}
			if tt.field != "" && !strings.Contains(string(body), `"name":"`+tt.field+`"`) {
				t.Errorf("got %s, want invalid_params naming %s", body, tt.field)
			}
		})
	}
}

package shopper

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
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/collector"
	"github.com/souq-commerce/souq/internal/httpapi"
	"github.com/souq-commerce/souq/internal/payment"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/sqlite"
	"github.com/souq-commerce/souq/internal/waitroom"
)

const testWriteKey = "wk_test_shopper"

// peakTime is a Friday evening in the Gulf: 21:00 in Dubai, 20:00 in
// Riyadh, every market on the peak of the daily curve.
var peakTime = time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)

// shop is the real shop API (SQLite, catalog, carts, checkout, the test
// payment provider) and the real collector behind a recorder, on one
// httptest server, with a clock the test sets.
type shop struct {
	t        *testing.T
	url      string
	catalog  *catalog.Service
	checkout *checkout.Service
	db       *sqlite.DB
	batches  *batchRecorder
	statuses *statusRecorder
	products map[souq.ID]souq.Product
	sale     souq.Sale

	mu  sync.Mutex
	now time.Time
}

func (s *shop) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

func (s *shop) set(t time.Time) {
	s.mu.Lock()
	s.now = t
	s.mu.Unlock()
}

// newShop starts the shop with the catalogue below and a flash sale
// running at peakTime.
func newShop(t *testing.T) *shop {
	t.Helper()
	return newShopWith(t, false)
}

// newShopWith starts the shop; with protected, its sale is protected by a
// waiting room that admits 20 shoppers every few milliseconds.
func newShopWith(t *testing.T, protected bool) *shop {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "souq.db"), sqlite.Options{Synchronous: "normal"})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	s := &shop{t: t, products: map[souq.ID]souq.Product{}, now: peakTime.Add(-time.Hour)}
	log := testLogger(t, slog.LevelWarn)
	s.db = db
	s.catalog = catalog.New(db, s.clock, log)
	carts := cart.New(db, s.catalog, s.clock, log)
	s.checkout = checkout.New(db, s.catalog, carts, checkout.Payments{Provider: payment.NewTestProvider()}, s.clock, log)
	var room *waitroom.Room
	if protected {
		keys, err := waitroom.NewKeys([]byte("the shopper tests' waiting room secret"))
		if err != nil {
			t.Fatal(err)
		}
		room, err = waitroom.New(waitroom.Config{Sales: s.catalog, Stocks: s.catalog.Stocks, State: waitroom.NewMemState(), Keys: keys,
			Controller: waitroom.ControllerConfig{Initial: 20, Max: 20}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		t.Cleanup(func() { cancel(); <-done })
		go func() { // the room's ticks, a second of admissions each
			defer close(done)
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					_, _ = room.Tick(ctx, time.Second)
				}
			}
		}()
	}
	api := httpapi.NewServer(httpapi.Deps{Catalog: s.catalog, Carts: carts, Checkout: s.checkout, Room: room, Ready: db.Ready, Log: log})

	col := collector.New(collector.Deps{Publisher: &published{}, DeadLetters: &deadLetters{}, WriteKeys: []string{testWriteKey},
		Now: s.clock, RatePerSecond: 1e9, Burst: 1 << 30, Log: log})
	colMux := http.NewServeMux()
	for _, r := range col.Routes() {
		colMux.Handle(r.Pattern, r.Handler)
	}
	s.batches = &batchRecorder{next: colMux}
	s.statuses = &statusRecorder{next: api, byRoute: map[string]int{}}
	mux := http.NewServeMux()
	mux.Handle("/v1/", s.batches)
	mux.Handle("/", s.statuses)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s.url = srv.URL

	var onSale []souq.ID
	for i, p := range testCatalogue {
		stock := p.stock
		created, err := s.catalog.Create(ctx, catalog.ProductInput{
			SKU: fmt.Sprintf("TEST-%03d", i+1), Slug: fmt.Sprintf("test-product-%d", i+1), Brand: p.brand, Category: p.category,
			Name: souq.Localized{EN: p.en, AR: p.ar}, Description: souq.Localized{EN: p.en, AR: p.ar},
			Prices: map[souq.MarketCode]int64{souq.AE: p.aed, souq.SA: p.aed, souq.QA: p.aed,
				souq.KW: p.aed * 84 / 100, souq.BH: p.aed * 103 / 100, souq.OM: p.aed * 105 / 100},
			Stock: &stock,
		})
		if err != nil {
			t.Fatalf("create %s: %v", p.en, err)
		}
		s.products[created.ID] = created
		if p.sale {
			onSale = append(onSale, created.ID)
		}
		s.set(s.clock().Add(time.Second)) // distinct creation times: a stable featured order
	}
	in := catalog.SaleInput{Name: souq.Localized{EN: "Flash sale", AR: "تخفيضات سريعة"},
		StartsAt: peakTime.Add(-10 * time.Minute), EndsAt: peakTime.Add(50 * time.Minute), Protected: protected}
	for _, id := range onSale {
		in.Items = append(in.Items, catalog.SaleItem{ProductID: id, DiscountPercent: 30})
	}
	if s.sale, err = s.catalog.ScheduleSale(ctx, in); err != nil {
		t.Fatalf("schedule sale: %v", err)
	}
	s.set(peakTime)
	return s
}

// testCatalogue has a product for most search terms, one out of stock and
// one with a single unit on sale (so shoppers meet 409 out-of-stock).
var testCatalogue = []struct {
	brand, category, en, ar string
	aed                     int64
	stock                   int
	sale                    bool
}{
	{"Beauty of Joseon", "skincare", "Glow Serum Propolis + Niacinamide 30ml", "سيروم التوهج بالبروبوليس والنياسيناميد، 30 مل", 7500, 500, true},
	{"Beauty of Joseon", "suncare", "Relief Sun Rice + Probiotics SPF50+ Sunscreen 50ml", "واقي شمس ريليف صن بالأرز SPF50+، 50 مل", 6900, 500, true},
	{"rom&nd", "makeup", "Juicy Lasting Lip Tint 5.5g", "تينت الشفاه جوسي لاستينغ، 5.5 غ", 4900, 500, false},
	{"Anua", "skincare", "Heartleaf 77% Soothing Toner 250ml", "تونر مهدئ بالهارتليف 77%، 250 مل", 10900, 500, false},
	{"COSRX", "skincare", "Low pH Good Morning Gel Cleanser 150ml", "غسول جل صباحي منخفض الحموضة، 150 مل", 5500, 500, false},
	{"COSRX", "skincare", "Advanced Snail 96 Mucin Power Essence 100ml", "جوهر موسين الحلزون 96، 100 مل", 8900, 500, false},
	{"Clio", "makeup", "Kill Cover Cushion Foundation 15g", "كوشن كيل كوفر، 15 غ", 12900, 500, false},
	{"Mediheal", "masks", "Tea Tree Care Solution Sheet Mask", "ماسك ورقي بشجرة الشاي", 1500, 500, false},
	{"Ryo", "haircare", "Scalp Deep Cleansing Shampoo 400ml", "شامبو تنظيف فروة الرأس العميق، 400 مل", 6900, 500, false},
	{"Illiyoon", "bodycare", "Ceramide Ato Concentrate Body Cream 200ml", "كريم الجسم المرطب بالسيراميد، 200 مل", 7900, 500, false},
	{"COSRX", "skincare", "The Vitamin C 23 Serum 20ml", "سيروم فيتامين سي 23، 20 مل", 10500, 1, true},
	{"COSRX", "skincare", "The Retinol 0.1 Cream 20ml", "كريم الريتينول 0.1، 20 مل", 9900, 0, false},
}

// batchRecorder records every request to the collector and passes it on to
// the real collector, recording its answer too.
type batchRecorder struct {
	next http.Handler

	mu       sync.Mutex
	requests []batchRequest
}

type batchRequest struct {
	path             string
	user, pass       string
	basic            bool
	messages         []map[string]any
	status           int
	accepted         int
	rejected         []string
	undecodableBatch bool
}

func (b *batchRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := batchRequest{path: r.URL.Path}
	rec.user, rec.pass, rec.basic = r.BasicAuth()
	var in struct {
		Batch []map[string]any `json:"batch"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		rec.undecodableBatch = true
	}
	rec.messages = in.Batch

	r.Body = io.NopCloser(bytes.NewReader(body))
	out := httptest.NewRecorder()
	b.next.ServeHTTP(out, r)
	rec.status = out.Code
	var ans struct {
		Accepted int `json:"accepted"`
		Rejected []struct {
			Reason string `json:"reason"`
		} `json:"rejected"`
	}
	_ = json.Unmarshal(out.Body.Bytes(), &ans)
	rec.accepted = ans.Accepted
	for _, x := range ans.Rejected {
		rec.rejected = append(rec.rejected, x.Reason)
	}
	if out.Code != http.StatusOK {
		rec.rejected = append(rec.rejected, out.Body.String())
	}
	b.mu.Lock()
	b.requests = append(b.requests, rec)
	b.mu.Unlock()

	for k, v := range out.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(out.Code)
	_, _ = w.Write(out.Body.Bytes())
}

func (b *batchRecorder) all() []batchRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]batchRequest(nil), b.requests...)
}

// statusRecorder counts the shop API's answers by route and status.
type statusRecorder struct {
	next http.Handler

	mu      sync.Mutex
	byRoute map[string]int // "POST /api/v1/orders 201" → count
}

func (s *statusRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	s.next.ServeHTTP(sw, r)
	s.mu.Lock()
	s.byRoute[fmt.Sprintf("%s %s %d", r.Method, routeOf(r.URL.Path), sw.status)]++
	s.mu.Unlock()
}

func (s *statusRecorder) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.byRoute))
	for k, v := range s.byRoute {
		out[k] = v
	}
	return out
}

// routeOf replaces ids in an API path by {id}.
func routeOf(path string) string {
	var b bytes.Buffer
	for i, part := range bytes.Split([]byte(path), []byte("/")) {
		if i > 0 {
			b.WriteByte('/')
		}
		switch {
		case bytes.HasPrefix(part, []byte("prd_")), bytes.HasPrefix(part, []byte("cart_")), bytes.HasPrefix(part, []byte("ord_")):
			b.WriteString("{id}")
		default:
			b.Write(part)
		}
	}
	return b.String()
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// published and deadLetters stand in for the stream behind the collector.
type published struct {
	mu  sync.Mutex
	evs []souq.Event
}

func (p *published) PublishBatch(_ context.Context, evs []souq.Event) ([]error, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.evs = append(p.evs, evs...)
	return nil, nil
}

type deadLetters struct {
	mu      sync.Mutex
	reasons []string
}

func (d *deadLetters) DeadLetter(_ context.Context, reason string, _ []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reasons = append(d.reasons, reason)
	return nil
}

// testLogger sends records at level and above to the test's log.
func testLogger(t *testing.T, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(b)))
	return len(b), nil
}

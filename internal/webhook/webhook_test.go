package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/sqlite"
	"github.com/souq-commerce/souq/internal/webhook"
)

// t0 is the tests' start time.
var t0 = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "souq.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// received is one request a test receiver got.
type received struct {
	id, timestamp, signature string
	body                     []byte
}

// receiver is a webhook endpoint on loopback answering with the statuses
// of answers in turn (200 once they run out), recording what it gets.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []received
	answers []int
	// hold, when set, makes the first request wait until the client gives
	// up, after signalling arrived.
	hold    bool
	arrived chan struct{}
}

func newReceiver(t *testing.T, answers ...int) *receiver {
	t.Helper()
	rc := &receiver{answers: answers, arrived: make(chan struct{}, 1)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{r.Header.Get(webhook.HeaderID), r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body})
		hold := rc.hold
		rc.hold = false
		status := http.StatusOK
		if len(rc.answers) > 0 {
			status, rc.answers = rc.answers[0], rc.answers[1:]
		}
		rc.mu.Unlock()
		if hold {
			rc.arrived <- struct{}{}
			<-r.Context().Done()
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// register registers an endpoint for the receiver with the service.
func register(t *testing.T, store webhook.Store, now func() time.Time, url string, events ...string) webhook.Endpoint {
	t.Helper()
	e, err := webhook.NewService(store, now).Register(t.Context(), webhook.EndpointInput{URL: url, Events: events})
	if err != nil {
		t.Fatalf("register %s: %v", url, err)
	}
	return e
}

// orderEvent is an "Order Completed" (or name) event for one product.
func orderEvent(t *testing.T, name string, at time.Time, product string, qty int) souq.Event {
	t.Helper()
	props, err := json.Marshal(souq.OrderEventProperties{OrderID: "ord_1", Total: "105.00", Currency: "AED", TotalMinor: 10500,
		Market: "AE", Products: []souq.OrderEventProduct{{ProductID: product, SKU: "SKU-" + product, Name: "Rose water", Quantity: qty}}})
	if err != nil {
		t.Fatal(err)
	}
	return souq.Event{MessageID: string(souq.NewID(souq.EventPrefix)), Type: "track", Event: name, Timestamp: at, ReceivedAt: at, Properties: props}
}

// stocks is a settable stock table.
type stocks map[souq.ID]int

func (s stocks) Stocks(_ context.Context, ids []souq.ID) (map[souq.ID]int, error) {
	out := map[souq.ID]int{}
	for _, id := range ids {
		if n, ok := s[id]; ok {
			out[id] = n
		}
	}
	return out, nil
}

// deliveriesOf returns an endpoint's delivery log, newest first.
func deliveriesOf(t *testing.T, store webhook.Store, id souq.ID) []webhook.Delivery {
	t.Helper()
	ds, _, err := store.WebhookDeliveries(t.Context(), id, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func pass(t *testing.T, w *webhook.Worker, ctx context.Context) int {
	t.Helper()
	n, err := w.Pass(ctx)
	if err != nil {
		t.Fatalf("Pass: %v", err)
	}
	return n
}

// verifyLikeTheDocs is the verification snippet of docs/webhooks.md, as a
// receiver would write it with the standard library only.
func verifyLikeTheDocs(secret string, r received, now time.Time) error {
	ts, err := strconv.ParseInt(r.timestamp, 10, 64)
	if err != nil {
		return errors.New("bad timestamp")
	}
	if age := now.Sub(time.Unix(ts, 0)); age > 5*time.Minute || age < -5*time.Minute {
		return errors.New("timestamp too old or in the future: a replay?")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.", ts)
	mac.Write(r.body)
	want := "v1=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(r.signature), []byte(want)) {
		return errors.New("bad signature")
	}
	return nil
}

func TestSignatureVerifies(t *testing.T) {
	ctx := t.Context()
	store := openStore(t)
	clk := &clock{t: t0}
	rc := newReceiver(t)
	e := register(t, store, clk.now, rc.URL+"/hooks", webhook.TypeOrderCreated)
	clk.add(time.Minute)
	ev := orderEvent(t, souq.EventOrderCompleted, clk.now(), "prd_1", 1)
	if err := webhook.NewFeed(nil, store, nil, 5, nil).Handle(ctx, []souq.Event{ev}); err != nil {
		t.Fatal(err)
	}
	w := webhook.NewWorker(store, webhook.WorkerOptions{Now: clk.now})
	if n := pass(t, w, ctx); n != 1 {
		t.Fatalf("Pass claimed %d, want 1", n)
	}
	got := rc.requests()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	r := got[0]
	if r.id != ev.MessageID {
		t.Errorf("%s: got %q, want the event's id %q", webhook.HeaderID, r.id, ev.MessageID)
	}
	var body struct {
		ID        string                    `json:"id"`
		Type      string                    `json:"type"`
		CreatedAt time.Time                 `json:"created_at"`
		Data      souq.OrderEventProperties `json:"data"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	if body.ID != ev.MessageID || body.Type != webhook.TypeOrderCreated || !body.CreatedAt.Equal(ev.Timestamp) || body.Data.OrderID != "ord_1" {
		t.Errorf("body: got %+v, want id %s, type order.created, created_at %v, order ord_1", body, ev.MessageID, ev.Timestamp)
	}
	tests := []struct {
		name   string
		secret string
		r      received
		now    time.Time
		ok     bool
	}{
		{"as sent", e.Secret, r, clk.now(), true},
		{"four minutes later", e.Secret, r, clk.now().Add(4 * time.Minute), true},
		{"replayed ten minutes later", e.Secret, r, clk.now().Add(10 * time.Minute), false},
		{"other secret", e.Secret + "x", r, clk.now(), false},
		{"body changed", e.Secret, received{r.id, r.timestamp, r.signature, append([]byte(" "), r.body...)}, clk.now(), false},
		{"timestamp changed", e.Secret, received{r.id, strconv.FormatInt(clk.now().Unix()+1, 10), r.signature, r.body}, clk.now(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verifyLikeTheDocs(tt.secret, tt.r, tt.now)
			if (err == nil) != tt.ok {
				t.Errorf("snippet: got %v, want ok=%v", err, tt.ok)
			}
			err = webhook.Verify(tt.secret, tt.r.timestamp, tt.r.signature, tt.r.body, tt.now, webhook.DefaultTolerance)
			if (err == nil) != tt.ok {
				t.Errorf("Verify: got %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestRetriedUntilDelivered(t *testing.T) {
	ctx := t.Context()
	store := openStore(t)
	clk := &clock{t: t0}
	rc := newReceiver(t, http.StatusInternalServerError, http.StatusServiceUnavailable)
	e := register(t, store, clk.now, rc.URL, webhook.TypeOrderCreated)
	ev := orderEvent(t, souq.EventOrderCompleted, clk.now(), "prd_1", 1)
	if err := webhook.NewFeed(nil, store, nil, 5, nil).Handle(ctx, []souq.Event{ev}); err != nil {
		t.Fatal(err)
	}
	w := webhook.NewWorker(store, webhook.WorkerOptions{Now: clk.now, Jitter: func() float64 { return 0.5 }})

	pass(t, w, ctx)
	d := deliveriesOf(t, store, e.ID)[0]
	// The first retry waits 30 s drawn between half and all of it: 22.5 s here.
	if d.Status != webhook.StatusPending || d.Attempts != 1 || d.LastStatus != 500 || !d.NextAttemptAt.Equal(t0.Add(22500*time.Millisecond)) {
		t.Fatalf("after a 500: got %s, %d attempts, last %d, next %v; want pending, 1, 500, %v",
			d.Status, d.Attempts, d.LastStatus, d.NextAttemptAt, t0.Add(22500*time.Millisecond))
	}
	if n := pass(t, w, ctx); n != 0 {
		t.Fatalf("a pass before the retry is due claimed %d, want 0", n)
	}
	clk.add(23 * time.Second)
	pass(t, w, ctx) // 503: the second wait is 60 s drawn, 45 s here
	d = deliveriesOf(t, store, e.ID)[0]
	if d.Attempts != 2 || d.LastStatus != 503 || !d.NextAttemptAt.Equal(clk.now().Add(45*time.Second)) {
		t.Fatalf("after a 503: got %d attempts, last %d, next %v; want 2, 503, %v", d.Attempts, d.LastStatus, d.NextAttemptAt, clk.now().Add(45*time.Second))
	}
	clk.add(45 * time.Second)
	pass(t, w, ctx)
	d = deliveriesOf(t, store, e.ID)[0]
	if d.Status != webhook.StatusDelivered || d.Attempts != 3 || d.LastStatus != 200 || d.LastError != "" || !d.DeliveredAt.Equal(clk.now()) {
		t.Fatalf("after a 200: got %s, %d attempts, last %d %q, delivered %v; want delivered, 3, 200, at %v",
			d.Status, d.Attempts, d.LastStatus, d.LastError, d.DeliveredAt, clk.now())
	}
	got := rc.requests()
	if len(got) != 3 || got[0].id != got[2].id || string(got[0].body) != string(got[2].body) {
		t.Errorf("receiver got %d requests; want 3 with the same id and body", len(got))
	}
	if s := w.Stats(); s != (webhook.Stats{Delivered: 1, Retried: 2}) {
		t.Errorf("stats: got %+v, want 1 delivered, 2 retried", s)
	}
	if n, _, err := store.PendingWebhookDeliveries(ctx); err != nil || n != 0 {
		t.Errorf("pending: got %d, %v; want 0", n, err)
	}
}

func TestFailedAfterADay(t *testing.T) {
	ctx := t.Context()
	store := openStore(t)
	clk := &clock{t: t0}
	rc := newReceiver(t, repeat(http.StatusBadGateway, 100)...)
	e := register(t, store, clk.now, rc.URL, webhook.TypeOrderCreated)
	if err := webhook.NewFeed(nil, store, nil, 5, nil).Handle(ctx, []souq.Event{orderEvent(t, souq.EventOrderCompleted, t0, "prd_1", 1)}); err != nil {
		t.Fatal(err)
	}
	w := webhook.NewWorker(store, webhook.WorkerOptions{Now: clk.now, Jitter: func() float64 { return 0.99 }})
	var d webhook.Delivery
	for range 60 {
		pass(t, w, ctx)
		if d = deliveriesOf(t, store, e.ID)[0]; d.Status != webhook.StatusPending {
			break
		}
		if d.NextAttemptAt.Sub(t0) > webhook.MaxAge {
			t.Fatalf("retry scheduled at %v, more than a day after the event", d.NextAttemptAt)
		}
		clk.t = d.NextAttemptAt
	}
	if d.Status != webhook.StatusFailed || d.LastStatus != http.StatusBadGateway {
		t.Fatalf("got %s after %d attempts (last %d), want failed", d.Status, d.Attempts, d.LastStatus)
	}
	if d.Attempts < 20 || clk.now().Sub(t0) < 23*time.Hour {
		t.Errorf("failed after %d attempts over %v; want retries for about a day", d.Attempts, clk.now().Sub(t0))
	}
	if s := w.Stats(); s.Failed != 1 || s.Delivered != 0 {
		t.Errorf("stats: got %+v, want 1 failed", s)
	}
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestRedeliveredEventMakesNoSecondDelivery(t *testing.T) {
	ctx := t.Context()
	store := openStore(t)
	clk := &clock{t: t0}
	created := register(t, store, clk.now, "https://erp.example.ae/hooks", webhook.TypeOrderCreated, webhook.TypeOrderCancelled)
	cancelled := register(t, store, clk.now, "https://sms.example.ae/hooks", webhook.TypeOrderCancelled)
	clk.add(time.Minute)
	feed := webhook.NewFeed(nil, store, nil, 5, nil)
	done := orderEvent(t, souq.EventOrderCompleted, clk.now(), "prd_1", 1)
	cancel := orderEvent(t, souq.EventOrderCancelled, clk.now(), "prd_1", 1)
	view := souq.Event{MessageID: "evt_view", Type: "track", Event: "Product Viewed", Timestamp: clk.now()}
	for range 2 { // the stream delivers the batch again
		if err := feed.Handle(ctx, []souq.Event{view, done, cancel}); err != nil {
			t.Fatal(err)
		}
	}
	types := func(id souq.ID) map[string]int {
		out := map[string]int{}
		for _, d := range deliveriesOf(t, store, id) {
			out[d.EventType]++
		}
		return out
	}
	if got := types(created.ID); got[webhook.TypeOrderCreated] != 1 || got[webhook.TypeOrderCancelled] != 1 || len(got) != 2 {
		t.Errorf("ERP endpoint's deliveries: got %v, want one order.created and one order.cancelled", got)
	}
	if got := types(cancelled.ID); got[webhook.TypeOrderCancelled] != 1 || len(got) != 1 {
		t.Errorf("SMS endpoint's deliveries: got %v, want one order.cancelled", got)
	}
	// An endpoint registered after an event does not get it.
	late := register(t, store, clk.now, "https://late.example.ae/hooks", webhook.TypeOrderCreated)
	old := orderEvent(t, souq.EventOrderCompleted, t0, "prd_1", 1)
	if err := feed.Handle(ctx, []souq.Event{old}); err != nil {
		t.Fatal(err)
	}
	if got := deliveriesOf(t, store, late.ID); len(got) != 0 {
		t.Errorf("endpoint registered after the event: got %d deliveries, want 0", len(got))
	}
}

func TestStockLowOncePerCrossing(t *testing.T) {
	ctx := t.Context()
	store := openStore(t)
	clk := &clock{t: t0}
	e := register(t, store, clk.now, "https://wms.example.ae/hooks", webhook.TypeStockLow)
	clk.add(time.Minute)
	levels := stocks{"prd_1": 10}
	feed := webhook.NewFeed(nil, store, levels, 5, nil)
	order := func(stock int) {
		t.Helper()
		levels["prd_1"] = stock
		clk.add(time.Second)
		if err := feed.Handle(ctx, []souq.Event{orderEvent(t, souq.EventOrderCompleted, clk.now(), "prd_1", 1)}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int { return len(deliveriesOf(t, store, e.ID)) }
	steps := []struct {
		stock int
		want  int // stock.low deliveries so far
	}{
		{9, 0}, {6, 0},
		{5, 1}, // at the threshold: crossed
		{4, 1}, {0, 1},
		{40, 1}, // restocked: rearmed
		{3, 2},  // crossed again
	}
	for _, s := range steps {
		order(s.stock)
		if got := count(); got != s.want {
			t.Fatalf("after an order leaving %d: got %d stock.low deliveries, want %d", s.stock, got, s.want)
		}
	}
	var data webhook.StockLowData
	var body struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(deliveriesOf(t, store, e.ID)[0].Payload, &body); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body.Data, &data); err != nil {
		t.Fatal(err)
	}
	if body.Type != webhook.TypeStockLow || data != (webhook.StockLowData{ProductID: "prd_1", SKU: "SKU-prd_1", Name: "Rose water", Stock: 3, Threshold: 5, OrderID: "ord_1"}) {
		t.Errorf("stock.low: got %s %+v", body.Type, data)
	}
}

func TestWorkerStoppedMidDelivery(t *testing.T) {
	store := openStore(t)
	clk := &clock{t: t0}
	rc := newReceiver(t)
	rc.hold = true
	e := register(t, store, clk.now, rc.URL, webhook.TypeOrderCreated)
	if err := webhook.NewFeed(nil, store, nil, 5, nil).Handle(t.Context(), []souq.Event{orderEvent(t, souq.EventOrderCompleted, t0, "prd_1", 1)}); err != nil {
		t.Fatal(err)
	}
	first := webhook.NewWorker(store, webhook.WorkerOptions{Now: clk.now})
	ctx, stop := context.WithCancel(t.Context())
	passed := make(chan error, 1)
	go func() { _, err := first.Pass(ctx); passed <- err }()
	select {
	case <-rc.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the receiver got no request within 10 s")
	}
	stop() // the worker dies while the receiver holds the request
	select {
	case <-passed:
	case <-time.After(10 * time.Second):
		t.Fatal("Pass did not return within 10 s of its context ending")
	}
	d := deliveriesOf(t, store, e.ID)[0]
	if d.Status != webhook.StatusPending || d.Attempts != 0 {
		t.Fatalf("after the worker stopped: got %s with %d attempts, want pending with 0", d.Status, d.Attempts)
	}
	second := webhook.NewWorker(store, webhook.WorkerOptions{Now: clk.now})
	if n := pass(t, second, t.Context()); n != 0 {
		t.Fatalf("another worker claimed %d while the first one's claim holds, want 0", n)
	}
	clk.add(second.Lease())
	if n := pass(t, second, t.Context()); n != 1 {
		t.Fatalf("after the claim lapsed another worker claimed %d, want 1", n)
	}
	d = deliveriesOf(t, store, e.ID)[0]
	if d.Status != webhook.StatusDelivered || d.Attempts != 1 {
		t.Fatalf("after the second worker: got %s with %d attempts, want delivered with 1", d.Status, d.Attempts)
	}
	if got := rc.requests(); len(got) != 2 || got[0].id != got[1].id {
		t.Errorf("receiver got %d requests, want 2 with the same %s", len(got), webhook.HeaderID)
	}
}

func TestRegisterRejects(t *testing.T) {
	store := openStore(t)
	svc := webhook.NewService(store, func() time.Time { return t0 })
	tests := []struct {
		name  string
		in    webhook.EndpointInput
		field string
	}{
		{"no url", webhook.EndpointInput{Events: []string{"order.created"}}, "url"},
		{"ftp", webhook.EndpointInput{URL: "ftp://erp.example.ae/x", Events: []string{"order.created"}}, "url"},
		{"file", webhook.EndpointInput{URL: "file:///etc/passwd", Events: []string{"order.created"}}, "url"},
		{"plain http elsewhere", webhook.EndpointInput{URL: "http://erp.example.ae/x", Events: []string{"order.created"}}, "url"},
		{"relative", webhook.EndpointInput{URL: "/hooks", Events: []string{"order.created"}}, "url"},
		{"credentials", webhook.EndpointInput{URL: "https://u:p@erp.example.ae/x", Events: []string{"order.created"}}, "url"},
		{"no events", webhook.EndpointInput{URL: "https://erp.example.ae/x"}, "events"},
		{"unknown event", webhook.EndpointInput{URL: "https://erp.example.ae/x", Events: []string{"order.shipped"}}, "events"},
		{"short secret", webhook.EndpointInput{URL: "https://erp.example.ae/x", Events: []string{"stock.low"}, Secret: "short"}, "secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.Register(t.Context(), tt.in)
			var e *souq.Error
			if !errors.As(err, &e) || !errors.Is(err, souq.ErrInvalid) || len(e.Fields) == 0 || e.Fields[0].Field != tt.field {
				t.Fatalf("got %v, want an ErrInvalid naming %s", err, tt.field)
			}
		})
	}
	for _, ok := range []string{"https://erp.example.ae/hooks?k=1", "http://127.0.0.1:8081/x", "http://localhost/x", "http://[::1]:9/x"} {
		e, err := svc.Register(t.Context(), webhook.EndpointInput{URL: ok, Events: []string{"stock.low", "order.created", "stock.low"}})
		if err != nil {
			t.Errorf("register %s: %v", ok, err)
			continue
		}
		if len(e.Secret) < 30 || e.Events[0] != "order.created" || len(e.Events) != 2 {
			t.Errorf("register %s: got secret of %d characters and events %v; want a generated secret and [order.created stock.low]", ok, len(e.Secret), e.Events)
		}
	}
}

// TestStockLowForLateSubscriber: a product found low while no endpoint
// wants stock.low is not marked, so an endpoint registered afterwards
// hears of the next order that finds it low.
func TestStockLowForLateSubscriber(t *testing.T) {
	ctx := t.Context()
	store := openStore(t)
	clk := &clock{t: t0}
	register(t, store, clk.now, "https://erp.example.ae/hooks", webhook.TypeOrderCreated)
	levels := stocks{"prd_1": 2}
	feed := webhook.NewFeed(nil, store, levels, 5, nil)
	clk.add(time.Minute)
	if err := feed.Handle(ctx, []souq.Event{orderEvent(t, souq.EventOrderCompleted, clk.now(), "prd_1", 1)}); err != nil {
		t.Fatal(err)
	}
	wms := register(t, store, clk.now, "https://wms.example.ae/hooks", webhook.TypeStockLow)
	clk.add(time.Minute)
	levels["prd_1"] = 1
	if err := feed.Handle(ctx, []souq.Event{orderEvent(t, souq.EventOrderCompleted, clk.now(), "prd_1", 1)}); err != nil {
		t.Fatal(err)
	}
	if got := deliveriesOf(t, store, wms.ID); len(got) != 1 || got[0].EventType != webhook.TypeStockLow {
		t.Fatalf("late stock.low subscriber: got %d deliveries, want one stock.low", len(got))
	}
}

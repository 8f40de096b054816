package collector

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/souq"
)

const testKey = "wk_test_souq"

var testNow = time.Date(2026, 11, 27, 18, 0, 0, 0, time.UTC)

// recordingPublisher keeps what it was given; it can fail every call or
// the events with chosen messageIds.
type recordingPublisher struct {
	mu        sync.Mutex
	events    []souq.Event
	calls     int
	failCall  error
	failEvent map[string]error
}

func (p *recordingPublisher) PublishBatch(_ context.Context, evs []souq.Event) ([]error, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.failCall != nil {
		return nil, p.failCall
	}
	var errs []error
	for i, ev := range evs {
		if err := p.failEvent[ev.MessageID]; err != nil {
			if errs == nil {
				errs = make([]error, len(evs))
			}
			errs[i] = err
			continue
		}
		p.events = append(p.events, ev)
	}
	return errs, nil
}

type deadLetter struct {
	Reason string
	Raw    string
}

type recordingDeadLetters struct {
	mu      sync.Mutex
	letters []deadLetter
	fail    error
}

func (d *recordingDeadLetters) DeadLetter(_ context.Context, reason string, raw []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return d.fail
	}
	d.letters = append(d.letters, deadLetter{reason, string(raw)})
	return nil
}

// fixture is a collector behind a mux built from its routes, with a clock
// the test can move.
type fixture struct {
	pub      *recordingPublisher
	dead     *recordingDeadLetters
	registry *prometheus.Registry
	mux      *http.ServeMux
	c        *Collector

	mu  sync.Mutex
	now time.Time
}

func newFixture(t testing.TB, edit func(*Deps)) *fixture {
	t.Helper()
	f := &fixture{pub: &recordingPublisher{}, dead: &recordingDeadLetters{}, registry: prometheus.NewRegistry(), now: testNow}
	d := Deps{Publisher: f.pub, DeadLetters: f.dead, WriteKeys: []string{testKey}, Now: f.clock, Registry: f.registry}
	if edit != nil {
		edit(&d)
	}
	f.c = New(d)
	f.mux = http.NewServeMux()
	for _, rt := range f.c.Routes() {
		f.mux.Handle(rt.Pattern, rt.Handler)
	}
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

// post sends body to path with the test write key (unless headers replace
// Authorization) and returns the recorded answer.
func (f *fixture) post(t testing.TB, path string, body []byte, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", basic(testKey+":"))
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, req)
	return rec
}

func basic(cred string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(cred))
}

// msg is a message under construction.
type msg map[string]any

func track(id, event string, props map[string]any) msg {
	return msg{"type": "track", "messageId": id, "anonymousId": "anon-1", "event": event, "properties": props,
		"timestamp": "2026-11-27T17:59:00Z"}
}

func page(id, name string) msg {
	return msg{"type": "page", "messageId": id, "userId": "user-7", "name": name,
		"properties": map[string]any{"path": "/products/prd_a", "title": name}, "timestamp": "2026-11-27T17:58:00Z"}
}

func identify(id string) msg {
	return msg{"type": "identify", "messageId": id, "userId": "user-7", "traits": map[string]any{"email": "mariam@example.ae"}}
}

func (m msg) with(kv ...any) msg {
	out := msg{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func viewed(id string) msg {
	return track(id, "Product Viewed", map[string]any{"product_id": "prd_a", "sku": "SK-1", "price": 89.5, "currency": "AED"})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}

func batchBody(t testing.TB, msgs ...any) []byte {
	t.Helper()
	return mustJSON(t, map[string]any{"batch": msgs})
}

func decodeResponse(t testing.TB, rec *httptest.ResponseRecorder) batchResponse {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200; body %s", rec.Code, rec.Body)
	}
	var resp batchResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("decode response %s: %v", rec.Body, err)
	}
	return resp
}

// problem is what the tests read of a problem document.
type problem struct {
	Type     string          `json:"type"`
	Title    string          `json:"title"`
	Status   int             `json:"status"`
	Detail   string          `json:"detail"`
	Instance string          `json:"instance"`
	Errors   []rejectedEvent `json:"errors"`
}

func decodeProblem(t testing.TB, rec *httptest.ResponseRecorder, status int) problem {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status: got %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type: got %q, want application/problem+json", ct)
	}
	var p problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("decode problem %s: %v", rec.Body, err)
	}
	if p.Status != status || p.Detail == "" {
		t.Fatalf("problem: got status %d detail %q, want status %d and a detail", p.Status, p.Detail, status)
	}
	return p
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func identifies(prefix string, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = identify(fmt.Sprint(prefix, i))
	}
	return out
}

// eventsTotal reads souq_collector_events_total{result, reason}.
func eventsTotal(t testing.TB, f *fixture, result, reason string) float64 {
	t.Helper()
	families, err := f.registry.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	for _, fam := range families {
		if fam.GetName() != "souq_collector_events_total" {
			continue
		}
		for _, m := range fam.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["result"] == result && labels["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// histogramCount reads the number of observations of a histogram.
func histogramCount(t testing.TB, f *fixture, name string) uint64 {
	t.Helper()
	families, err := f.registry.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	for _, fam := range families {
		if fam.GetName() == name && len(fam.GetMetric()) == 1 {
			return fam.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	return 0
}

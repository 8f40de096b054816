package loadgen

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Steps are the kinds of request a session sends, by what it asks of the
// shop.
var Steps = []string{"browse", "search", "product", "sale", "cart.create", "cart.add", "cart.view", "checkout", "queue.join", "queue.poll", "events", "other"}

func isStep(s string) bool { return slices.Contains(Steps, s) }

// stepOf names the step of a request.
func stepOf(r *http.Request) string {
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case p == "/v1/batch":
		return "events"
	case p == "/api/v1/products" && r.URL.Query().Get("q") != "":
		return "search"
	case p == "/api/v1/products":
		return "browse"
	case strings.HasPrefix(p, "/api/v1/products/"):
		return "product"
	case p == "/api/v1/sales/current":
		return "sale"
	case p == "/api/v1/carts" && r.Method == http.MethodPost:
		return "cart.create"
	case strings.HasPrefix(p, "/api/v1/carts/") && strings.HasSuffix(p, "/items"):
		return "cart.add"
	case strings.HasPrefix(p, "/api/v1/carts/") && r.Method == http.MethodGet:
		return "cart.view"
	case p == "/api/v1/orders" && r.Method == http.MethodPost:
		return "checkout"
	case p == "/api/v1/queue" && r.Method == http.MethodPost:
		return "queue.join"
	case strings.HasPrefix(p, "/api/v1/queue/"):
		return "queue.poll" // held by the shop until the place's news changes
	}
	return "other"
}

// Latencies are recorded in microseconds from 1 µs to 5 minutes, to 3
// significant digits.
const (
	histMin    = 1
	histMax    = int64(5 * time.Minute / time.Microsecond)
	histDigits = 3
)

// stepStats is what one step's requests did.
type stepStats struct {
	mu     sync.Mutex
	hist   *hdrhistogram.Histogram
	codes  map[int]int64 // 0: no answer (a transport error or a timeout)
	failed int64         // no answer, or a 5xx
}

// failedCode reports whether a request with this outcome failed: no
// answer (0) or a 5xx.
func failedCode(code int) bool { return code == 0 || code >= 500 }

func newStepStats() *stepStats {
	return &stepStats{hist: hdrhistogram.New(histMin, histMax, histDigits), codes: map[int]int64{}}
}

func (s *stepStats) record(d time.Duration, code int) {
	us := max(histMin, min(histMax, d.Microseconds()))
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.hist.RecordValue(us) // in range: clamped above
	s.codes[code]++
	if failedCode(code) {
		s.failed++
	}
}

func (s *stepStats) quantile(p float64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Duration(s.hist.ValueAtQuantile(p)) * time.Microsecond
}

// recorder gathers every request's outcome: per step, over all steps, and
// per second of the run.
type recorder struct {
	start time.Time
	steps map[string]*stepStats
	all   *stepStats
	lag   *stepStats // how late sessions started after their arrival time
	queue *stepStats // how long sessions sent to the waiting room waited there

	mu      sync.Mutex
	seconds []second
	latency []*hdrhistogram.Histogram // per second, to 2 significant digits

	requests atomic.Int64
	failures atomic.Int64
	metrics  *metrics // nil: none; set before the first request
}

// second is what one second of the run saw: requests ended in it, and
// their latencies' percentiles, in milliseconds.
type second struct {
	Requests int64   `json:"requests"`
	Failed   int64   `json:"failed"`
	Arrivals int64   `json:"arrivals"`
	Dropped  int64   `json:"not_started"`
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
	// QueueExits counts sessions that left the waiting room this second
	// (admitted, told "sold out", or giving up), QueueWaitMax the longest
	// wait among them, in seconds.
	QueueExits   int64   `json:"queue_exits,omitempty"`
	QueueWaitMax float64 `json:"queue_wait_max_s,omitempty"`
}

func newRecorder(start time.Time) *recorder {
	r := &recorder{start: start, steps: map[string]*stepStats{}, all: newStepStats(), lag: newStepStats(), queue: newStepStats()}
	for _, s := range Steps {
		r.steps[s] = newStepStats()
	}
	return r
}

// at applies change to the second of the run t falls in, growing the
// series.
func (r *recorder) at(t time.Time, change func(*second)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	change(&r.seconds[r.slot(t)])
}

// slot returns the index of the second t falls in, growing the series;
// the caller holds r.mu.
func (r *recorder) slot(t time.Time) int {
	i := max(0, int(t.Sub(r.start)/time.Second))
	for len(r.seconds) <= i {
		r.seconds = append(r.seconds, second{})
		r.latency = append(r.latency, nil)
	}
	return i
}

func (r *recorder) request(step string, began, ended time.Time, code int) {
	d := ended.Sub(began)
	r.steps[step].record(d, code)
	r.all.record(d, code)
	r.requests.Add(1)
	if r.metrics != nil {
		r.metrics.request(step, d, code)
	}
	failed := failedCode(code)
	if failed {
		r.failures.Add(1)
	}
	us := max(histMin, min(histMax, d.Microseconds()))
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.slot(ended)
	r.seconds[i].Requests++
	if failed {
		r.seconds[i].Failed++
	}
	if r.latency[i] == nil {
		r.latency[i] = hdrhistogram.New(histMin, histMax, 2)
	}
	_ = r.latency[i].RecordValue(us) // in range: clamped
}

// series returns the seconds of the run with their latency percentiles.
func (r *recorder) series() []second {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]second(nil), r.seconds...)
	for i, h := range r.latency {
		if h != nil && i < len(out) {
			out[i].P50 = float64(h.ValueAtQuantile(50)) / 1000
			out[i].P99 = float64(h.ValueAtQuantile(99)) / 1000
			out[i].Max = float64(h.Max()) / 1000
		}
	}
	return out
}

// sessionClock carries a session's arrival time to its first request, so
// that a session started late counts the delay in that request's latency
// (no coordinated omission).
type sessionClock struct {
	arrival time.Time
	used    atomic.Bool
}

type clockKey struct{}

// withArrival marks ctx as a session's that should have started at t.
func withArrival(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, clockKey{}, &sessionClock{arrival: t})
}

// transport records every request's step, latency (to the end of its
// body) and status.
type transport struct {
	next   http.RoundTripper
	rec    *recorder
	now    func() time.Time
	orders *orderLog // the orders named in checkout answers, for the audit
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	began := t.now()
	if c, ok := req.Context().Value(clockKey{}).(*sessionClock); ok && c.used.CompareAndSwap(false, true) && c.arrival.Before(began) {
		began = c.arrival
	}
	step := stepOf(req)
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		if !errors.Is(req.Context().Err(), context.Canceled) { // the run stopping is not the shop's failure
			t.rec.request(step, began, t.now(), 0)
		}
		return nil, err
	}
	if step == "checkout" && resp.StatusCode == http.StatusCreated && t.orders != nil {
		t.orders.capture(req.Header.Get("Idempotency-Key"), resp)
	}
	resp.Body = &timedBody{ReadCloser: resp.Body, done: func() { t.rec.request(step, began, t.now(), resp.StatusCode) }}
	return resp, nil
}

// timedBody calls done once, when the body is read to its end or closed.
type timedBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(b.done)
	}
	return n, err
}

func (b *timedBody) Close() error {
	b.once.Do(b.done)
	return b.ReadCloser.Close()
}

// statusText names a status count's code: "201", or "no answer".
func statusText(code int) string {
	if code == 0 {
		return "no answer"
	}
	return strconv.Itoa(code)
}

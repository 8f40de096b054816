package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLimiterBuckets(t *testing.T) {
	l := newLimiter(100, 1000) // refills in 10 s; idle after 11 s
	l.cap = 2
	steps := []struct {
		name    string
		at      time.Duration
		key     int
		ip      string
		n       int
		ok      bool
		retry   time.Duration
		clients int
	}{
		{"first client", 0, 0, "a", 1000, true, 0, 1},
		{"first client again: empty", 0, 0, "a", 1, false, 10 * time.Millisecond, 1},
		{"same IP, other key", 0, 1, "a", 1000, true, 0, 2},
		{"table full: shared bucket for key 0", 0, 0, "b", 1000, true, 0, 2},
		{"table full: shared bucket is empty", 0, 0, "c", 500, false, 5 * time.Second, 2},
		{"after a sweep, idle buckets are gone", time.Minute, 0, "d", 1000, true, 0, 1},
		{"the swept client starts full", time.Minute, 0, "a", 1000, true, 0, 2},
	}
	start := time.Date(2026, 11, 27, 18, 0, 0, 0, time.UTC)
	for _, s := range steps {
		ok, retry := l.allow(s.key, s.ip, s.n, start.Add(s.at))
		if ok != s.ok || retry != s.retry || len(l.clients) != s.clients {
			t.Fatalf("%s: got ok %v retry %v clients %d, want %v, %v, %d", s.name, ok, retry, len(l.clients), s.ok, s.retry, s.clients)
		}
	}
}

func TestLimiterDefaults(t *testing.T) {
	tests := []struct {
		rate      float64
		burst     int
		wantRate  float64
		wantBurst int
	}{
		{0, 0, DefaultRatePerSecond, DefaultBurst},
		{50, 10, 50, MaxBatchEvents}, // a full batch must fit
		{50, 5000, 50, 5000},
	}
	for _, tt := range tests {
		l := newLimiter(tt.rate, tt.burst)
		if float64(l.rate) != tt.wantRate || l.burst != tt.wantBurst {
			t.Errorf("newLimiter(%v, %d): got rate %v burst %d, want %v and %d", tt.rate, tt.burst, l.rate, l.burst, tt.wantRate, tt.wantBurst)
		}
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "1", time.Millisecond: "1", time.Second: "1", 1500 * time.Millisecond: "2", 20 * time.Second: "20"} {
		if got := retryAfterSeconds(d); got != want {
			t.Errorf("retryAfterSeconds(%v): got %q, want %q", d, got, want)
		}
	}
}

// fakeLimiter is a shared limiter that answers as told and records what
// it was asked.
type fakeLimiter struct {
	mu    sync.Mutex
	ok    bool
	wait  time.Duration
	err   error
	calls []string // "client n"
}

func (l *fakeLimiter) Allow(ctx context.Context, client string, n int, now time.Time) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, fmt.Sprintf("%s %d", client, n))
	if _, ok := ctx.Deadline(); !ok {
		return false, 0, errors.New("no deadline on the shared limiter's context")
	}
	return l.ok, l.wait, l.err
}

// logCount counts log records at or above a level.
type logCount struct {
	mu sync.Mutex
	n  int
}

func (h *logCount) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h *logCount) Handle(context.Context, slog.Record) error {
	h.mu.Lock()
	h.n++
	h.mu.Unlock()
	return nil
}
func (h *logCount) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logCount) WithGroup(string) slog.Handler      { return h }

func TestSharedLimiterDecides(t *testing.T) {
	shared := &fakeLimiter{ok: true}
	// The in-process bucket alone would refuse the second request.
	f := newFixture(t, func(d *Deps) { d.Limiter, d.RatePerSecond, d.Burst = shared, 1, 1000 })
	decodeResponse(t, f.post(t, "/v1/batch", batchBody(t, identifies("a", 1000)...)))
	decodeResponse(t, f.post(t, "/v1/batch", batchBody(t, identifies("b", 1000)...)))
	if want := []string{"0|192.0.2.1 1000", "0|192.0.2.1 1000"}; !slices.Equal(shared.calls, want) {
		t.Fatalf("shared limiter asked %q, want %q", shared.calls, want)
	}

	shared.ok, shared.wait = false, 2200*time.Millisecond
	rec := f.post(t, "/v1/batch", batchBody(t, identifies("c", 3)...))
	p := decodeProblem(t, rec, http.StatusTooManyRequests)
	if got, reset := rec.Header().Get("Retry-After"), rec.Header().Get("X-RateLimit-Reset"); got != "3" || reset != "3" {
		t.Fatalf("Retry-After, X-RateLimit-Reset: got %q, %q, want 3 and 3", got, reset)
	}
	if !strings.HasSuffix(p.Type, "rate-limited") {
		t.Fatalf("problem type: got %q, want …rate-limited", p.Type)
	}
	if len(f.pub.events) != 2000 || len(f.dead.letters) != 0 {
		t.Fatalf("got %d published, %d dead-lettered, want 2000 and none from the refused request", len(f.pub.events), len(f.dead.letters))
	}
	if got := limiterErrors(t, f); got != 0 {
		t.Fatalf("souq_collector_limiter_errors_total: got %v, want 0", got)
	}
}

func TestSharedLimiterFailsOpenToLocalLimit(t *testing.T) {
	shared := &fakeLimiter{err: errors.New("redis: connection refused")}
	logs := &logCount{}
	f := newFixture(t, func(d *Deps) {
		d.Limiter, d.RatePerSecond, d.Burst, d.Log = shared, 10, 1000, slog.New(logs)
	})
	decodeResponse(t, f.post(t, "/v1/batch", batchBody(t, identifies("a", 600)...)))
	// The in-process bucket has 400 events left: 600 more wait 20 s.
	rec := f.post(t, "/v1/batch", batchBody(t, identifies("b", 600)...))
	decodeProblem(t, rec, http.StatusTooManyRequests)
	if got := rec.Header().Get("Retry-After"); got != "20" {
		t.Fatalf("Retry-After from the local limit: got %q, want 20", got)
	}
	if len(f.pub.events) != 600 {
		t.Fatalf("published: got %d, want 600", len(f.pub.events))
	}
	if got := limiterErrors(t, f); got != 2 {
		t.Fatalf("souq_collector_limiter_errors_total: got %v, want 2", got)
	}
	if logs.n != 1 {
		t.Fatalf("warnings logged: got %d, want 1 (at most one a minute)", logs.n)
	}

	f.advance(59 * time.Second)
	decodeResponse(t, f.post(t, "/v1/batch", batchBody(t, identifies("c", 1)...)))
	if logs.n != 1 {
		t.Fatalf("warnings logged within the minute: got %d, want 1", logs.n)
	}
	f.advance(2 * time.Second)
	decodeResponse(t, f.post(t, "/v1/batch", batchBody(t, identifies("d", 1)...)))
	if got := limiterErrors(t, f); got != 4 || logs.n != 2 {
		t.Fatalf("after a minute: got %v errors and %d warnings, want 4 and 2", got, logs.n)
	}

	// The shared limiter answers again: it decides, not the local bucket.
	shared.err, shared.ok = nil, true
	decodeResponse(t, f.post(t, "/v1/batch", batchBody(t, identifies("e", 1000)...)))
	if got := limiterErrors(t, f); got != 4 {
		t.Fatalf("souq_collector_limiter_errors_total: got %v, want still 4", got)
	}
}

// limiterErrors reads souq_collector_limiter_errors_total.
func limiterErrors(t testing.TB, f *fixture) float64 {
	t.Helper()
	families, err := f.registry.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	for _, fam := range families {
		if fam.GetName() == "souq_collector_limiter_errors_total" {
			return fam.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("souq_collector_limiter_errors_total is not registered")
	return 0
}

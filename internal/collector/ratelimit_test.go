package collector

import (
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

package redisstore

import (
	"errors"
	"testing"
	"time"
)

// newTestLimiter returns a Limiter on s under a fresh prefix whose keys
// are deleted when t ends.
func newTestLimiter(t *testing.T, s *Store, rate float64, burst int, prefix string) *Limiter {
	t.Helper()
	l, err := NewLimiter(s, rate, burst, prefix)
	if err != nil {
		t.Fatalf("NewLimiter: %v", err)
	}
	t.Cleanup(func() { deleteKeys(t, s, prefix+":*") })
	return l
}

type allowResult struct {
	ok    bool
	retry time.Duration
}

func allow(t *testing.T, l *Limiter, client string, n int) allowResult {
	t.Helper()
	// The caller's clock is not used: a wrong one changes nothing.
	ok, retry, err := l.Allow(t.Context(), client, n, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatalf("Allow(%s, %d): %v", client, n, err)
	}
	return allowResult{ok, retry}
}

func TestLimiter(t *testing.T) {
	s := openTest(t, Options{})
	const rate, burst = 2, 5 // one cell every 500 ms
	const interval = time.Second / rate
	l := newTestLimiter(t, s, rate, burst, randomPrefix())

	for i := range burst {
		if r := allow(t, l, "key1/10.0.0.1", 1); !r.ok {
			t.Fatalf("event %d of the burst: refused (retry after %v)", i+1, r.retry)
		}
	}
	first := allow(t, l, "key1/10.0.0.1", 1)
	if first.ok || first.retry <= 0 || first.retry > interval {
		t.Fatalf("after the burst: got %+v, want refused with a retry in (0, %v]", first, interval)
	}
	// A refused request takes nothing: asking again does not push the
	// allowance further away, and a bigger batch has longer to wait.
	if again := allow(t, l, "key1/10.0.0.1", 1); again.ok || again.retry > first.retry {
		t.Errorf("asking again: got %+v, want refused with a retry of at most %v", again, first.retry)
	}
	if batch := allow(t, l, "key1/10.0.0.1", burst); batch.ok || batch.retry <= first.retry+(burst-2)*interval {
		t.Errorf("a batch of %d: got %+v, want refused with a retry over %v", burst, batch, first.retry+(burst-2)*interval)
	}
	// Another client has its own allowance.
	if r := allow(t, l, "key1/10.0.0.2", burst); !r.ok {
		t.Errorf("another client's burst: refused (retry after %v)", r.retry)
	}
	// The key lives until the allowance is full again, no longer.
	ttl, err := s.client.PTTL(t.Context(), l.prefix+":key1/10.0.0.1").Result()
	if err != nil || ttl <= 0 || ttl > burst*interval+time.Millisecond {
		t.Errorf("key TTL: got %v, %v; want in (0, %v]", ttl, err, burst*interval)
	}

	// The allowance refills: wait as told until one event passes.
	deadline := time.Now().Add(5 * time.Second)
	for r := first; !r.ok; r = allow(t, l, "key1/10.0.0.1", 1) {
		if time.Now().After(deadline) {
			t.Fatalf("no refill after 5 s (last retry after %v)", r.retry)
		}
		time.Sleep(r.retry)
	}
}

// TestLimiterShared checks that two Limiters on two connections (two
// collector replicas) with one prefix share each client's allowance.
func TestLimiterShared(t *testing.T) {
	prefix := randomPrefix()
	sa := openTest(t, Options{})
	a := newTestLimiter(t, sa, 1, 3, prefix)
	b := newTestLimiter(t, openTest(t, Options{}), 1, 3, prefix)
	before := sa.RoundTrips()
	defer func() {
		want := before
		want.Limit += 2 // replica a asked twice, in one round trip each
		if got := sa.RoundTrips(); got != want {
			t.Errorf("replica a's round trips: got %+v, want %+v", got, want)
		}
	}()
	if r := allow(t, a, "c", 2); !r.ok {
		t.Fatalf("replica a, 2 events: refused")
	}
	if r := allow(t, b, "c", 2); r.ok {
		t.Errorf("replica b, 2 more events: allowed, want refused (3 a burst)")
	}
	if r := allow(t, b, "c", 1); !r.ok {
		t.Errorf("replica b, the third event: refused (retry after %v)", r.retry)
	}
	if r := allow(t, a, "c", 1); r.ok {
		t.Errorf("replica a, a fourth event: allowed, want refused")
	}
}

func TestLimiterArguments(t *testing.T) {
	s := openTest(t, Options{})
	for _, tt := range []struct {
		rate  float64
		burst int
	}{{0, 1}, {-1, 1}, {1, 0}} {
		if _, err := NewLimiter(s, tt.rate, tt.burst, ""); err == nil {
			t.Errorf("NewLimiter(rate %g, burst %d): got no error", tt.rate, tt.burst)
		}
	}
	l := newTestLimiter(t, s, 10, 4, randomPrefix())
	if _, _, err := l.Allow(t.Context(), "c", 5, time.Now()); !errors.Is(err, ErrOverBurst) {
		t.Errorf("Allow(5) with a burst of 4: got %v, want ErrOverBurst", err)
	}
	if _, _, err := l.Allow(t.Context(), "c", 0, time.Now()); err == nil {
		t.Errorf("Allow(0): got no error")
	}
}

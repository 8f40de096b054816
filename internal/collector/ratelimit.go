package collector

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter is a rate limit shared by collector replicas (the Redis one in
// internal/redisstore). Allow takes n events from client's allowance, or
// none and says how long until there will be enough. client names a write
// key (its index in Deps.WriteKeys) and a client IP: "0|203.0.113.9". An
// error means the limiter could not decide.
type Limiter interface {
	Allow(ctx context.Context, client string, n int, now time.Time) (ok bool, retryAfter time.Duration, err error)
}

// sharedLimiterTimeout bounds the wait for a shared limiter's answer; past
// it the request is held to the in-process limit.
const sharedLimiterTimeout = 250 * time.Millisecond

// allow takes n events from the client's allowance: from the shared
// limiter when there is one and it answers, else from the in-process
// bucket. It returns a 429 error when there are too few.
func (c *Collector) allow(ctx context.Context, key int, ip string, n int, now time.Time) error {
	if c.shared != nil {
		ctx, cancel := context.WithTimeout(ctx, sharedLimiterTimeout)
		ok, wait, err := c.shared.Allow(ctx, strconv.Itoa(key)+"|"+ip, n, now)
		cancel()
		switch {
		case err == nil && ok:
			return nil
		case err == nil:
			return &requestError{kind: errRateLimited, retryAfter: retryAfterSeconds(wait),
				detail: "too many events from this client; retry after the time in Retry-After"}
		}
		c.sharedFailed(now, err)
	}
	if ok, wait := c.limiter.allow(key, ip, n, now); !ok {
		return &requestError{kind: errRateLimited, retryAfter: retryAfterSeconds(wait),
			detail: fmt.Sprintf("too many events from this client (limit %g a second); retry after the time in Retry-After", float64(c.limiter.rate))}
	}
	return nil
}

// sharedFailed counts a shared limiter's failure and logs it, at most once
// a minute.
func (c *Collector) sharedFailed(now time.Time, err error) {
	c.metrics.limiterErrors.Inc()
	last := c.sharedLog.Load()
	if last != 0 && now.UnixNano()-last < int64(time.Minute) {
		return
	}
	if c.sharedLog.CompareAndSwap(last, now.UnixNano()) {
		c.log.Warn("shared rate limiter failed: holding clients to this collector's own limit (logged at most once a minute; see souq_collector_limiter_errors_total)", "err", err)
	}
}

// Default per-client limits: events per second and burst, per write key and
// client IP.
const (
	DefaultRatePerSecond = 2000
	DefaultBurst         = 4000
	// maxClients bounds the limiter table; beyond it, new clients share one
	// bucket per write key until idle entries are swept.
	maxClients = 1 << 20
	// sweepEvery is how often idle buckets are dropped.
	sweepEvery = time.Minute
)

// limiter is a token bucket per (write key, client IP), counting events.
// Buckets idle long enough to have refilled are dropped, since a fresh
// bucket is the same; the sweep runs inline, at most once a sweepEvery,
// under mu (no goroutine to stop).
type limiter struct {
	rate  rate.Limit
	burst int
	idle  time.Duration // time to refill an empty bucket
	cap   int           // most buckets kept (maxClients)

	mu        sync.Mutex
	clients   map[clientKey]*bucket
	overflow  map[int]*rate.Limiter
	lastSweep time.Time
}

type clientKey struct {
	key int // index of the write key
	ip  string
}

type bucket struct {
	lim      *rate.Limiter
	lastSeen time.Time
}

func newLimiter(perSecond float64, burst int) *limiter {
	if perSecond <= 0 {
		perSecond = DefaultRatePerSecond
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	burst = max(burst, MaxBatchEvents) // a full batch must be able to pass
	return &limiter{
		rate: rate.Limit(perSecond), burst: burst,
		idle: time.Duration(float64(burst)/perSecond*float64(time.Second)) + time.Second,
		cap:  maxClients, clients: map[clientKey]*bucket{}, overflow: map[int]*rate.Limiter{},
	}
}

// allow takes n tokens from the client's bucket. When there are too few it
// takes none and says how long until there will be enough.
func (l *limiter) allow(key int, ip string, n int, now time.Time) (ok bool, retryAfter time.Duration) {
	lim := l.bucket(clientKey{key, ip}, now)
	r := lim.ReserveN(now, n)
	if !r.OK() {
		return false, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// empty reports whether the client's bucket has less than one token: a
// cheap check before reading a body.
func (l *limiter) empty(key int, ip string, now time.Time) bool {
	return l.bucket(clientKey{key, ip}, now).TokensAt(now) < 1
}

func (l *limiter) bucket(k clientKey, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.sweep(now)
	}
	if b, ok := l.clients[k]; ok {
		b.lastSeen = now
		return b.lim
	}
	if len(l.clients) >= l.cap {
		lim, ok := l.overflow[k.key]
		if !ok {
			lim = rate.NewLimiter(l.rate, l.burst)
			l.overflow[k.key] = lim
		}
		return lim
	}
	b := &bucket{lim: rate.NewLimiter(l.rate, l.burst), lastSeen: now}
	l.clients[k] = b
	return b.lim
}

func (l *limiter) sweep(now time.Time) {
	l.lastSweep = now
	for k, b := range l.clients {
		if now.Sub(b.lastSeen) > l.idle {
			delete(l.clients, k)
		}
	}
}

// retryAfterSeconds formats a delay for the Retry-After header: whole
// seconds, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

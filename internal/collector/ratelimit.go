package collector

import (
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

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

// Package overload sheds load in front of the shop's HTTP server before it
// slows everyone down: an adaptive concurrency limit (how many requests
// may be in progress at once) that follows the server's measured latency,
// and request classes that are refused in order as the limit is reached —
// browsing and search first, then carts and joining the queue, and never
// the checkout and payment of shoppers the waiting room admitted.
package overload

import (
	"math"
	"sort"
	"sync"
	"time"
)

// Class is how much a request matters when the server is overloaded.
type Class int

// Classes, from the first shed to the last.
const (
	// Browse: listings, search, product and content pages, behaviour
	// events. Refused first.
	Browse Class = iota
	// Shop: carts and checkout pages, orders without an admission.
	Shop
	// Critical: admitted checkout, payment, payment webhooks and the
	// admin API. Never refused by the limit.
	Critical
	// Exempt: health, metrics and held requests (queue long polls, the
	// dashboard's event stream), which wait rather than work: neither
	// limited nor counted.
	Exempt
)

func (c Class) String() string {
	return [...]string{"browse", "shop", "critical", "exempt"}[c]
}

// Share of the limit each class may use: a request of the class is
// refused when the requests in progress have reached share × limit.
var share = [...]float64{Browse: 0.6, Shop: 0.9, Critical: math.Inf(1)}

// Config tunes the limit. Zero fields take the defaults.
type Config struct {
	// Initial, Min and Max bound the concurrency limit.
	Initial, Min, Max int
	// Tolerance is how far the recent latency may rise over the baseline
	// before the limit shrinks (2: twice the baseline).
	Tolerance float64
	// Window is how often the limit is recomputed (given enough samples).
	Window time.Duration
}

// Defaults of Config.
const (
	DefaultInitial   = 200
	DefaultMin       = 16
	DefaultMax       = 4000
	DefaultTolerance = 2.0
	DefaultWindow    = 250 * time.Millisecond
	minSamples       = 10
)

// Limiter is the adaptive concurrency limit, a gradient controller in the
// manner of Netflix's concurrency-limits "Gradient2":
//
//   - the baseline latency is a slow moving average of each window's
//     median latency (it follows the server's normal speed, drifting);
//   - each window, the gradient = clamp(Tolerance × baseline ÷ recent,
//     0.5, 1): 1 while recent latency is within the tolerance, smaller as
//     it grows beyond;
//   - the new limit = limit × gradient + √limit (the headroom that lets it
//     grow while latency holds), smoothed: 80% old, 20% new.
//
// Latency that rises because requests queue for the CPU or the database
// shrinks the limit until it stops rising; the requests refused are the
// lowest class first. Safe for concurrent use.
type Limiter struct {
	cfg Config

	mu       sync.Mutex
	limit    float64
	inFlight int
	baseline float64 // seconds; 0 until the first window
	samples  []float64
	from     time.Time
	shed     [3]int64 // by class
}

// New returns a limiter.
func New(cfg Config) *Limiter {
	if cfg.Min <= 0 {
		cfg.Min = DefaultMin
	}
	if cfg.Max <= 0 {
		cfg.Max = DefaultMax
	}
	if cfg.Initial <= 0 {
		cfg.Initial = DefaultInitial
	}
	cfg.Initial = min(max(cfg.Initial, cfg.Min), cfg.Max)
	if cfg.Tolerance < 1 {
		cfg.Tolerance = DefaultTolerance
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	return &Limiter{cfg: cfg, limit: float64(cfg.Initial)}
}

// Acquire asks to start a request of class c at now. It returns false
// when the request must be refused; otherwise the caller must call the
// returned function when the request ends.
func (l *Limiter) Acquire(c Class, now time.Time) (func(end time.Time), bool) {
	if c == Exempt {
		return func(time.Time) {}, true
	}
	l.mu.Lock()
	if float64(l.inFlight) >= share[c]*l.limit {
		l.shed[c]++
		l.mu.Unlock()
		return nil, false
	}
	l.inFlight++
	l.mu.Unlock()
	return func(end time.Time) { l.release(now, end) }, true
}

// release ends a request that started at start.
func (l *Limiter) release(start, end time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	l.samples = append(l.samples, end.Sub(start).Seconds())
	if l.from.IsZero() {
		l.from = end
	}
	if end.Sub(l.from) < l.cfg.Window || len(l.samples) < minSamples {
		return
	}
	l.update()
	l.samples, l.from = l.samples[:0], end
}

// update recomputes the limit from the window's samples; l.mu is held.
func (l *Limiter) update() {
	sort.Float64s(l.samples)
	recent := l.samples[len(l.samples)/2]
	if recent <= 0 {
		recent = 1e-6
	}
	if l.baseline == 0 {
		l.baseline = recent
	}
	gradient := min(1, max(0.5, l.cfg.Tolerance*l.baseline/recent))
	next := l.limit*gradient + math.Sqrt(l.limit)
	l.limit = min(float64(l.cfg.Max), max(float64(l.cfg.Min), 0.8*l.limit+0.2*next))
	// The baseline follows slowly, and never up while the server is over
	// its tolerance: a long overload must not become the new normal.
	if gradient == 1 {
		l.baseline = 0.95*l.baseline + 0.05*recent
	}
}

// Stats is the limiter's state.
type Stats struct {
	Limit    int
	InFlight int
	Baseline time.Duration
	// Shed counts refused requests by class (Browse, Shop, Critical).
	Shed [3]int64
}

// Stats returns the limiter's state now.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Stats{Limit: int(l.limit), InFlight: l.inFlight, Baseline: time.Duration(l.baseline * float64(time.Second)), Shed: l.shed}
}

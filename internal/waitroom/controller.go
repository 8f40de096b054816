package waitroom

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// ControllerConfig tunes the admission controller. Zero fields take the
// defaults below.
type ControllerConfig struct {
	// TargetP99 is the checkout latency the room protects: when the
	// checkout p99 of an interval is above it, the rate comes down.
	TargetP99 time.Duration
	// MaxErrorRatio is the share of checkouts that may fail (5xx or no
	// answer) in an interval before the rate comes down.
	MaxErrorRatio float64
	// MaxInFlight, when positive, is how many checkouts may be in progress
	// at once before the rate comes down.
	MaxInFlight int
	// Initial, Min and Max bound the admission rate, in shoppers per
	// second; Max is the operator's ceiling.
	Initial, Min, Max float64
	// Backoff multiplies the rate on overload.
	Backoff float64
}

// Controller defaults.
const (
	DefaultTargetP99     = 200 * time.Millisecond
	DefaultMaxErrorRatio = 0.01
	DefaultInitialRate   = 50
	DefaultMinRate       = 1
	DefaultMaxRate       = 1000
	DefaultBackoff       = 0.8
)

func (c ControllerConfig) withDefaults() ControllerConfig {
	if c.TargetP99 <= 0 {
		c.TargetP99 = DefaultTargetP99
	}
	if c.MaxErrorRatio <= 0 {
		c.MaxErrorRatio = DefaultMaxErrorRatio
	}
	if c.Min <= 0 {
		c.Min = DefaultMinRate
	}
	if c.Max <= 0 {
		c.Max = DefaultMaxRate
	}
	if c.Initial <= 0 {
		c.Initial = DefaultInitialRate
	}
	c.Initial = min(max(c.Initial, c.Min), c.Max)
	if c.Backoff <= 0 || c.Backoff >= 1 {
		c.Backoff = DefaultBackoff
	}
	return c
}

// Observation is what checkout did in one interval.
type Observation struct {
	Checkouts   int           // answered or failed
	Failures    int           // 5xx or no answer
	P99         time.Duration // of the answered and failed
	MaxInFlight int           // most in progress at once
}

// Overloaded reports whether the interval shows checkout beyond what it
// can serve under cfg.
func (o Observation) overloaded(cfg ControllerConfig) bool {
	if cfg.MaxInFlight > 0 && o.MaxInFlight > cfg.MaxInFlight {
		return true
	}
	if o.Checkouts == 0 {
		return false
	}
	return o.P99 > cfg.TargetP99 || float64(o.Failures) > cfg.MaxErrorRatio*float64(o.Checkouts)
}

// Controller sets the admission rate from what checkout does: additive
// increase, multiplicative decrease (AIMD), the rule TCP uses to find a
// link's capacity without knowing it. Each interval (a second) it is
// told what checkout did and whether the rate held shoppers back:
//
//   - checkout overloaded (p99 above the target, too many failures, or
//     too many in progress): the rate is multiplied by Backoff (0.8);
//   - otherwise, if shoppers were held back by the rate: it grows — by
//     half each interval until the first overload (slow start, to find
//     the capacity's order of magnitude within seconds), then by 5% (at
//     least one shopper a second) each interval;
//   - otherwise (no one waiting, or no checkout measured in the interval)
//     it stays: a rate no one needs, or one whose checkouts this process
//     did not see, is not evidence of capacity. A replica that serves the
//     queue but not checkout therefore never raises its rate on its own.
//
// The rate stays within [Min, Max]; Max is the operator's ceiling. An
// overload that is receding (p99 and in-flight lower than the interval
// before) holds the rate instead of cutting it again: admitted shoppers
// reach checkout seconds later, so the intervals right after a decrease
// still show the load from before it, and cutting on each of them would
// take the rate far below the capacity.
type Controller struct {
	mu        sync.Mutex
	cfg       ControllerConfig
	rate      float64
	slowStart bool
	// the last interval's figures, to tell a receding overload
	lastP99      time.Duration
	lastInFlight int
}

// NewController returns a controller at cfg.Initial.
func NewController(cfg ControllerConfig) *Controller {
	cfg = cfg.withDefaults()
	return &Controller{cfg: cfg, rate: cfg.Initial, slowStart: true}
}

// Rate returns the admission rate, in shoppers per second.
func (c *Controller) Rate() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rate
}

// Config returns the controller's settings, defaults applied.
func (c *Controller) Config() ControllerConfig { return c.cfg }

// Update takes one interval's observation; limited says whether shoppers
// were waiting that the rate did not admit. It returns the new rate.
func (c *Controller) Update(o Observation, limited bool) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	over := o.overloaded(c.cfg)
	improving := o.P99 < c.lastP99 && o.MaxInFlight <= c.lastInFlight
	switch {
	case over && improving:
		// Still overloaded, but less than the interval before: the last
		// decrease is working its way through (admitted shoppers reach
		// checkout seconds later); decreasing again would overshoot.
	case over:
		c.rate *= c.cfg.Backoff
		c.slowStart = false
	case !limited || o.Checkouts == 0:
		// No evidence: hold.
	case c.slowStart:
		c.rate *= 1.5
	default:
		c.rate += max(1, c.rate/20)
	}
	c.lastP99, c.lastInFlight = o.P99, o.MaxInFlight
	c.rate = min(max(c.rate, c.cfg.Min), c.cfg.Max)
	return c.rate
}

// Monitor measures checkout for the controller: wrap each checkout in
// Begin and the function it returns. Safe for concurrent use.
type Monitor struct {
	mu          sync.Mutex
	samples     []time.Duration // this interval's latencies, up to maxSamples
	seen        int             // checkouts this interval (may exceed len(samples))
	failures    int
	inFlight    int
	maxInFlight int
}

// maxSamples bounds the latencies kept per interval; beyond it every
// further one replaces a random kept one (reservoir sampling), so the p99
// stays an estimate over the whole interval.
const maxSamples = 4096

// Begin records a checkout starting at start; call the returned function
// when it ends, with whether it failed.
func (m *Monitor) Begin(start time.Time) func(end time.Time, failed bool) {
	m.mu.Lock()
	m.inFlight++
	m.maxInFlight = max(m.maxInFlight, m.inFlight)
	m.mu.Unlock()
	return func(end time.Time, failed bool) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.inFlight--
		m.seen++
		if failed {
			m.failures++
		}
		d := end.Sub(start)
		if len(m.samples) < maxSamples {
			m.samples = append(m.samples, d)
		} else if i := rand.IntN(m.seen); i < maxSamples {
			m.samples[i] = d
		}
	}
}

// Take returns the interval's observation and starts the next.
func (m *Monitor) Take() Observation {
	m.mu.Lock()
	defer m.mu.Unlock()
	o := Observation{Checkouts: m.seen, Failures: m.failures, MaxInFlight: m.maxInFlight}
	if n := len(m.samples); n > 0 {
		slices.Sort(m.samples)
		o.P99 = m.samples[min(n-1, n*99/100)]
	}
	m.samples, m.seen, m.failures, m.maxInFlight = m.samples[:0], 0, 0, m.inFlight
	return o
}

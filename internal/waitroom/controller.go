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
	// Delay is how long the checkouts took from their shoppers' admission
	// to their end (the p90; 0 when no admission time was known): the
	// dead time between a change of the rate and its effect measured.
	Delay time.Duration
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
	return o.P99 > cfg.TargetP99 || o.failing(cfg)
}

// failing reports whether the interval shows more failed checkouts, or
// more in progress at once, than cfg allows.
func (o Observation) failing(cfg ControllerConfig) bool {
	return cfg.MaxInFlight > 0 && o.MaxInFlight > cfg.MaxInFlight ||
		float64(o.Failures) > cfg.MaxErrorRatio*float64(o.Checkouts)
}

// Controller sets the admission rate from what checkout does: additive
// increase, multiplicative decrease (AIMD), the rule TCP uses to find a
// link's capacity without knowing it. Each interval (a second) it is
// told what checkout did and whether the rate held shoppers back:
//
//   - checkout overloaded (p99 above the target, too many failures, or
//     too many in progress): the rate is cut to Backoff (0.8) × the rate
//     the overloading checkouts were admitted at — unless the overload is
//     a spike: the p99 alone over the target, by at most twice it, right
//     after an interval with checkouts at most half the target (or in
//     the first interval with checkouts, which has none before it), and
//     at least spikeGap intervals after the last spike held. A queue
//     building shows in the p99 rising over intervals; a lone spike may
//     be a stall that has nothing to do with the load (a collection, a
//     CPU quota's throttling, a background job), so the rate holds, and
//     the next interval over the target is cut. Cutting on every spike
//     held a throttled replica's rate at a third of its capacity;
//   - otherwise, if shoppers were held back by the rate: it grows — by
//     half until the first overload (slow start, to find the capacity's
//     order of magnitude within seconds), then by 5% (at least one
//     shopper a second);
//   - otherwise (no one waiting, or no checkout measured in the interval)
//     it stays: a rate no one needs, or one whose checkouts this process
//     did not see, is not evidence of capacity. A replica that serves the
//     queue but not checkout therefore never raises its rate on its own.
//
// Admitted shoppers reach checkout a while after their admission (they
// hear of it, then order): the dead time, Observation.Delay. What
// checkout does in an interval is the effect of the rate one dead time
// earlier, so the controller keeps the rates of the last intervals and
// judges that one:
//
//   - growth is relative to the rate the measured checkouts were admitted
//     at, the one with evidence: a rate already 1.5× (slow start) or 5%
//     above it holds until checkouts at that rate are seen. Growth is
//     therefore by half, or 5%, per dead time, as TCP grows per round
//     trip; without this, the rate grew for seconds on checkouts of the
//     rate before, and a sale's start overran checkout several times over
//     before the first overload was measured;
//   - a cut is to Backoff × that rate (at least one interval back, even
//     with a dead time under half an interval), or × the orders checkout
//     served at full stretch over the orders per admitted shopper
//     measured, if lower (not below half that rate), and never raises the
//     rate: the intervals right after a cut still show the load from
//     before it and judge the rates before it, so they do not cut again
//     unless fewer orders are served; cutting on each of them would take
//     the rate far below the capacity. An overload that is receding (p99
//     down 5% or more, and no more in flight, than the interval before,
//     which was over too) holds the rate.
//
// The dead time is rounded to the nearest interval: with 300 ms, most of
// an interval's checkouts were admitted in it, and each healthy interval
// grows the rate.
//
// The rate stays within [Min, Max]; Max is the operator's ceiling.
type Controller struct {
	mu        sync.Mutex
	cfg       ControllerConfig
	rate      float64
	slowStart bool
	// the last interval's figures, to tell a receding overload or a
	// spike: its p99 and most in flight, whether it had checkouts, and
	// whether it was an overload (a spike held is not)
	lastP99      time.Duration
	lastInFlight int
	lastChecked  bool
	lastOver     bool
	sinceSpike   int  // intervals since the last spike held
	measured     bool // an interval with checkouts has been seen
	// rates are the rates of the last intervals, oldest first (at most
	// maxLag+1); delay is the last dead time measured.
	rates []float64
	delay time.Duration
	// conversion is the orders per admitted shopper measured in healthy
	// intervals (a moving average; 0 until one is measured).
	conversion float64
}

// maxLag bounds the dead time the controller allows for, in intervals.
const maxLag = 30

// spikeGap is how many intervals a spike held must be from the last one:
// spikes every other second are an overload, not stalls.
const spikeGap = 3

// NewController returns a controller at cfg.Initial.
func NewController(cfg ControllerConfig) *Controller {
	cfg = cfg.withDefaults()
	return &Controller{cfg: cfg, rate: cfg.Initial, slowStart: true, sinceSpike: spikeGap}
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
	c.rates = append(c.rates, c.rate)
	if len(c.rates) > maxLag+1 {
		c.rates = c.rates[len(c.rates)-maxLag-1:]
	}
	if o.Delay > 0 {
		// A moving average: one interval's few slow shoppers must not
		// swing the lag, and with it the rate judged, from second to
		// second.
		d := min(o.Delay, maxLag*time.Second)
		if c.delay == 0 {
			c.delay = d
		} else {
			c.delay += (d - c.delay) / 4
		}
	}
	// lag: intervals from the admissions to the checkouts measured now,
	// to the nearest: with a dead time of 300 ms, most of an interval's
	// checkouts were admitted in the same interval.
	lag := min(int((c.delay+time.Second/2)/time.Second), len(c.rates)-1)
	judged := c.rates[len(c.rates)-1-lag] // the rate those checkouts were admitted at
	over := o.overloaded(c.cfg)
	// A receding overload: still over, but clearly less than the
	// interval before, which was over too (not a spike held).
	improving := c.lastOver && float64(o.P99) < 0.95*float64(c.lastP99) && o.MaxInFlight <= c.lastInFlight
	// A spike: over the target only by its p99, by at most twice it,
	// straight after an interval with checkouts well under it (at most
	// half), and not within spikeGap intervals of the last spike held:
	// not a queue building, which shows in the p99 rising over the
	// intervals before, but maybe a stall that has nothing to do with the
	// load (a collection, a CPU quota's throttling, a background job).
	// The rate holds; the next interval over the target is cut.
	// The first interval with checkouts has nothing before it to tell:
	// it is taken as after a healthy one (a sale's first second is when
	// a cold checkout stalls), once.
	calm := c.lastChecked && c.lastP99 <= c.cfg.TargetP99/2 || !c.measured
	spike := over && calm && c.sinceSpike >= spikeGap && o.P99 <= 2*c.cfg.TargetP99 && !o.failing(c.cfg)
	c.measured = c.measured || o.Checkouts > 0
	c.sinceSpike++
	switch {
	case spike:
		c.sinceSpike = 0
	case over && improving:
		// The last cut is working its way through; cutting again would
		// overshoot.
	case over:
		// Cuts judge the rate at least one interval back, whatever the
		// dead time: the interval right after a cut still shows the
		// backlog from before it, and judging the cut rate would cut
		// again on it, compounding.
		at := c.rates[len(c.rates)-1-min(max(lag, 1), len(c.rates)-1)]
		cut := at * c.cfg.Backoff
		if ok := o.Checkouts - o.Failures; c.conversion > 0 && ok > 0 {
			// Checkout served ok orders at full stretch: shoppers who
			// would place Backoff × that many are below its capacity,
			// whatever it was before (no less than half the judged
			// rate, though: the count may be low for other reasons).
			cut = max(at/2, min(cut, c.cfg.Backoff*float64(ok)/c.conversion))
		}
		c.rate = min(c.rate, cut)
		c.slowStart = false
	case !limited || o.Checkouts == 0:
		// No evidence: hold.
	default:
		// A healthy interval with shoppers waiting: measure the orders
		// per admitted shopper (the share who buy), then grow.
		conv := float64(o.Checkouts) / judged
		if c.conversion == 0 {
			c.conversion = conv
		} else {
			c.conversion += (conv - c.conversion) / 4
		}
		// Slow start ends early when the p99 passes half the target:
		// the queue at checkout is building (HyStart's rule for TCP),
		// and half again would overrun it before the overload showed.
		c.slowStart = c.slowStart && o.P99 <= c.cfg.TargetP99/2
		if c.slowStart {
			c.rate = max(c.rate, min(c.rate, judged)*1.5)
		} else {
			c.rate = max(c.rate, min(c.rate, judged)+max(1, judged/20))
		}
	}
	c.lastP99, c.lastInFlight, c.lastChecked, c.lastOver = o.P99, o.MaxInFlight, o.Checkouts > 0, over && !spike
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
	delays      []time.Duration // admission to the end of checkout, up to maxSamples
	timed       int             // checkouts whose admission time was known
}

// maxSamples bounds the latencies kept per interval; beyond it every
// further one replaces a random kept one (reservoir sampling), so the p99
// stays an estimate over the whole interval.
const maxSamples = 4096

// Begin records a checkout starting at start, of a shopper admitted at
// admitted (zero: not known); call the returned function when it ends,
// with whether it failed.
func (m *Monitor) Begin(admitted, start time.Time) func(end time.Time, failed bool) {
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
		m.samples = reservoir(m.samples, m.seen, end.Sub(start))
		if !admitted.IsZero() && !end.Before(admitted) {
			m.timed++
			m.delays = reservoir(m.delays, m.timed, end.Sub(admitted))
		}
	}
}

// reservoir adds d, the seen-th value, to the values kept.
func reservoir(kept []time.Duration, seen int, d time.Duration) []time.Duration {
	if len(kept) < maxSamples {
		return append(kept, d)
	}
	if i := rand.IntN(seen); i < maxSamples {
		kept[i] = d
	}
	return kept
}

// Take returns the interval's observation and starts the next.
func (m *Monitor) Take() Observation {
	m.mu.Lock()
	defer m.mu.Unlock()
	o := Observation{Checkouts: m.seen, Failures: m.failures, MaxInFlight: m.maxInFlight}
	o.P99 = percentile(m.samples, 99)
	o.Delay = percentile(m.delays, 90)
	m.samples, m.seen, m.failures, m.maxInFlight = m.samples[:0], 0, 0, m.inFlight
	m.delays, m.timed = m.delays[:0], 0
	return o
}

// percentile sorts ds and returns its p-th percentile, by nearest rank
// (0 when empty).
func percentile(ds []time.Duration, p int) time.Duration {
	n := len(ds)
	if n == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[max(0, (n*p+99)/100-1)]
}

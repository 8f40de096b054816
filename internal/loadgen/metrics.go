package loadgen

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// latencyBuckets are the upper bounds, in seconds, of
// souq_load_request_duration_seconds: the shop's own
// souq_http_request_duration_seconds bounds, so that what the shoppers
// waited and what the shop took can be read side by side, up to 30 s.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// codeClasses are the values of souq_load_requests_total's code label.
var codeClasses = []string{"2xx", "3xx", "4xx", "409", "5xx", "error"}

// codeClass names a request's outcome for souq_load_requests_total: its
// status class, 409 (out of stock) apart from the other 4xx, or "error"
// when it got no answer (code 0: a transport error or a timeout).
func codeClass(code int) string {
	switch {
	case code == 0:
		return "error"
	case code == http.StatusConflict:
		return "409"
	case code >= 500:
		return "5xx"
	case code >= 400:
		return "4xx"
	case code >= 300:
		return "3xx"
	default:
		return "2xx"
	}
}

// metrics shows a run as Prometheus metrics while it goes (Config.Registry).
//
// The sessions' figures and the target rate are read from the run's tally
// and profile when the registry is gathered, so they cost the run nothing.
// The requests' are recorded as each ends (request); their counters and
// histograms are made for every step and code class before the run, and
// the maps holding them are only read once it has started, so recording a
// request is a few atomic additions and takes no lock.
type metrics struct {
	requests map[string]map[string]prometheus.Counter // by step, then code class
	latency  map[string]prometheus.Observer           // by step
}

// newMetrics registers a run's metrics on reg: its sessions from t, its
// target arrival rate from p at now() since start (0 once t says the
// arrivals are over), and its requests as they are recorded. Nothing is
// left registered when it fails, as it does when reg holds another run's.
func newMetrics(reg prometheus.Registerer, t *tally, p Profile, start time.Time, now func() time.Time) (*metrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "souq_load_requests_total",
		Help: "Requests that ended, by step and outcome: status class, 409 (out of stock) apart from the other 4xx, or error (no answer or timed out).",
	}, []string{"step", "code"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "souq_load_request_duration_seconds",
		Help:    "Requests' latency as the shoppers saw it, by step: to the end of the answer's body and, for a session's first request, from its scheduled arrival.",
		Buckets: latencyBuckets,
	}, []string{"step"})
	m := &metrics{requests: map[string]map[string]prometheus.Counter{}, latency: map[string]prometheus.Observer{}}
	for _, step := range Steps {
		m.requests[step] = map[string]prometheus.Counter{}
		for _, class := range codeClasses {
			m.requests[step][class] = requests.WithLabelValues(step, class)
		}
		m.latency[step] = latency.WithLabelValues(step)
	}

	counter := func(name, help string, v func() int64, labels prometheus.Labels) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels},
			func() float64 { return float64(v()) })
	}
	const ended = "Sessions that ended, by outcome: completed, failed (cut short by a failed request), or cancelled (in progress when the run stopped)."
	collectors := []prometheus.Collector{
		requests, latency,
		counter("souq_load_sessions_arrived_total", "Sessions that arrived on the profile's schedule, started or not.", t.arrived.Load, nil),
		counter("souq_load_sessions_started_total", "Sessions started.", t.started.Load, nil),
		counter("souq_load_sessions_not_started_total", "Sessions that arrived while the most allowed (--users) were in progress, and were not started.", t.notStarted.Load, nil),
		counter("souq_load_sessions_ended_total", ended, t.completed.Load, prometheus.Labels{"outcome": "completed"}),
		counter("souq_load_sessions_ended_total", ended, t.failed.Load, prometheus.Labels{"outcome": "failed"}),
		counter("souq_load_sessions_ended_total", ended, t.cancelled.Load, prometheus.Labels{"outcome": "cancelled"}),
		counter("souq_load_orders_placed_total", "Orders placed (answered 201) by the sessions that ended.", t.orders.Load, nil),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "souq_load_sessions_in_progress", Help: "Sessions in progress."},
			func() float64 { return float64(t.active.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "souq_load_target_arrival_rate", Help: "The profile's arrival rate now, in sessions per second; 0 once it has ended or the run was stopped."},
			func() float64 {
				if t.arrivalsOver.Load() {
					return 0
				}
				return p.RateAt(now().Sub(start))
			}),
	}
	for i, c := range collectors {
		if err := reg.Register(c); err != nil {
			for _, done := range collectors[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// request records a request that ended after d with status code (0: no
// answer). It is safe for concurrent use and takes no lock.
func (m *metrics) request(step string, d time.Duration, code int) {
	m.requests[step][codeClass(code)].Inc()
	m.latency[step].Observe(d.Seconds())
}

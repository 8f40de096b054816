package collector

import "github.com/prometheus/client_golang/prometheus"

// Event results in souq_collector_events_total.
const (
	resultAccepted = "accepted" // durably appended to the stream
	resultRejected = "rejected" // invalid: dead-lettered, reason in the label
	resultFailed   = "failed"   // valid or not, the request failed (503) and the client will retry
)

type metrics struct {
	events        *prometheus.CounterVec
	append        prometheus.Histogram
	batchEvents   prometheus.Histogram
	limiterErrors prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "souq_collector_events_total",
			Help: "Messages received by the collector, by result (accepted, rejected, failed) and reason code (\"none\" when accepted).",
		}, []string{"result", "reason"}),
		append: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "souq_collector_append_seconds",
			Help:    "Time to append a request's accepted events to the stream durably.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		batchEvents: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "souq_collector_batch_events",
			Help:    "Messages per collector request.",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
		}),
		limiterErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "souq_collector_limiter_errors_total",
			Help: "Requests the shared rate limiter could not decide (Deps.Limiter failed); each was held to the collector's in-process limit instead.",
		}),
	}
	reg.MustRegister(m.events, m.append, m.batchEvents, m.limiterErrors)
	return m
}

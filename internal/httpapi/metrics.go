package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/souq-commerce/souq/internal/httpjson"
	"github.com/souq-commerce/souq/internal/tracing"
)

type metrics struct {
	duration      *prometheus.HistogramVec
	inFlight      prometheus.Gauge
	ordersCreated *prometheus.CounterVec
	outOfStock    prometheus.Counter
	webhooks      *prometheus.CounterVec
	replays       prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "souq_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern, method and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "souq_http_requests_in_flight",
			Help: "HTTP requests being served now.",
		}),
		ordersCreated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "souq_orders_created_total",
			Help: "Orders committed, by market and payment method.",
		}, []string{"market", "payment"}),
		outOfStock: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "souq_out_of_stock_rejections_total",
			Help: "Order requests rejected because a product had too little stock.",
		}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "souq_payment_webhooks_total",
			Help: "Payment provider notifications received, by outcome: handled, refused (bad signature, too old, too large) or failed (to be sent again).",
		}, []string{"outcome"}),
		replays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "souq_idempotent_replays_total",
			Help: "Order requests answered from a stored response for their Idempotency-Key.",
		}),
	}
	reg.MustRegister(m.duration, m.inFlight, m.ordersCreated, m.outOfStock, m.replays, m.webhooks)
	return m
}

// instrument records the duration and status of every request to a route,
// labelled with the route pattern (never the raw path, which would let
// clients mint label values).
func (s *server) instrument(pattern string, next http.Handler) http.Handler {
	if tracing.Enabled() {
		// A span per request, named by the route pattern, child of the
		// caller's traceparent when it sends one.
		next = otelhttp.NewHandler(next, pattern, otelhttp.WithSpanNameFormatter(func(string, *http.Request) string { return pattern }))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.metrics.inFlight.Inc()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			s.metrics.inFlight.Dec()
			if v := recover(); v != nil {
				s.log.Error("handler panic", "route", pattern, "panic", v)
				if !sw.wrote {
					httpjson.WriteProblem(sw, httpjson.Problem{Status: http.StatusInternalServerError, Detail: "an internal error occurred; it has been logged"})
				}
			}
			s.metrics.duration.WithLabelValues(pattern, r.Method, strconv.Itoa(sw.status)).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(sw, r)
	})
}

func (s *server) handleMetrics() http.Handler {
	return promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{ErrorLog: nil})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

package overload

import (
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/httpjson"
)

// Classify is the shop's classification of a request (see Class).
func Classify(r *http.Request) Class {
	p := r.URL.Path
	switch {
	case p == "/livez" || p == "/readyz" || p == "/metrics" || strings.HasPrefix(p, "/assets/"):
		return Exempt
	case strings.HasPrefix(p, "/api/v1/queue") || p == "/dashboard/events":
		return Exempt // held: waiting, not working
	case strings.HasSuffix(p, "/queue"): // the storefront's queue page (a held refresh)
		return Exempt
	case strings.HasPrefix(p, "/api/v1/admin/"), p == "/api/v1/payments/webhook",
		strings.HasSuffix(p, "/payment"), strings.HasSuffix(p, "/pay"), strings.HasSuffix(p, "/return"):
		return Critical
	case p == "/api/v1/orders" && r.Method == http.MethodPost && r.Header.Get("Souq-Admission") != "":
		return Critical
	case r.Method == http.MethodPost && strings.HasSuffix(p, "/checkout") && hasCookie(r, "souq_adm"):
		return Critical
	case strings.HasPrefix(p, "/api/v1/carts"), strings.HasPrefix(p, "/api/v1/orders"),
		strings.HasSuffix(p, "/checkout"), strings.Contains(p, "/cart"), strings.Contains(p, "/orders/"):
		return Shop
	}
	return Browse
}

func hasCookie(r *http.Request, name string) bool {
	_, err := r.Cookie(name)
	return err == nil
}

// Handler sheds requests beyond the limit: each is classified by classify
// and refused with 503, a Retry-After and a problem document when its
// class's share of the limit is in use. reg (when not nil) gets the
// limit, the requests in progress and the refusals by class.
func Handler(l *Limiter, classify func(*http.Request) Class, reg prometheus.Registerer, next http.Handler) http.Handler {
	shed := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "souq_shed_requests_total",
		Help: "Requests refused (503) by the adaptive concurrency limit, by class: browse first, then shop; critical never."}, []string{"class"})
	if reg != nil {
		reg.MustRegister(shed,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "souq_concurrency_limit",
				Help: "The adaptive concurrency limit: requests that may be in progress at once."},
				func() float64 { return float64(l.Stats().Limit) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "souq_concurrency_in_flight",
				Help: "Requests in progress that count against the limit."},
				func() float64 { return float64(l.Stats().InFlight) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "souq_concurrency_baseline_seconds",
				Help: "The limit's baseline latency (median of a window, slowly averaged)."},
				func() float64 { return l.Stats().Baseline.Seconds() }))
	}
	counters := [...]prometheus.Counter{Browse: shed.WithLabelValues("browse"), Shop: shed.WithLabelValues("shop"), Critical: shed.WithLabelValues("critical")}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := classify(r)
		done, ok := l.Acquire(c, time.Now())
		if !ok {
			counters[c].Inc()
			w.Header().Set("Retry-After", "1")
			httpjson.WriteProblem(w, httpjson.Problem{Type: httpjson.ProblemTypePrefix + "overloaded", Status: http.StatusServiceUnavailable,
				Detail: "the shop is very busy; retry in a moment", Instance: r.URL.Path})
			return
		}
		defer func() { done(time.Now()) }()
		next.ServeHTTP(w, r)
	})
}

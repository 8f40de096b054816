package waitroom

import (
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type roomMetrics struct {
	waiting  prometheus.Gauge
	admitted prometheus.Counter
	rate     prometheus.Gauge
	wait     prometheus.Histogram
	refused  *prometheus.CounterVec
	soldOut  prometheus.Gauge
	units    prometheus.Gauge
	p99      prometheus.Gauge
	delay    prometheus.Gauge
}

func newRoomMetrics(reg prometheus.Registerer, r *Room) *roomMetrics {
	m := &roomMetrics{
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{Name: "souq_waitroom_queue_length",
			Help: "Positions in the protected sale's queue not admitted yet."}),
		admitted: prometheus.NewCounter(prometheus.CounterOpts{Name: "souq_waitroom_admitted_total",
			Help: "Positions admitted (by every replica, as this one saw the shared queue move)."}),
		rate: prometheus.NewGauge(prometheus.GaugeOpts{Name: "souq_waitroom_admission_rate",
			Help: "This replica's admission rate set by the controller, shoppers per second."}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "souq_waitroom_wait_seconds",
			Help:    "How long admitted positions waited in the queue (sampled, up to 100 a tick).",
			Buckets: []float64{0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600}}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "souq_waitroom_refused_total",
			Help: "Checkouts refused during a protected sale, by reason (no_token answers 429, the rest 403)."}, []string{"reason"}),
		soldOut: prometheus.NewGauge(prometheus.GaugeOpts{Name: "souq_waitroom_sold_out",
			Help: "1 while the protected sale's products are sold out."}),
		units: prometheus.NewGauge(prometheus.GaugeOpts{Name: "souq_waitroom_units_left",
			Help: "Units left of the protected sale's products."}),
		p99: prometheus.NewGauge(prometheus.GaugeOpts{Name: "souq_waitroom_checkout_p99_seconds",
			Help: "The p99 latency of this replica's checkouts in the controller's last interval (0: none)."}),
		delay: prometheus.NewGauge(prometheus.GaugeOpts{Name: "souq_waitroom_dead_time_seconds",
			Help: "The p90 from admission to the checkout's end of this replica's checkouts in the controller's last interval (0: none known)."}),
	}
	m.rate.Set(r.ctrl.Rate())
	if reg != nil {
		reg.MustRegister(m.waiting, m.admitted, m.rate, m.wait, m.refused, m.soldOut, m.units, m.p99, m.delay)
	}
	return m
}

// interval records what the controller was told of an interval, and the
// rate it set.
func (m *roomMetrics) interval(o Observation, rate float64) {
	m.rate.Set(rate)
	m.p99.Set(o.P99.Seconds())
	m.delay.Set(o.Delay.Seconds())
}

// observe records a tick that moved the queue from prev to q at now. The
// wait of an admitted position is now minus when the tail reached it,
// read from the room's history of the queue; early arrivals count from
// the start.
func (m *roomMetrics) observe(prev, q Queue, now time.Time, r *Room) {
	m.waiting.Set(float64(q.Waiting()))
	if q.SoldOut {
		m.soldOut.Set(1)
	} else {
		m.soldOut.Set(0)
	}
	r.mu.Lock()
	m.units.Set(float64(r.remaining))
	hist := r.history
	if q.Head <= prev.Head {
		r.mu.Unlock()
		return
	}
	m.admitted.Add(float64(q.Head - prev.Head))
	stride := max(1, (q.Head-prev.Head)/100)
	for pos := prev.Head + 1; pos <= q.Head; pos += stride {
		// The first sample whose tail reached pos (tails never fall);
		// before the history began, at least as long as it goes back.
		i := min(len(hist)-1, sort.Search(len(hist), func(i int) bool { return hist[i].tail >= pos }))
		m.wait.Observe(now.Sub(hist[i].at).Seconds())
	}
	r.mu.Unlock()
}

package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/souq-commerce/souq/internal/loadgen"
)

// Errors about the load report.
var (
	ErrNotReport = errors.New("not a souq load report")
	ErrEmpty     = errors.New("the load report has too little data")
	ErrNoSLO     = errors.New("no latency objective")
)

// ReadReport reads a `souq load --report` file.
func ReadReport(path string) (*loadgen.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the load report: %w", err)
	}
	var r loadgen.Report
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotReport, path, err)
	}
	if r.Started.IsZero() || r.All.Step != "all" || len(r.Steps) == 0 {
		return nil, fmt.Errorf("%w: %s lacks started, steps and the all row", ErrNotReport, path)
	}
	return &r, nil
}

// Options says how a report is read.
type Options struct {
	ReportPods int           // api pods that served the report
	SLOP99     time.Duration // 0: the report's tightest p99 (or p99.x) threshold
	SLOErrors  float64       // negative: the report's errors threshold, else 0.5%
	Window     int           // consecutive seconds at the SLO the throughput is averaged over
}

// Measured is what a report shows: the throughput sustained at the SLO
// and the mix of requests per session.
type Measured struct {
	Target      string  `json:"target"`
	Profile     string  `json:"profile"`
	Interrupted bool    `json:"interrupted"`
	Seconds     int     `json:"seconds"`
	GoodSeconds int     `json:"seconds_at_slo"`
	Window      int     `json:"window_seconds"`
	WindowStart int     `json:"window_start_second"`
	SLOP99Ms    float64 `json:"slo_p99_ms"`
	SLOErrors   float64 `json:"slo_error_share"`
	// WindowRPS is the mean requests per second, of every step, over the
	// best window of consecutive seconds at the SLO, for all ReportPods.
	WindowRPS  float64 `json:"window_requests_per_second"`
	ReportPods int     `json:"report_pods"`
	// APIRPSPerPod is WindowRPS less the collector's share (the events
	// step), per pod: what one api pod served at the SLO.
	APIRPSPerPod float64 `json:"api_requests_per_second_per_pod"`
	Sessions     int64   `json:"sessions_started"`
	Orders       int64   `json:"orders"`
	Conversion   float64 `json:"conversion"`
	EventsShare  float64 `json:"events_share"`
	// PerSession is each step's requests per started session.
	PerSession map[string]float64 `json:"requests_per_session"`
	// CheckoutPerOrder is checkout requests per order placed (retries,
	// 409s, waiting-room 429s included).
	CheckoutPerOrder float64 `json:"checkout_requests_per_order"`
}

// Derive reads what one pod sustained at the SLO from r: the best mean
// throughput over Window consecutive seconds in each of which the p99 of
// every request and the failed share met the objectives. It returns
// warnings for what weakens the figure, and an error when there is no
// such window.
func Derive(r *loadgen.Report, o Options) (Measured, []string, error) {
	var warn []string
	m := Measured{Target: r.Target, Profile: r.Profile.Name, Interrupted: r.Interrupted, Seconds: len(r.PerSecond),
		Window: o.Window, ReportPods: o.ReportPods, Sessions: r.Sessions.Started, Orders: r.Sessions.Orders}
	if o.ReportPods < 1 || o.Window < 1 {
		return m, nil, fmt.Errorf("%w: report pods and window must be positive", ErrEmpty)
	}
	if r.All.Requests == 0 || len(r.PerSecond) == 0 || r.Sessions.Started == 0 {
		return m, nil, fmt.Errorf("%w: no requests, no per-second series or no session started", ErrEmpty)
	}
	slo := o.SLOP99
	if slo <= 0 {
		for _, t := range r.SLO {
			if t.Latency > 0 && t.Percentile >= 99 && (slo == 0 || t.Latency < slo) {
				slo = t.Latency
			}
		}
	}
	if slo <= 0 {
		return m, nil, fmt.Errorf("%w: the report has no p99 threshold (run souq load with --slo 'checkout.p99<200ms,…'), or give --slo-p99", ErrNoSLO)
	}
	errShare := o.SLOErrors
	if errShare < 0 {
		errShare = 0.005
		found := false
		for _, t := range r.SLO {
			if t.Latency == 0 && t.Step == "" {
				if !found || t.ErrorShare < errShare {
					errShare = t.ErrorShare
				}
				found = true
			}
		}
		if !found {
			warn = append(warn, "the report has no errors threshold: seconds with more than 0.5% failed requests are left out")
		}
	}
	m.SLOP99Ms, m.SLOErrors = float64(slo)/float64(time.Millisecond), errShare
	if r.Interrupted {
		warn = append(warn, "the load run was interrupted: its figures are partial")
	}
	if !r.Met() {
		warn = append(warn, "the load run missed one of its thresholds: only the seconds where the objectives held are used")
	}
	if r.Sessions.NotStarted > 0 {
		warn = append(warn, fmt.Sprintf("%d sessions were not started (--users reached): the shop was offered less than the profile", r.Sessions.NotStarted))
	}
	good := make([]bool, len(r.PerSecond))
	missed := 0
	for i, s := range r.PerSecond {
		good[i] = s.Requests > 0 && s.P99 <= m.SLOP99Ms && float64(s.Failed) <= errShare*float64(s.Requests)
		if good[i] {
			m.GoodSeconds++
		} else if s.Requests > 0 {
			missed++
		}
	}
	best, bestAt := -1.0, -1
	for i := 0; i+o.Window <= len(good); i++ {
		sum, ok := 0.0, true
		for j := i; j < i+o.Window && ok; j++ {
			ok = good[j]
			sum += float64(r.PerSecond[j].Requests)
		}
		if ok && sum/float64(o.Window) > best {
			best, bestAt = sum/float64(o.Window), i
		}
	}
	if bestAt < 0 {
		return m, warn, fmt.Errorf("%w: no %d consecutive seconds with requests met p99 ≤ %v and failures ≤ %.2f%% (%d of %d seconds did)",
			ErrEmpty, o.Window, slo, errShare*100, m.GoodSeconds, len(good))
	}
	m.WindowRPS, m.WindowStart = best, bestAt
	if missed == 0 {
		warn = append(warn, "the objectives held in every second: the report shows a lower bound of a pod's capacity, not its limit (a ramp that crosses the SLO finds the limit)")
	}
	m.PerSession = map[string]float64{}
	for _, st := range r.Steps {
		if st.Requests > 0 {
			m.PerSession[st.Step] = float64(st.Requests) / float64(r.Sessions.Started)
		}
		switch st.Step {
		case "events":
			m.EventsShare = float64(st.Requests) / float64(r.All.Requests)
		case "checkout":
			if r.Sessions.Orders > 0 {
				m.CheckoutPerOrder = float64(st.Requests) / float64(r.Sessions.Orders)
			}
		}
	}
	m.Conversion = float64(r.Sessions.Orders) / float64(r.Sessions.Started)
	m.APIRPSPerPod = m.WindowRPS * (1 - m.EventsShare) / float64(o.ReportPods)
	if m.APIRPSPerPod <= 0 {
		return m, warn, fmt.Errorf("%w: the window holds no api requests", ErrEmpty)
	}
	return m, warn, nil
}

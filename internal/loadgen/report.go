package loadgen

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Report is what a run did. Its JSON form is the --report file.
type Report struct {
	Target      string    `json:"target"`
	Profile     Profile   `json:"profile"`
	Seed        uint64    `json:"seed"`
	Users       int       `json:"users"`
	Started     time.Time `json:"started"`
	Ended       time.Time `json:"ended"`
	Interrupted bool      `json:"interrupted"` // stopped before the profile ended (Ctrl+C)

	Sessions SessionCounts `json:"sessions"`
	Steps    []StepReport  `json:"steps"`
	All      StepReport    `json:"all"`
	// StartLag is how late sessions started after their scheduled
	// arrival; it is part of their first request's latency too.
	StartLag StepReport `json:"start_lag"`
	// QueueWait is how long sessions that checkout sent to a protected
	// sale's waiting room waited there, counted when they left it; its
	// statuses say how: 200 admitted, 410 told "sold out".
	QueueWait StepReport `json:"queue_wait"`
	PerSecond []second   `json:"per_second"`
	Memory    Memory     `json:"memory"`
	SLO       []Outcome  `json:"slo,omitempty"`
	Audit     *Audit     `json:"audit,omitempty"`

	steps map[string]*stepStats
	all   *stepStats
}

// SessionCounts counts sessions: scheduled arrivals, those started, those
// not started because Users sessions were in progress (never silently
// dropped), and how the started ones ended.
type SessionCounts struct {
	Expected   float64 `json:"expected"` // the profile's integral
	Arrived    int64   `json:"arrived"`
	Started    int64   `json:"started"`
	NotStarted int64   `json:"not_started"`
	Completed  int64   `json:"completed"`
	Failed     int64   `json:"failed"`    // cut short by a failed request
	Cancelled  int64   `json:"cancelled"` // in progress when the run stopped
	Orders     int64   `json:"orders"`    // orders placed (201)
	PeakActive int64   `json:"peak_active"`
}

// StepReport is one step's figures; latencies in milliseconds.
type StepReport struct {
	Step     string           `json:"step"`
	Requests int64            `json:"requests"`
	Failed   int64            `json:"failed"`
	Statuses map[string]int64 `json:"statuses,omitempty"`
	P50      float64          `json:"p50_ms"`
	P90      float64          `json:"p90_ms"`
	P99      float64          `json:"p99_ms"`
	P999     float64          `json:"p999_ms"`
	Max      float64          `json:"max_ms"`
	Mean     float64          `json:"mean_ms"`
}

// Memory is the load generator's own memory: the peak of the Go runtime's
// memory from the system, and what it had grown by when the sessions in
// progress peaked, divided by them.
type Memory struct {
	PeakSysBytes      uint64  `json:"peak_sys_bytes"`
	PeakHeapBytes     uint64  `json:"peak_heap_bytes"`
	BytesPerSession   float64 `json:"bytes_per_session,omitempty"`
	PeakGoroutines    int     `json:"peak_goroutines"`
	MeasuredAtSession int64   `json:"measured_at_sessions"`
}

func stepReport(name string, s *stepStats) StepReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := func(us int64) float64 { return float64(us) / 1000 }
	r := StepReport{Step: name, Requests: s.hist.TotalCount(), Failed: s.failed,
		P50: ms(s.hist.ValueAtQuantile(50)), P90: ms(s.hist.ValueAtQuantile(90)), P99: ms(s.hist.ValueAtQuantile(99)),
		P999: ms(s.hist.ValueAtQuantile(99.9)), Max: ms(s.hist.Max()), Mean: s.hist.Mean() / 1000}
	if len(s.codes) > 0 {
		r.Statuses = map[string]int64{}
		for code, n := range s.codes {
			r.Statuses[statusText(code)] = n
		}
	}
	return r
}

// ErrorShare is the share of failed requests of a step ("" for all).
func (r *Report) ErrorShare(step string) float64 {
	s := r.All
	if step != "" {
		for _, st := range r.Steps {
			if st.Step == step {
				s = st
			}
		}
		if s.Step != step {
			return 0
		}
	}
	if s.Requests == 0 {
		return 0
	}
	return float64(s.Failed) / float64(s.Requests)
}

// Met reports whether every threshold was met.
func (r *Report) Met() bool {
	for _, o := range r.SLO {
		if !o.Met {
			return false
		}
	}
	return true
}

// WriteText writes the report for a person: sessions, a table of steps,
// the thresholds.
func (r *Report) WriteText(w io.Writer) {
	state := "completed"
	if r.Interrupted {
		state = "interrupted: partial figures"
	}
	fmt.Fprintf(w, "souq load: %s, profile %s, seed %d, %s (%s)\n", r.Target, r.Profile.Name, r.Seed, r.Ended.Sub(r.Started).Round(time.Millisecond), state)
	s := r.Sessions
	fmt.Fprintf(w, "sessions: %d arrived (%.0f expected), %d started, %d not started (%d in progress at most), %d completed, %d cut short by a failure, %d stopped with the run; %d orders placed\n",
		s.Arrived, s.Expected, s.Started, s.NotStarted, r.Users, s.Completed, s.Failed, s.Cancelled, s.Orders)
	fmt.Fprintf(w, "start lag (scheduled arrival to start): p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", r.StartLag.P50, r.StartLag.P99, r.StartLag.Max)
	if q := r.QueueWait; q.Requests > 0 {
		fmt.Fprintf(w, "waiting room: %d sessions queued at checkout, %d told sold out; wait p50 %.1f s, p99 %.1f s, max %.1f s\n",
			q.Requests, q.Statuses["410"], q.P50/1000, q.P99/1000, q.Max/1000)
	}
	fmt.Fprintf(w, "memory: peak %.1f MiB from the system (heap %.1f MiB), %d goroutines at most", float64(r.Memory.PeakSysBytes)/(1<<20), float64(r.Memory.PeakHeapBytes)/(1<<20), r.Memory.PeakGoroutines)
	if r.Memory.BytesPerSession > 0 {
		fmt.Fprintf(w, "; %.1f KiB per session in progress (at %d)", r.Memory.BytesPerSession/1024, r.Memory.MeasuredAtSession)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "\n%-12s %9s %7s %9s %9s %9s %9s %9s  %s\n", "step", "requests", "failed", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "statuses")
	for _, st := range append(slices.Clone(r.Steps), r.All) {
		if st.Requests == 0 && st.Step != "all" {
			continue
		}
		var codes []string
		for _, k := range slices.Sorted(maps.Keys(st.Statuses)) {
			codes = append(codes, fmt.Sprintf("%s×%d", k, st.Statuses[k]))
		}
		fmt.Fprintf(w, "%-12s %9d %7d %9.2f %9.2f %9.2f %9.2f %9.2f  %s\n", st.Step, st.Requests, st.Failed,
			st.P50, st.P90, st.P99, st.P999, st.Max, strings.Join(codes, " "))
	}
	if a := r.Audit; a != nil {
		fmt.Fprintln(w)
		verdict := "passed"
		if !a.Passed {
			verdict = "FAILED"
		}
		fmt.Fprintf(w, "audit %s: %d orders answered 201, %d created in the shop; %d units ordered over %d products\n",
			verdict, a.OrdersAnswered, a.OrdersFound, a.UnitsOrdered, a.ProductsHeld)
		for _, c := range []struct {
			name string
			list []string
		}{{"answered but not in the shop", a.Missing}, {"in the shop but never answered", a.Extra},
			{"Idempotency-Keys with two orders", a.DuplicateKeys}, {"stock below zero", a.NegativeStock},
			{"sold more than in stock", a.Oversold}} {
			if len(c.list) > 0 {
				fmt.Fprintf(w, "  %s: %d (%s)\n", c.name, len(c.list), strings.Join(c.list[:min(5, len(c.list))], "; "))
			}
		}
		if a.Skipped != "" {
			fmt.Fprintf(w, "  not checked: %s\n", a.Skipped)
		}
	}
	if len(r.SLO) > 0 {
		fmt.Fprintln(w)
		for _, o := range r.SLO {
			verdict := "met"
			if !o.Met {
				verdict = "NOT MET"
			}
			fmt.Fprintf(w, "slo %-28s %-8s (actual %s)\n", o.Text, verdict, o.Actual)
		}
	}
}

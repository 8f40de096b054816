package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestRunMetrics plays a short steady profile against the real shop with
// a Registry. Gathered while the run goes, the target rate is the
// profile's and no counter goes down; gathered after it, the metrics hold
// the report's figures: sessions, orders, requests per step and status
// class, and latencies that agree with the HDR histograms'. A second run
// cannot register on the same registry, and leaves the first's alone.
func TestRunMetrics(t *testing.T) {
	base := shop(t)
	p, _ := Named(ProfileSteady, 40, 2*time.Second, 0)
	reg := prometheus.NewRegistry()
	var (
		during    []map[string]float64 // gathered on Run's progress goroutine, read after Run returns
		gatherErr error
	)
	rep, err := Run(t.Context(), Config{BaseURL: base, Profile: p, Users: 1000, Seed: 3,
		ThinkMin: time.Millisecond, ThinkMax: 5 * time.Millisecond, RequestTimeout: 10 * time.Second, Registry: reg,
		Progress: func(Snapshot) {
			got, err := gather(reg)
			during = append(during, got)
			gatherErr = errors.Join(gatherErr, err)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if gatherErr != nil {
		t.Fatalf("gather during the run: %v", gatherErr)
	}
	if len(during) < 2 {
		t.Fatalf("gathered %d times during a 2 s run, want at least 2 (at its start, after 1 s)", len(during))
	}
	if got := during[0]["souq_load_target_arrival_rate"]; got != 40 {
		t.Errorf("target arrival rate at the start: got %v, want 40", got)
	}
	if got := during[1]["souq_load_sessions_arrived_total"]; got == 0 {
		t.Errorf("sessions arrived after 1 s: got 0, want some")
	}
	for i := 1; i < len(during); i++ {
		for series, v := range during[i-1] {
			if strings.Contains(series, "_total") && during[i][series] < v {
				t.Errorf("%s went down between gatherings %d and %d: %v, then %v", series, i-1, i, v, during[i][series])
			}
		}
	}

	got := mustGather(t, reg)
	s := rep.Sessions
	for series, want := range map[string]int64{
		"souq_load_sessions_arrived_total":                         s.Arrived,
		"souq_load_sessions_started_total":                         s.Started,
		"souq_load_sessions_not_started_total":                     s.NotStarted,
		`souq_load_sessions_ended_total{outcome="completed"}`:      s.Completed,
		`souq_load_sessions_ended_total{outcome="failed"}`:         s.Failed,
		`souq_load_sessions_ended_total{outcome="cancelled"}`:      s.Cancelled,
		"souq_load_orders_placed_total":                            s.Orders,
		"souq_load_sessions_in_progress":                           0,
		"souq_load_target_arrival_rate":                            0,
		`souq_load_request_duration_seconds_count{step="product"}`: stepNamed(rep, "product").Requests,
	} {
		if v, ok := got[series]; !ok || v != float64(want) {
			t.Errorf("%s: got %v (present %v), want %d", series, v, ok, want)
		}
	}
	if s.Arrived == 0 || s.Orders == 0 {
		t.Fatalf("sessions %+v: want arrivals and orders to compare", s)
	}

	var all float64
	for _, st := range rep.Steps {
		want := map[string]int64{}
		for status, n := range st.Statuses {
			code, _ := strconv.Atoi(status) // "no answer" is 0
			want[codeClass(code)] += n
		}
		for _, class := range codeClasses {
			series := fmt.Sprintf("souq_load_requests_total{code=%q,step=%q}", class, st.Step)
			all += got[series]
			if got[series] != float64(want[class]) {
				t.Errorf("%s: got %v, want %d (report statuses %v)", series, got[series], want[class], st.Statuses)
			}
		}
		count := got[fmt.Sprintf("souq_load_request_duration_seconds_count{step=%q}", st.Step)]
		if count != float64(st.Requests) {
			t.Errorf("%s latency count: got %v, want %d", st.Step, count, st.Requests)
		}
		if st.Requests == 0 {
			continue
		}
		// The first bucket above the HDR maximum holds every request.
		i, _ := slices.BinarySearch(latencyBuckets, st.Max/1000)
		if i == len(latencyBuckets) {
			t.Fatalf("%s: max %.0f ms beyond the last bucket", st.Step, st.Max)
		}
		series := fmt.Sprintf("souq_load_request_duration_seconds_bucket{le=%q,step=%q}", strconv.FormatFloat(latencyBuckets[i], 'g', -1, 64), st.Step)
		if got[series] != float64(st.Requests) {
			t.Errorf("%s: got %v, want all %d requests (max %.3f ms)", series, got[series], st.Requests, st.Max)
		}
		// The mean agrees with the HDR histogram's (3 significant digits).
		mean := got[fmt.Sprintf("souq_load_request_duration_seconds_sum{step=%q}", st.Step)] / count * 1000
		if math.Abs(mean-st.Mean) > st.Mean/100+0.002 {
			t.Errorf("%s mean latency: got %.3f ms from the metrics, want %.3f ms as in the report", st.Step, mean, st.Mean)
		}
	}
	if all != float64(rep.All.Requests) {
		t.Errorf("requests over every step and code: got %v, want %d", all, rep.All.Requests)
	}

	_, err = Run(t.Context(), Config{BaseURL: base, Profile: p, Users: 1000, Seed: 3, Registry: reg})
	if are := (prometheus.AlreadyRegisteredError{}); !errors.As(err, &are) {
		t.Errorf("a second run on the same registry: got %v, want prometheus.AlreadyRegisteredError", err)
	}
	if again := mustGather(t, reg); again["souq_load_sessions_arrived_total"] != float64(s.Arrived) || len(again) != len(got) {
		t.Errorf("after the refused run: %v arrived in %d series; want the first run's %d in %d",
			again["souq_load_sessions_arrived_total"], len(again), s.Arrived, len(got))
	}
}

// TestRunMetricsStopped: with room for one session, the arrivals beyond
// it count as not started; stopping the run counts the session in
// progress as cancelled, and the target rate falls to 0 though the
// profile has not ended.
func TestRunMetricsStopped(t *testing.T) {
	base := shop(t)
	p, _ := Named(ProfileSteady, 50, 10*time.Second, 0)
	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(t.Context())
	rep, err := Run(ctx, Config{BaseURL: base, Profile: p, Users: 1, Seed: 5, Registry: reg,
		ThinkMin: time.Hour, ThinkMax: time.Hour, RequestTimeout: 10 * time.Second,
		Progress: func(s Snapshot) {
			if s.NotStarted >= 20 {
				cancel()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	got := mustGather(t, reg)
	s := rep.Sessions
	if s.Started != 1 || s.NotStarted < 20 || s.Cancelled != 1 {
		t.Fatalf("sessions %+v: want 1 started and cancelled, 20 or more not started", s)
	}
	for series, want := range map[string]float64{
		"souq_load_sessions_arrived_total":                    float64(s.Arrived),
		"souq_load_sessions_started_total":                    1,
		"souq_load_sessions_not_started_total":                float64(s.NotStarted),
		`souq_load_sessions_ended_total{outcome="cancelled"}`: 1,
		`souq_load_sessions_ended_total{outcome="completed"}`: 0,
		"souq_load_sessions_in_progress":                      0,
		"souq_load_target_arrival_rate":                       0,
	} {
		if got[series] != want {
			t.Errorf("%s: got %v, want %v", series, got[series], want)
		}
	}
}

// TestMetricsRequests: a request is counted under its step and status
// class, 409 apart from the other 4xx and no answer as error, and its
// latency goes into the bucket of its duration in seconds; the target
// rate is the profile's at the time since the start.
func TestMetricsRequests(t *testing.T) {
	reg := prometheus.NewRegistry()
	start := time.Unix(1000, 0)
	ramp, _ := Named(ProfileRamp, 100, 10*time.Second, 0)
	m, err := newMetrics(reg, &tally{}, ramp, start, func() time.Time { return start.Add(3 * time.Second) })
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(start)
	rec.metrics = m
	for _, r := range []struct {
		step string
		took time.Duration
		code int
	}{
		{"checkout", 3 * time.Millisecond, 201}, {"checkout", 40 * time.Millisecond, 409}, {"checkout", 40 * time.Millisecond, 409},
		{"checkout", 2 * time.Second, 503}, {"checkout", 20 * time.Second, 0}, {"checkout", time.Millisecond, 422},
		{"product", 700 * time.Millisecond, 404}, {"browse", time.Millisecond, 302},
	} {
		rec.request(r.step, start, start.Add(r.took), r.code)
	}
	got := mustGather(t, reg)
	for series, want := range map[string]float64{
		`souq_load_requests_total{code="2xx",step="checkout"}`:                   1,
		`souq_load_requests_total{code="409",step="checkout"}`:                   2,
		`souq_load_requests_total{code="4xx",step="checkout"}`:                   1,
		`souq_load_requests_total{code="5xx",step="checkout"}`:                   1,
		`souq_load_requests_total{code="error",step="checkout"}`:                 1,
		`souq_load_requests_total{code="4xx",step="product"}`:                    1,
		`souq_load_requests_total{code="3xx",step="browse"}`:                     1,
		`souq_load_requests_total{code="2xx",step="browse"}`:                     0,
		`souq_load_request_duration_seconds_count{step="checkout"}`:              6,
		`souq_load_request_duration_seconds_bucket{le="0.001",step="checkout"}`:  1,
		`souq_load_request_duration_seconds_bucket{le="0.0025",step="checkout"}`: 1,
		`souq_load_request_duration_seconds_bucket{le="0.005",step="checkout"}`:  2,
		`souq_load_request_duration_seconds_bucket{le="0.05",step="checkout"}`:   4,
		`souq_load_request_duration_seconds_bucket{le="2.5",step="checkout"}`:    5,
		`souq_load_request_duration_seconds_bucket{le="10",step="checkout"}`:     5,
		`souq_load_request_duration_seconds_bucket{le="30",step="checkout"}`:     6,
		`souq_load_request_duration_seconds_bucket{le="0.5",step="product"}`:     0,
		`souq_load_request_duration_seconds_bucket{le="1",step="product"}`:       1,
		"souq_load_target_arrival_rate":                                          30, // 3 s into a ramp to 100/s over 10 s
	} {
		if v, ok := got[series]; !ok || v != want {
			t.Errorf("%s: got %v (present %v), want %v", series, v, ok, want)
		}
	}
	if sum, want := got[`souq_load_request_duration_seconds_sum{step="checkout"}`], 22.084; math.Abs(sum-want) > 1e-9 {
		t.Errorf("checkout latency sum: got %v s, want %v s", sum, want)
	}
}

func TestCodeClass(t *testing.T) {
	for code, want := range map[int]string{0: "error", 200: "2xx", 201: "2xx", 302: "3xx", 400: "4xx", 404: "4xx", 409: "409", 422: "4xx", 500: "5xx", 503: "5xx"} {
		if got := codeClass(code); got != want {
			t.Errorf("codeClass(%d): got %q, want %q", code, got, want)
		}
	}
}

func stepNamed(r *Report, step string) StepReport {
	for _, st := range r.Steps {
		if st.Step == step {
			return st
		}
	}
	return StepReport{}
}

// gather reads every series of reg, named as the text format writes it:
// souq_load_sessions_arrived_total,
// souq_load_requests_total{code="2xx",step="browse"},
// souq_load_request_duration_seconds_bucket{le="0.25",step="browse"}.
func gather(reg prometheus.Gatherer) (map[string]float64, error) {
	families, err := reg.Gather()
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			name := func(suffix string, more ...string) string {
				ls := slices.Sorted(slices.Values(append(slices.Clone(labels), more...)))
				if len(ls) == 0 {
					return f.GetName() + suffix
				}
				return f.GetName() + suffix + "{" + strings.Join(ls, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[name("")] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[name("")] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				h := m.GetHistogram()
				out[name("_count")] = float64(h.GetSampleCount())
				out[name("_sum")] = h.GetSampleSum()
				for _, b := range h.GetBucket() {
					out[name("_bucket", fmt.Sprintf("le=%q", strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)))] = float64(b.GetCumulativeCount())
				}
			}
		}
	}
	return out, nil
}

func mustGather(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	got, err := gather(reg)
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	return got
}

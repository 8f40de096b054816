package loadgen

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Threshold is one service-level objective a run must meet: a step's
// latency percentile below a duration ("checkout.p99<200ms"), or the
// share of failed requests below a percentage, of all steps ("errors<0.5%")
// or of one ("checkout.errors<1%").
type Threshold struct {
	Text       string        `json:"text"`
	Step       string        `json:"step,omitempty"` // "" for every step
	Percentile float64       `json:"percentile,omitempty"`
	Latency    time.Duration `json:"latency_ns,omitempty"`
	ErrorShare float64       `json:"error_share,omitempty"` // 0.005 for 0.5%
	Inclusive  bool          `json:"inclusive,omitempty"`   // <= rather than <
}

// Outcome is a threshold judged against a run.
type Outcome struct {
	Threshold
	Actual string `json:"actual"`
	Met    bool   `json:"met"`
}

var thresholdPattern = regexp.MustCompile(`^(?:([a-z][a-z.]*?)\.)?(p\d+(?:\.\d+)?|errors)(<=?)(.+)$`)

// ParseThresholds reads a comma-separated list such as
// "checkout.p99<200ms,errors<0.5%". A failed request is a transport
// error, a timeout or a 5xx answer.
func ParseThresholds(s string) ([]Threshold, error) {
	var out []Threshold
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		m := thresholdPattern.FindStringSubmatch(strings.ReplaceAll(part, " ", ""))
		if m == nil {
			return nil, fmt.Errorf("--slo %q: write step.p99<200ms or errors<0.5%% (steps: %s)", part, strings.Join(Steps, ", "))
		}
		t := Threshold{Text: part, Step: m[1], Inclusive: m[3] == "<="}
		if t.Step != "" && !isStep(t.Step) {
			return nil, fmt.Errorf("--slo %q: unknown step %q (steps: %s)", part, t.Step, strings.Join(Steps, ", "))
		}
		if m[2] == "errors" {
			v, ok := strings.CutSuffix(m[4], "%")
			f, err := strconv.ParseFloat(v, 64)
			if !ok || err != nil || f < 0 || f > 100 {
				return nil, fmt.Errorf("--slo %q: an error share is a percentage, such as 0.5%%", part)
			}
			t.ErrorShare = f / 100
		} else {
			p, err := strconv.ParseFloat(m[2][1:], 64)
			if err != nil || p <= 0 || p > 100 {
				return nil, fmt.Errorf("--slo %q: a percentile is p1 to p100, such as p99 or p99.9", part)
			}
			d, err := time.ParseDuration(m[4])
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("--slo %q: a latency is a duration, such as 200ms", part)
			}
			t.Percentile, t.Latency = p, d
		}
		out = append(out, t)
	}
	return out, nil
}

// Judge checks each threshold against the report's figures.
func Judge(ts []Threshold, r *Report) []Outcome {
	out := make([]Outcome, 0, len(ts))
	for _, t := range ts {
		o := Outcome{Threshold: t}
		if t.Latency > 0 {
			var got time.Duration
			if t.Step == "" {
				got = r.all.quantile(t.Percentile)
			} else if s := r.steps[t.Step]; s != nil {
				got = s.quantile(t.Percentile)
			}
			o.Actual = got.String()
			o.Met = got < t.Latency || (t.Inclusive && got == t.Latency)
		} else {
			share := r.ErrorShare(t.Step)
			o.Actual = strconv.FormatFloat(share*100, 'f', 3, 64) + "%"
			o.Met = share < t.ErrorShare || (t.Inclusive && share == t.ErrorShare)
		}
		out = append(out, o)
	}
	return out
}

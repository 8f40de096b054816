package loadgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"time"
)

// Stage is one part of a profile: for Duration, the arrival rate goes
// linearly from From to To sessions per second.
type Stage struct {
	Duration time.Duration `json:"-"`
	From     float64       `json:"from"`
	To       float64       `json:"to"`
}

// stageJSON is a stage as a profile file writes it: the duration as Go
// writes durations ("30s", "2m").
type stageJSON struct {
	Duration string  `json:"duration"`
	From     float64 `json:"from"`
	To       float64 `json:"to"`
}

// Profile is how sessions arrive over a run: its stages one after the
// other. Sessions arrive whatever the server does (an open model).
type Profile struct {
	Name   string  `json:"name"`
	Stages []Stage `json:"stages"`
}

// MarshalJSON writes the stages with their durations as text.
func (s Stage) MarshalJSON() ([]byte, error) {
	return json.Marshal(stageJSON{Duration: s.Duration.String(), From: s.From, To: s.To})
}

// Profile names.
const (
	ProfileSteady    = "steady"
	ProfileRamp      = "ramp"
	ProfileSpike     = "spike"
	ProfileSaleStart = "sale-start"
)

// ProfileNames lists the named profiles.
var ProfileNames = []string{ProfileSteady, ProfileRamp, ProfileSpike, ProfileSaleStart}

// Named returns a named profile of length d peaking at rate sessions per
// second:
//
//   - steady: rate throughout;
//   - ramp: from 0 to rate over d;
//   - spike: a tenth of rate, then rate for the middle fifth of d, then a
//     tenth again;
//   - sale-start: a tenth of rate until the sale starts (saleIn from now;
//     a fifth of d when saleIn is not positive), rate within 5 s of the
//     start, held for a third of what is left, then decaying to a tenth.
func Named(name string, rate float64, d, saleIn time.Duration) (Profile, error) {
	if rate <= 0 || d <= 0 {
		return Profile{}, errors.New("a profile needs a positive rate and duration")
	}
	quiet := rate / 10
	p := Profile{Name: name}
	switch name {
	case ProfileSteady:
		p.Stages = []Stage{{d, rate, rate}}
	case ProfileRamp:
		p.Stages = []Stage{{d, 0, rate}}
	case ProfileSpike:
		edge := 2 * d / 5
		p.Stages = []Stage{{edge, quiet, quiet}, {d - 2*edge, rate, rate}, {edge, quiet, quiet}}
	case ProfileSaleStart:
		if saleIn <= 0 || saleIn >= d {
			saleIn = d / 5
		}
		rise := min(5*time.Second, (d-saleIn)/4)
		rest := d - saleIn - rise
		hold := rest / 3
		p.Stages = []Stage{{saleIn, quiet, quiet}, {rise, quiet, rate}, {hold, rate, rate}, {rest - hold, rate, quiet}}
	default:
		return Profile{}, fmt.Errorf("unknown profile %q: use %s, or a JSON file", name, strings.Join(ProfileNames, ", "))
	}
	return p, nil
}

// ReadProfile reads a profile file: {"name": "…", "stages": [{"duration":
// "30s", "from": 0, "to": 500}, …]}.
func ReadProfile(path string) (Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Profile{}, err
	}
	var f struct {
		Name   string      `json:"name"`
		Stages []stageJSON `json:"stages"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Profile{}, fmt.Errorf("profile %s: %w", path, err)
	}
	p := Profile{Name: f.Name}
	if p.Name == "" {
		p.Name = path
	}
	for i, s := range f.Stages {
		d, err := time.ParseDuration(s.Duration)
		switch {
		case err != nil || d <= 0:
			return Profile{}, fmt.Errorf("profile %s: stages[%d].duration %q must be a positive duration such as 30s", path, i, s.Duration)
		case s.From < 0 || s.To < 0 || math.IsNaN(s.From) || math.IsNaN(s.To) || math.IsInf(s.From+s.To, 0):
			return Profile{}, fmt.Errorf("profile %s: stages[%d]: rates must be finite and not negative", path, i)
		}
		p.Stages = append(p.Stages, Stage{Duration: d, From: s.From, To: s.To})
	}
	if len(p.Stages) == 0 {
		return Profile{}, fmt.Errorf("profile %s: no stages", path)
	}
	return p, nil
}

// Duration is the profile's length.
func (p Profile) Duration() time.Duration {
	var d time.Duration
	for _, s := range p.Stages {
		d += s.Duration
	}
	return d
}

// RateAt is the arrival rate at offset t from the start; 0 outside the
// profile.
func (p Profile) RateAt(t time.Duration) float64 {
	if t < 0 {
		return 0
	}
	for _, s := range p.Stages {
		if t < s.Duration {
			return s.From + (s.To-s.From)*float64(t)/float64(s.Duration)
		}
		t -= s.Duration
	}
	return 0
}

// Peak is the highest rate of the profile.
func (p Profile) Peak() float64 {
	var m float64
	for _, s := range p.Stages {
		m = max(m, s.From, s.To)
	}
	return m
}

// Expected is the number of arrivals the profile expects: the integral of
// its rate.
func (p Profile) Expected() float64 {
	var n float64
	for _, s := range p.Stages {
		n += (s.From + s.To) / 2 * s.Duration.Seconds()
	}
	return n
}

// Arrivals calls yield with the offset of each arrival of a Poisson
// process following the profile's rate (by thinning a process at the peak
// rate), in order, until yield returns false or the profile ends. The
// same seed gives the same offsets.
func (p Profile) Arrivals(seed uint64, yield func(time.Duration) bool) {
	peak := p.Peak()
	if peak <= 0 {
		return
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x5a1e))
	end := p.Duration().Seconds()
	t := 0.0
	for {
		t += rng.ExpFloat64() / peak
		if t >= end {
			return
		}
		at := time.Duration(t * float64(time.Second))
		if rng.Float64()*peak < p.RateAt(at) && !yield(at) {
			return
		}
	}
}

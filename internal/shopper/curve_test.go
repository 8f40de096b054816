package shopper

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

func TestActivityShape(t *testing.T) {
	at := func(h, m int) float64 { return Activity(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"04:00", at(4, 0), 0.12},
		{"12:00", at(12, 0), 0.52},
		{"20:00", at(20, 0), 1},
		{"21:30", at(21, 30), 1},
		{"23:00", at(23, 0), 1},
		{"23:30, halfway to midnight", at(23, 30), (1 + 0.55) / 2},
		{"24:00 wraps to 00:00", Activity(24 * time.Hour), 0.55},
		{"-1h wraps to 23:00", Activity(-time.Hour), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if math.Abs(tt.got-tt.want) > 1e-12 {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	// Low at night, rising through the afternoon, the peak in the evening.
	if !(at(4, 0) < at(9, 0) && at(9, 0) < at(14, 0) && at(14, 0) < at(17, 0) && at(17, 0) < at(19, 0) && at(19, 0) < at(20, 0)) {
		t.Errorf("curve does not rise from 04:00 to 20:00")
	}
	for m := 0; m < 24*60; m++ {
		a := at(0, m)
		if a < 0.12-1e-12 || a > 1+1e-12 {
			t.Fatalf("Activity(%dm): got %v, want 0.12 to 1", m, a)
		}
		if inPeak := m >= 20*60 && m <= 23*60; inPeak != (a == 1) {
			t.Fatalf("Activity(%dm): got %v; want 1 exactly from 20:00 to 23:00", m, a)
		}
	}
}

// TestMeanActivity integrates the curve over a day with a step that does
// not fall on the hours, and compares with the documented mean.
func TestMeanActivity(t *testing.T) {
	const step = 7 * time.Second
	var sum float64
	for d := time.Duration(0); d < 24*time.Hour; d += step {
		sum += (Activity(d) + Activity(d+step)) / 2 * step.Seconds()
	}
	mean := sum / (24 * time.Hour).Seconds()
	if math.Abs(mean-MeanActivity) > 1e-4 {
		t.Errorf("mean of Activity over a day: got %.5f, want MeanActivity %.5f", mean, MeanActivity)
	}
	if MeanActivity != 0.54 {
		t.Errorf("MeanActivity: got %v, want 0.54 as documented (update the doc comment with the curve)", MeanActivity)
	}

	// The rate over all markets, each on its own clock, has the same mean.
	sim, err := New(Config{BaseURL: "http://127.0.0.1:1", Rate: 2})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	sum = 0
	for d := time.Duration(0); d < 24*time.Hour; d += step {
		sum += (sim.RateAt(day.Add(d)) + sim.RateAt(day.Add(d+step))) / 2 * step.Seconds()
	}
	perDay := 2 * MeanActivity * (24 * time.Hour).Seconds()
	if math.Abs(sum-perDay)/perDay > 1e-4 {
		t.Errorf("sessions a day at Rate 2: got %.0f, want %.0f", sum, perDay)
	}
}

func TestRateFollowsGulfTime(t *testing.T) {
	sim, err := New(Config{BaseURL: "http://127.0.0.1:1", Rate: 10})
	if err != nil {
		t.Fatal(err)
	}
	dubai := func(h int) time.Time { return time.Date(2026, 6, 15, h, 0, 0, 0, Dubai) }
	evening, night := sim.RateAt(dubai(21)), sim.RateAt(dubai(4))
	if !(evening > 4*night) {
		t.Errorf("rate: got %.2f/s at 21:00 Dubai and %.2f/s at 04:00, want the evening far busier", evening, night)
	}
	if got := sim.RateAt(time.Date(2026, 6, 15, 17, 30, 0, 0, time.UTC)); math.Abs(got-10) > 1e-9 {
		t.Errorf("rate at 17:30 UTC (every market at its peak): got %v, want the peak rate 10", got)
	}
	// At 20:00 in Dubai it is 19:00 in Riyadh: the UAE is at its peak, Saudi
	// Arabia not yet.
	at := dubai(20)
	if a, s := localActivity(at, souq.AE), localActivity(at, souq.SA); a != 1 || s != activityByHour[19] {
		t.Errorf("20:00 Dubai: got UAE %v and Saudi %v, want 1 and %v", a, s, activityByHour[19])
	}
}

// TestMarketMix draws shoppers at the peak, when the mix is each market's
// share, and at 20:00 Dubai, when Saudi Arabia (an hour behind) is not yet
// at its peak.
func TestMarketMix(t *testing.T) {
	const n = 40000
	for _, tt := range []struct {
		name string
		at   time.Time
	}{
		{"all markets at peak", time.Date(2026, 6, 15, 17, 30, 0, 0, time.UTC)},
		{"20:00 Dubai", time.Date(2026, 6, 15, 20, 0, 0, 0, Dubai)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			counts := map[souq.MarketCode]int{}
			for range n {
				counts[pickMarket(rng.Float64(), tt.at)]++
			}
			var total float64
			for _, m := range marketCodes {
				total += marketShare[m] * localActivity(tt.at, m)
			}
			for _, m := range marketCodes {
				want := marketShare[m] * localActivity(tt.at, m) / total
				got := float64(counts[m]) / n
				if math.Abs(got-want) > 0.01 {
					t.Errorf("%s: got %.3f of shoppers, want %.3f", m, got, want)
				}
			}
			if !(counts[souq.SA] > counts[souq.KW] && counts[souq.AE] > counts[souq.KW] && counts[souq.KW] > counts[souq.BH]) {
				t.Errorf("mix %v: want Saudi Arabia and the UAE most, Bahrain least", counts)
			}
		})
	}
	var sum float64
	for _, w := range marketShare {
		sum += w
	}
	if math.Abs(sum-1) > 1e-12 || len(marketShare) != len(souq.MarketCodes()) {
		t.Errorf("market shares: got %d summing to %v, want all 6 summing to 1", len(marketShare), sum)
	}
}

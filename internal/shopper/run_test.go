package shopper

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// emptyShop answers like a shop with no products and no sale, so each
// session is one quick listing.
func emptyShop(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/products":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"items":[],"total":0,"page":1,"page_size":24}`))
		default:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"type":"urn:souq:problem:not-found","status":404,"detail":"no sale"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestArrivalsFollowTheCurve runs the arrival process Run uses (candidate
// gaps, then thinning) over a simulated day: the day's total must be Rate ×
// MeanActivity × 24 h, and each hour's count must follow RateAt.
func TestArrivalsFollowTheCurve(t *testing.T) {
	const rate = 2.0
	sim, err := New(Config{BaseURL: "http://127.0.0.1:1", Rate: rate})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 6, 15, 0, 0, 0, 0, Dubai)
	rng := rand.New(rand.NewPCG(11, 0x5eed))
	var hours [24]float64
	var total float64
	for at := day; ; {
		at = at.Add(sim.nextCandidate(rng))
		if !at.Before(day.Add(24 * time.Hour)) {
			break
		}
		if sim.keep(rng, at) {
			hours[at.Sub(day)/time.Hour]++
			total++
		}
	}
	want := rate * MeanActivity * 24 * 3600 // 93,312
	if math.Abs(total-want) > 5*math.Sqrt(want) {
		t.Errorf("sessions in a day: got %.0f, want %.0f ± %.0f", total, want, 5*math.Sqrt(want))
	}
	for h, got := range hours {
		var mean float64 // RateAt integrated over the hour
		for m := range 60 {
			mean += sim.RateAt(day.Add(time.Duration(h)*time.Hour+time.Duration(m)*time.Minute+30*time.Second)) * 60
		}
		if math.Abs(got-mean) > 5*math.Sqrt(mean) {
			t.Errorf("%02d:00 Dubai: got %.0f sessions, want %.0f ± %.0f", h, got, mean, 5*math.Sqrt(mean))
		}
	}
	if !(hours[21] > 4*hours[4]) {
		t.Errorf("hours: got %.0f at 21:00 and %.0f at 04:00, want the evening far busier", hours[21], hours[4])
	}
}

// TestRunStartsSessions runs Run in real time for a moment at a peak
// and at a night clock: sessions start at about the rate, and far fewer at
// night.
func TestRunStartsSessions(t *testing.T) {
	srv := emptyShop(t)
	const rate, d = 200.0, time.Second
	counts := map[string]int64{}
	for _, tt := range []struct {
		name string
		at   time.Time
	}{
		{"21:00 Dubai", time.Date(2026, 6, 15, 21, 0, 0, 0, Dubai)},
		{"04:00 Dubai", time.Date(2026, 6, 15, 4, 0, 0, 0, Dubai)},
	} {
		sim, err := New(Config{BaseURL: srv.URL, Rate: rate, Seed: 11, Speed: 1e12, Now: func() time.Time { return tt.at }})
		if err != nil {
			t.Fatal(err)
		}
		// Arrivals follow a virtual clock that ends the run after d, so
		// the count does not depend on how busy the machine is.
		ctx, cancel := context.WithCancel(t.Context())
		var elapsed time.Duration
		sim.wait = func(ctx context.Context, gap time.Duration) error {
			if elapsed += gap; elapsed >= d {
				cancel()
			}
			return ctx.Err()
		}
		if err := sim.Run(ctx); err != nil {
			t.Fatalf("Run: got %v, want nil", err)
		}
		cancel()
		st := sim.Stats()
		counts[tt.name] = st.Sessions + st.Dropped
		want := sim.RateAt(tt.at) * d.Seconds()
		t.Logf("%s: %d sessions, %d dropped; want about %.0f", tt.name, st.Sessions, st.Dropped, want)
		if got := float64(counts[tt.name]); math.Abs(got-want) > 4*math.Sqrt(want) {
			t.Errorf("%s: got %v sessions in %v, want about %.0f", tt.name, got, d, want)
		}
		if st.Errors != 0 || st.Active != 0 {
			t.Errorf("%s: got %d errors and %d active after Run, want 0 and 0", tt.name, st.Errors, st.Active)
		}
	}
	if counts["21:00 Dubai"] < 3*counts["04:00 Dubai"] {
		t.Errorf("sessions: got %v, want the evening at least three times the night", counts)
	}
}

// runFor runs sim for d and fails the test if Run does not return nil
// within two seconds of the end.
func runFor(t *testing.T, sim *Simulator, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sim.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: got %v, want nil", err)
		}
	case <-time.After(d + 2*time.Second):
		t.Fatalf("Run did not return within 2s of its context's end")
	}
}

// TestRunStopsOnCancel cancels Run while every session waits on a shop
// that never answers: Run must return promptly, with no session left.
func TestRunStopsOnCancel(t *testing.T) {
	release := make(chan struct{})
	var inFlight atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight.Add(1)
		defer inFlight.Add(-1)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	const maxConcurrent = 8
	sim, err := New(Config{BaseURL: srv.URL, WriteKey: "wk", Rate: 200, Seed: 1, Speed: 1e12, MaxConcurrent: maxConcurrent,
		RequestTimeout: time.Minute, Now: func() time.Time { return peakTime }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Run(ctx) }()

	deadline := time.Now().Add(5 * time.Second)
	for sim.Stats().Active < maxConcurrent && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := sim.Stats().Active; got != maxConcurrent {
		t.Fatalf("active sessions: got %d, want %d waiting on the shop", got, maxConcurrent)
	}
	time.Sleep(100 * time.Millisecond) // more arrivals, all dropped
	cancel()
	start := time.Now()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: got %v, want nil after cancel", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return within 2s of cancel")
	}
	t.Logf("Run returned %v after cancel", time.Since(start))
	st := sim.Stats()
	// A session may end on its own before the cancel and free a slot, so
	// the count of sessions is at least, not exactly, maxConcurrent.
	if st.Active != 0 || st.Sessions < maxConcurrent || st.Dropped == 0 {
		t.Errorf("stats: got %+v, want at least %d sessions, none active, some dropped", st, maxConcurrent)
	}
	if st.Errors != 0 {
		t.Errorf("errors: got %d, want requests cut by the cancel not counted as failures", st.Errors)
	}
}

func TestNewChecksConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no URL", Config{}, "base URL"},
		{"not http", Config{BaseURL: "ftp://shop.example"}, "base URL"},
		{"no host", Config{BaseURL: "http://"}, "base URL"},
		{"negative rate", Config{BaseURL: "http://a", Rate: -1}, "rate"},
		{"negative speed", Config{BaseURL: "http://a", Speed: -1}, "speed"},
		{"think max below min", Config{BaseURL: "http://a", ThinkMin: time.Second, ThinkMax: time.Millisecond}, "think time"},
		{"negative concurrency", Config{BaseURL: "http://a", MaxConcurrent: -1}, "max concurrent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error about %s", err, tt.want)
			}
		})
	}
	sim, err := New(Config{BaseURL: "http://127.0.0.1:8080/"})
	if err != nil {
		t.Fatal(err)
	}
	c := sim.cfg
	if c.Rate != DefaultRate || c.MaxConcurrent != DefaultMaxConcurrent || c.Speed != 1 || c.ThinkMin != DefaultThinkMin ||
		c.ThinkMax != DefaultThinkMax || c.RequestTimeout != DefaultRequestTimeout || sim.base != "http://127.0.0.1:8080" {
		t.Errorf("defaults: got %+v (base %s), want the documented defaults", c, sim.base)
	}
}

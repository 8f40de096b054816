package overload

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var t0 = time.Date(2026, 11, 27, 20, 0, 0, 0, time.UTC)

// TestClassesShedInOrder: at a limit of 10, browsing is refused from 6 in
// progress, shop requests from 9, critical ones never.
func TestClassesShedInOrder(t *testing.T) {
	l := New(Config{Initial: 10, Min: 10, Max: 10})
	take := func(c Class) bool {
		_, ok := l.Acquire(c, t0)
		return ok
	}
	for i := range 6 {
		if !take(Browse) {
			t.Fatalf("browse request %d refused below 60%% of the limit", i+1)
		}
	}
	if take(Browse) {
		t.Error("browse request accepted at 60% of the limit")
	}
	for i := range 3 {
		if !take(Shop) {
			t.Fatalf("shop request %d refused below 90%% of the limit", i+1)
		}
	}
	if take(Shop) {
		t.Error("shop request accepted at 90% of the limit")
	}
	for range 20 {
		if !take(Critical) {
			t.Fatal("critical request refused")
		}
	}
	if !take(Exempt) {
		t.Error("exempt request refused")
	}
	st := l.Stats()
	if st.InFlight != 29 || st.Shed != [3]int64{1, 1, 0} {
		t.Errorf("stats %+v, want 29 in flight, one browse and one shop refused", st)
	}
}

// play runs n windows of requests of latency d through l, as a server at
// its limit would, and returns the limit after them.
func play(l *Limiter, at *time.Time, windows int, d time.Duration) int {
	for range windows {
		for range 20 {
			done, ok := l.Acquire(Critical, *at)
			if ok {
				done(at.Add(d))
			}
			*at = at.Add(DefaultWindow / 20)
		}
	}
	return l.Stats().Limit
}

// TestLimitFollowsLatency: the limit grows while latency holds, shrinks
// when it rises beyond the tolerance, and grows again when it recovers.
func TestLimitFollowsLatency(t *testing.T) {
	l := New(Config{Initial: 100, Max: 1000})
	at := t0
	grown := play(l, &at, 40, 10*time.Millisecond)
	if grown <= 150 {
		t.Fatalf("limit after 10 s at a steady 10 ms: %d, want it grown from 100", grown)
	}
	shrunk := play(l, &at, 40, 80*time.Millisecond)
	if shrunk >= grown/2 {
		t.Errorf("limit after 10 s at 8× the baseline latency: %d, want under half of %d", shrunk, grown)
	}
	if b := l.Stats().Baseline; b > 15*time.Millisecond {
		t.Errorf("baseline %v after an overload, want it kept near 10ms", b)
	}
	again := play(l, &at, 40, 10*time.Millisecond)
	if again <= shrunk {
		t.Errorf("limit after latency recovered: %d, want above %d", again, shrunk)
	}
	t.Logf("limit: 100 → %d (10 ms) → %d (80 ms) → %d (10 ms)", grown, shrunk, again)
}

func TestHandler(t *testing.T) {
	l := New(Config{Initial: 10, Min: 10, Max: 10})
	reg := prometheus.NewRegistry()
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	h := Handler(l, Classify, reg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/en/p/") { // product pages hold until released
			started <- struct{}{}
			<-release
		}
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	for range 6 { // six product pages in progress: 60% of the limit
		go func() {
			resp, err := http.Get(srv.URL + "/en/p/glow-serum")
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	for range 6 {
		<-started
	}
	resp, err := http.Get(srv.URL + "/api/v1/products?market=AE")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("browse beyond its share: %d, Retry-After %q, %s; want 503 problem with Retry-After 1",
			resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"))
	}
	resp, err = http.Get(srv.URL + "/livez") // exempt: served while the others hold
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("health check at the limit: %d, want 200", resp.StatusCode)
	}
	if got := shedCount(t, reg, "browse"); got != 1 {
		t.Errorf("souq_shed_requests_total{class=browse} = %g, want 1", got)
	}
	close(release)
}

func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		method, path string
		header       []string
		want         Class
	}{
		{"GET", "/api/v1/products", nil, Browse},
		{"GET", "/en/p/glow-serum", nil, Browse},
		{"POST", "/v1/batch", nil, Browse},
		{"POST", "/api/v1/carts/c1/items", nil, Shop},
		{"POST", "/api/v1/orders", nil, Shop},
		{"POST", "/api/v1/orders", []string{"Souq-Admission", "v1.x"}, Critical},
		{"GET", "/ar/checkout", nil, Shop},
		{"POST", "/ar/checkout", []string{"Cookie", "souq_adm=v1.x"}, Critical},
		{"POST", "/api/v1/orders/ord_1/payment", nil, Critical},
		{"POST", "/api/v1/payments/webhook", nil, Critical},
		{"GET", "/api/v1/queue/q_X", nil, Exempt},
		{"GET", "/en/queue", nil, Exempt},
		{"GET", "/readyz", nil, Exempt},
	} {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		for i := 0; i+1 < len(tt.header); i += 2 {
			r.Header.Set(tt.header[i], tt.header[i+1])
		}
		if got := Classify(r); got != tt.want {
			t.Errorf("%s %s %v: %s, want %s", tt.method, tt.path, tt.header, got, tt.want)
		}
	}
}

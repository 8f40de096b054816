package loadgen

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/demo"
	"github.com/souq-commerce/souq/internal/httpapi"
	"github.com/souq-commerce/souq/internal/payment"
	"github.com/souq-commerce/souq/internal/sqlite"
)

func TestNamedProfiles(t *testing.T) {
	const d = 100 * time.Second
	tests := []struct {
		name     string
		saleIn   time.Duration
		at       map[time.Duration]float64
		expected float64
	}{
		{ProfileSteady, 0, map[time.Duration]float64{0: 50, 99 * time.Second: 50, d: 0}, 5000},
		{ProfileRamp, 0, map[time.Duration]float64{0: 0, 50 * time.Second: 25, d: 0}, 2500},
		{ProfileSpike, 0, map[time.Duration]float64{10 * time.Second: 5, 50 * time.Second: 50, 90 * time.Second: 5}, 40*5 + 20*50 + 40*5},
		{ProfileSaleStart, 30 * time.Second, map[time.Duration]float64{10 * time.Second: 5, 35 * time.Second: 50, 50 * time.Second: 50}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Named(tt.name, 50, d, tt.saleIn)
			if err != nil {
				t.Fatal(err)
			}
			if p.Duration() != d {
				t.Errorf("duration: got %s, want %s", p.Duration(), d)
			}
			for at, want := range tt.at {
				if got := p.RateAt(at); math.Abs(got-want) > 1e-9 {
					t.Errorf("rate at %s: got %.2f, want %.2f", at, got, want)
				}
			}
			if tt.expected >= 0 && math.Abs(p.Expected()-tt.expected) > 1e-6 {
				t.Errorf("expected arrivals: got %.1f, want %.1f", p.Expected(), tt.expected)
			}
		})
	}
	if _, err := Named("tsunami", 50, d, 0); err == nil || !strings.Contains(err.Error(), "sale-start") {
		t.Errorf("unknown profile: got %v, want an error listing the profiles", err)
	}
}

// TestArrivals: the same seed gives the same arrivals; their number is
// the profile's integral within Poisson noise; they follow the rate (a
// ramp has three times as many in its last third as in its first half).
func TestArrivals(t *testing.T) {
	p, _ := Named(ProfileRamp, 400, 50*time.Second, 0)
	collect := func(seed uint64) []time.Duration {
		var out []time.Duration
		p.Arrivals(seed, func(at time.Duration) bool { out = append(out, at); return true })
		return out
	}
	a, b, c := collect(7), collect(7), collect(8)
	if len(a) != len(b) || a[len(a)/2] != b[len(b)/2] {
		t.Fatalf("seed 7 twice: %d and %d arrivals, differing", len(a), len(b))
	}
	if len(a) == len(c) && a[len(a)/2] == c[len(c)/2] {
		t.Errorf("seeds 7 and 8 gave the same arrivals")
	}
	want := p.Expected() // 10,000
	if got := float64(len(a)); math.Abs(got-want) > 5*math.Sqrt(want) {
		t.Errorf("arrivals: got %.0f, want %.0f ± %.0f", got, want, 5*math.Sqrt(want))
	}
	var firstHalf, lastThird int
	for i, at := range a {
		if i > 0 && at < a[i-1] {
			t.Fatalf("arrivals out of order at %d", i)
		}
		switch {
		case at < 25*time.Second:
			firstHalf++
		case at >= 100*time.Second/3:
			lastThird++
		}
	}
	// ∫ over the first half: 1/4 of the total; over the last third: 5/9.
	if r := float64(lastThird) / float64(firstHalf); r < 2.0 || r > 2.45 {
		t.Errorf("last third / first half: got %.2f, want about 20/9 = 2.22", r)
	}
}

func TestReadProfile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := writeFile(p, body); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p, err := ReadProfile(write("ok.json", `{"name": "white friday", "stages": [{"duration": "1m", "from": 0, "to": 100}, {"duration": "30s", "from": 100, "to": 100}]}`))
	if err != nil || p.Name != "white friday" || p.Duration() != 90*time.Second || p.Expected() != 3000+3000 {
		t.Errorf("good file: got %+v, %v", p, err)
	}
	for name, body := range map[string]string{
		"no-stages.json": `{"stages": []}`,
		"bad-dur.json":   `{"stages": [{"duration": "soon", "from": 1, "to": 2}]}`,
		"negative.json":  `{"stages": [{"duration": "1m", "from": -1, "to": 2}]}`,
		"unknown.json":   `{"stages": [{"duration": "1m", "from": 1, "to": 2, "users": 5}]}`,
		"not-json.json":  `stages: 1`,
		"zero-dur.json":  `{"stages": [{"duration": "0s", "from": 1, "to": 2}]}`,
		"infinite.json":  `{"stages": [{"duration": "1m", "from": 1e400, "to": 2}]}`,
	} {
		if _, err := ReadProfile(write(name, body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestThresholds(t *testing.T) {
	ts, err := ParseThresholds("checkout.p99<200ms, errors<0.5%,browse.p99.9<=1s,checkout.errors<1%")
	if err != nil || len(ts) != 4 {
		t.Fatalf("got %+v, %v", ts, err)
	}
	if ts[0].Step != "checkout" || ts[0].Percentile != 99 || ts[0].Latency != 200*time.Millisecond ||
		ts[1].Step != "" || ts[1].ErrorShare != 0.005 || !ts[2].Inclusive || ts[2].Percentile != 99.9 {
		t.Errorf("parsed: %+v", ts)
	}
	for _, bad := range []string{"checkout.p99>200ms", "checkout.p99<fast", "errors<5", "cart.p99<1s", "p0<1s", "errors<101%", "checkout.p99<-1ms"} {
		if _, err := ParseThresholds(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}

	rec := newRecorder(time.Unix(0, 0))
	for i := range 100 {
		code := 201
		if i == 0 {
			code = 503
		}
		rec.request("checkout", time.Unix(0, 0), time.Unix(0, 0).Add(time.Duration(i+1)*time.Millisecond), code)
	}
	r := &Report{steps: rec.steps, all: rec.all}
	for _, s := range Steps {
		r.Steps = append(r.Steps, stepReport(s, rec.steps[s]))
	}
	r.All = stepReport("all", rec.all)
	out := Judge(ts, r)
	// checkout p99 is 99 ms; 1 % failed; browse has no requests, so its
	// p99.9 is 0, which is <= 1s.
	want := []bool{true, false, true, false}
	for i, o := range out {
		if o.Met != want[i] {
			t.Errorf("%s: met %v (actual %s), want %v", o.Text, o.Met, o.Actual, want[i])
		}
	}
}

// TestFirstRequestCountsLateStart: a session started after its arrival
// time counts the delay in its first request's latency, not its later
// ones' (no coordinated omission).
func TestFirstRequestCountsLateStart(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	rec := newRecorder(now)
	tr := &transport{rec: rec, now: clock, next: roundTrip(func(*http.Request) (*http.Response, error) {
		mu.Lock()
		now = now.Add(10 * time.Millisecond) // every answer takes 10 ms
		mu.Unlock()
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}"))}, nil
	})}
	ctx := withArrival(context.Background(), now.Add(-2*time.Second)) // due two seconds ago
	for range 2 {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://shop.example/api/v1/products/prd_1", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	st := stepReport("product", rec.steps["product"])
	if st.Requests != 2 || st.Max < 2010 || st.P50 > 10.1 {
		t.Errorf("latencies: %+v; want one of 2,010 ms and one of 10 ms", st)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// shop starts the real shop API on SQLite with the demo catalogue and
// the test payment provider.
func shop(t *testing.T) string {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "souq.db"), sqlite.Options{Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat := catalog.New(db, time.Now, log)
	carts := cart.New(db, cat, time.Now, log)
	orders := checkout.New(db, cat, carts, checkout.Payments{Provider: payment.NewTestProvider()}, time.Now, log)
	if _, err := demo.Seed(t.Context(), cat, time.Now(), log); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Deps{Catalog: cat, Carts: carts, Checkout: orders, Ready: db.Ready, Log: log,
		AdminToken: testAdminToken}))
	t.Cleanup(srv.Close)
	return srv.URL
}

const testAdminToken = "test-admin"

// TestRun plays a short steady profile against the real shop: every
// arrival is started or counted, requests are recorded per step with
// their statuses, orders are placed, the audit after it finds them all in
// the shop, and the report's JSON holds it.
func TestRun(t *testing.T) {
	base := shop(t)
	p, _ := Named(ProfileSteady, 40, 2*time.Second, 0)
	var snaps int
	rep, err := Run(t.Context(), Config{BaseURL: base, Profile: p, Users: 1000, Seed: 3, AdminToken: testAdminToken,
		ThinkMin: time.Millisecond, ThinkMax: 5 * time.Millisecond, RequestTimeout: 10 * time.Second,
		Progress: func(Snapshot) { snaps++ }})
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Sessions
	if s.Arrived == 0 || s.Started+s.NotStarted != s.Arrived || s.Completed+s.Failed+s.Cancelled != s.Started || s.NotStarted != 0 {
		t.Errorf("sessions: %+v; every arrival started, every start ended", s)
	}
	if s.Failed != 0 || rep.All.Failed != 0 || rep.Interrupted {
		t.Errorf("failures against a healthy shop: %d sessions, %d requests (interrupted %v)", s.Failed, rep.All.Failed, rep.Interrupted)
	}
	byStep := map[string]StepReport{}
	var sum int64
	for _, st := range rep.Steps {
		byStep[st.Step] = st
		sum += st.Requests
	}
	if sum != rep.All.Requests || byStep["product"].Requests == 0 || byStep["browse"].Requests+byStep["search"].Requests < s.Started {
		t.Errorf("requests: %d over the steps, %d in all; product %d; browse+search %d for %d sessions",
			sum, rep.All.Requests, byStep["product"].Requests, byStep["browse"].Requests+byStep["search"].Requests, s.Started)
	}
	if s.Orders == 0 || byStep["checkout"].Statuses["201"] != s.Orders {
		t.Errorf("orders: %d placed, checkout statuses %v", s.Orders, byStep["checkout"].Statuses)
	}
	if snaps == 0 || rep.Memory.PeakSysBytes == 0 || len(rep.PerSecond) == 0 {
		t.Errorf("progress calls %d, memory %+v, %d seconds of series", snaps, rep.Memory, len(rep.PerSecond))
	}
	if a := rep.Audit; a == nil || !a.Passed || a.Skipped != "" || a.OrdersAnswered != int(s.Orders) || a.OrdersFound != a.OrdersAnswered || a.ProductsHeld == 0 || a.UnitsOrdered == 0 {
		t.Errorf("audit: %+v; want it passed with the %d orders placed", a, s.Orders)
	}
	var page strings.Builder
	if err := rep.WriteHTML(&page); err != nil {
		t.Fatalf("HTML report: %v", err)
	}
	html := page.String()
	if strings.Count(html, "<polyline") != 9 || !strings.Contains(html, "checkout") || !strings.Contains(html, "passed") ||
		strings.Contains(html, "<script") || strings.Contains(html, "src=") || strings.Contains(html, "href=") {
		t.Errorf("HTML report: want 9 lines in 4 charts, the steps and the audit, nothing fetched or run:\n%s", html)
	}
	b, err := json.Marshal(rep)
	if err != nil || !strings.Contains(string(b), `"p99_ms"`) || !strings.Contains(string(b), `"duration":"2s"`) {
		t.Errorf("report JSON: %v\n%s", err, b)
	}
}

// TestRunNotStarted: with room for one session, the arrivals that find it
// taken are counted as not started, and stopping the run early ends the
// sessions in progress and marks the report interrupted.
func TestRunNotStarted(t *testing.T) {
	base := shop(t)
	p, _ := Named(ProfileSteady, 50, 10*time.Second, 0)
	ctx, cancel := context.WithCancel(t.Context())
	rep, err := Run(ctx, Config{BaseURL: base, Profile: p, Users: 1, Seed: 5,
		ThinkMin: time.Hour, ThinkMax: time.Hour, RequestTimeout: 10 * time.Second,
		Progress: func(s Snapshot) {
			if s.NotStarted >= 20 {
				cancel()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Sessions
	if !rep.Interrupted || s.Started != 1 || s.NotStarted < 20 || s.Arrived != s.Started+s.NotStarted || s.Cancelled != 1 {
		t.Errorf("interrupted %v, sessions %+v; want 1 started and cancelled, the rest not started", rep.Interrupted, s)
	}
	if rep.All.Failed != 0 {
		t.Errorf("a stopped run counted %d failed requests", rep.All.Failed)
	}
}

func writeFile(path, body string) error { return os.WriteFile(path, []byte(body), 0o644) }

// TestOnlyTheShop: a shop answering with a redirect to another host does
// not send the generator there.
func TestOnlyTheShop(t *testing.T) {
	var hits int
	var mu sync.Mutex
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	}))
	defer other.Close()
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	defer shop.Close()
	p, _ := Named(ProfileSteady, 20, time.Second, 0)
	rep, err := Run(t.Context(), Config{BaseURL: shop.URL, Profile: p, Users: 100, Seed: 1,
		ThinkMin: time.Millisecond, ThinkMax: 2 * time.Millisecond, RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != 0 || rep.All.Requests == 0 || rep.All.Statuses["302"] == 0 {
		t.Errorf("requests elsewhere: %d; at the shop: %d with statuses %v", hits, rep.All.Requests, rep.All.Statuses)
	}
}

// TestAuditFindsDifferences: the audit reports an order answered 201 that
// the shop lacks, one it has that no answer named, a key answered with two
// orders, stock below zero and a product ordered beyond its stock.
func TestAuditFindsDifferences(t *testing.T) {
	start := time.Date(2026, 12, 5, 20, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer adm" && strings.HasPrefix(r.URL.Path, "/api/v1/admin/"):
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/api/v1/admin/orders":
			_, _ = io.WriteString(w, `{"items": [
				{"id": "ord_extra", "status": "placed", "created_at": "2026-12-05T20:00:03Z", "lines": [{"product_id": "prd_a", "quantity": 4}]},
				{"id": "ord_1", "status": "paid", "created_at": "2026-12-05T20:00:02Z", "lines": [{"product_id": "prd_a", "quantity": 2}]},
				{"id": "ord_2", "status": "cancelled", "created_at": "2026-12-05T20:00:01Z", "lines": [{"product_id": "prd_b", "quantity": 9}]},
				{"id": "ord_old", "status": "placed", "created_at": "2026-12-05T19:59:59Z", "lines": [{"product_id": "prd_b", "quantity": 9}]}]}`)
		case r.URL.Path == "/api/v1/products":
			_, _ = io.WriteString(w, `{"items": [{"id": "prd_a", "stock": 0}, {"id": "prd_b", "stock": -1}], "total": 2}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	log := newOrderLog()
	for key, id := range map[string]string{"k1": "ord_1", "k2": "ord_2", "k3": "ord_lost"} {
		log.capture(key, &http.Response{Body: io.NopCloser(strings.NewReader(`{"id": "` + id + `"}`))})
	}
	log.capture("k1", &http.Response{Body: io.NopCloser(strings.NewReader(`{"id": "ord_9"}`))})
	a := audit(t.Context(), adminFor(srv.URL, "adm", srv.Client()), log, map[string]int{"prd_a": 5, "prd_b": 1}, start)
	if a.Passed || a.Skipped != "" || a.OrdersAnswered != 4 || a.OrdersFound != 3 {
		t.Fatalf("audit: %+v", a)
	}
	for name, got := range map[string][]string{"missing": a.Missing, "extra": a.Extra, "duplicate keys": a.DuplicateKeys,
		"negative stock": a.NegativeStock, "oversold": a.Oversold} {
		want := map[string]string{"missing": "ord_lost", "extra": "ord_extra", "duplicate keys": "k1", "negative stock": "prd_b", "oversold": "prd_a"}[name]
		if len(got) == 0 || !strings.Contains(strings.Join(got, " "), want) {
			t.Errorf("%s: got %q, want it to name %s", name, got, want)
		}
	}
	if len(a.Missing) != 2 { // ord_lost, and ord_9 of the doubled key
		t.Errorf("missing: got %q, want ord_9 and ord_lost", a.Missing)
	}
	if wrong := audit(t.Context(), adminFor(srv.URL, "wrong", srv.Client()), log, nil, start); wrong.Skipped == "" || wrong.Problems() != 0 {
		t.Errorf("audit with a wrong token: %+v; want it skipped, saying why", wrong)
	}
}

// TestStepsWaitingForAWorker: with one worker and a shop answering in 50
// ms, steps due at once wait for the worker, and their latencies count
// the wait (no coordinated omission): the slowest is far above 50 ms.
func TestStepsWaitingForAWorker(t *testing.T) {
	const answer = 50 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(answer)
		_, _ = io.WriteString(w, `{"items": [], "total": 0}`)
	}))
	defer srv.Close()
	// 10 sessions due within 100 ms; each makes one request (an empty
	// listing ends the visit).
	p := Profile{Name: "burst", Stages: []Stage{{Duration: 100 * time.Millisecond, From: 100, To: 100}}}
	rep, err := Run(t.Context(), Config{BaseURL: srv.URL, Profile: p, Users: 100, Workers: 1, Seed: 2,
		ThinkMin: time.Millisecond, ThinkMax: time.Millisecond, RequestTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	n := rep.All.Requests
	if n < 3 {
		t.Fatalf("only %d requests: the profile should bring about 10", n)
	}
	// One worker: the last of n requests due together waits for the
	// n-1 before it.
	if floor := float64(n-1) * float64(answer/time.Millisecond) * 0.8; rep.All.Max < floor {
		t.Errorf("max latency %.0f ms for %d requests on one worker answered in %s each: want at least %.0f ms (the wait counted)",
			rep.All.Max, n, answer, floor)
	}
}

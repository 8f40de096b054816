// Command rush plays the start of a flash sale against the real binary,
// with the waiting room on and off, and reports in one run what shoppers
// and the shop got.
//
// It builds cmd/souq and starts one `souq serve` on embedded SQLite
// (GOMAXPROCS=-shop-procs, so the shop has a fixed share of the machine
// and the generator the rest), then:
//
//  1. measures checkout capacity C: -buyers clients place one-unit
//     cash-on-delivery orders back to back for -capacity-duration, no
//     sale running: C = orders answered 201 per second;
//  2. room on: a protected sale of one product holding C × -sell-seconds
//     units starts; shoppers arrive at -factor × C a second for -rush
//     (an open loop: each arrival starts on schedule). A shopper, seeing
//     the sale protected, joins the queue (POST /api/v1/queue?wait=20
//     with an Idempotency-Key: the join is held for news), waits for its
//     turn with held polls (GET /api/v1/queue/{ticket}?wait=20) if the
//     join's answer is still "waiting", and orders with its admission
//     token, or is told "sold out";
//  3. room off: the same with an unprotected sale of another product and
//     the same stock: every shopper orders at once, and retries a 503
//     (shed) after its Retry-After until -deadline.
//
// For each it reports: goodput (units sold per second from the sale's
// start to its last unit, over C: the goal with the room on is at least
// 90%), the latency of checkouts (admitted ones with the room on; the goal
// is a p99 under 200 ms), answers 5xx (the goal with the room on is 0),
// units oversold (orders answered 201 beyond the units taken from the
// stock, and stock below zero: always 0), and how long shoppers waiting when the last unit sold
// took to be told "sold out" (the goal is under 2 s). The shop starts
// with --waitroom-initial-rate C/2 and --waitroom-ceiling 2C (-initial,
// -ceiling), as an operator who rehearsed would.
//
// With -database the shops are replicas on PostgreSQL, Redis and NATS, as
// in a deployment: a checkout replica running every role, and with the
// room on a queue-only replica (--waitroom-admit=false) that takes every
// queue join and poll, as a load-balancer rule would send them; each is
// held to -checkout-cpu and -queue-cpu cores by a CFS quota in a cgroup of
// its own (a Kubernetes CPU limit; it needs root). The report adds the CPU
// each replica, this generator and the whole machine used.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/souq-commerce/souq/bench/internal/load"
	"github.com/souq-commerce/souq/bench/internal/metrics"
	"github.com/souq-commerce/souq/bench/internal/pgschema"
	"github.com/souq-commerce/souq/bench/internal/server"
)

const adminToken = "rush-bench-admin"

type config struct {
	factor, sellSeconds float64
	buyers              int
	capacityDuration    time.Duration
	rush, deadline      time.Duration
	shopProcs           int
	initial, ceiling    float64
	maxInFlight         int
	holdJoin            bool

	// Replicas on the shared engines (-database set).
	database, redis, nats string
	checkoutCPU, queueCPU float64
	profile               string // directory for the replicas' CPU profiles of the room-on rush
}

func main() {
	var c config
	flag.Float64Var(&c.factor, "factor", 10, "shoppers arriving a second at the sale's start, as a multiple of the measured checkout capacity C")
	flag.Float64Var(&c.sellSeconds, "sell-seconds", 4, "the sale's stock, in seconds of checkout capacity (C × this many units)")
	flag.IntVar(&c.buyers, "buyers", 32, "clients measuring the capacity")
	flag.DurationVar(&c.capacityDuration, "capacity-duration", 8*time.Second, "how long the capacity is measured")
	flag.DurationVar(&c.rush, "rush", 4*time.Second, "how long shoppers keep arriving after the start")
	flag.DurationVar(&c.deadline, "deadline", 60*time.Second, "how long after the start a shopper gives up")
	flag.IntVar(&c.shopProcs, "shop-procs", 1, "GOMAXPROCS of the shop")
	flag.Float64Var(&c.initial, "initial", 0.5, "the room's initial admission rate (--waitroom-initial-rate), as a multiple of C")
	flag.Float64Var(&c.ceiling, "ceiling", 2, "the room's ceiling (--waitroom-ceiling), as a multiple of C")
	flag.IntVar(&c.maxInFlight, "max-in-flight", 0, "the shop's --waitroom-max-in-flight (0: none)")
	flag.StringVar(&c.database, "database", "", "PostgreSQL `URL`: play the sale on replicas instead (a checkout replica running every role, and with the room on a queue-only replica, --waitroom-admit=false, taking /api/v1/queue), each configuration in a fresh schema")
	flag.StringVar(&c.redis, "redis", "redis://127.0.0.1:6379/0", "with -database: Redis `URL` (the shared queue and aggregates)")
	flag.StringVar(&c.nats, "nats", "nats://127.0.0.1:4222", "with -database: NATS `URL` (JetStream)")
	flag.StringVar(&c.profile, "profile", "", "with -database: write a CPU profile of each replica over the room-on rush (from the sale's start to the end of arrivals plus 4 s, under 5 minutes) into this `directory` (go tool pprof reads them)")
	flag.Float64Var(&c.checkoutCPU, "checkout-cpu", 0.5, "with -database: the checkout replica's CPU limit in `cores` (a CFS quota, as a Kubernetes limit; 0: none)")
	flag.BoolVar(&c.holdJoin, "hold-join", true, "with the room on, shoppers join with ?wait=20 (and an Idempotency-Key): the join itself is held for news, one request instead of a join and a poll; false: join, then poll")
	flag.Float64Var(&c.queueCPU, "queue-cpu", 0.5, "with -database: the queue-only replica's CPU limit in `cores` (0: none)")
	flag.Parse()
	if c.profile != "" {
		if err := os.MkdirAll(c.profile, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "rush:", err)
			os.Exit(2)
		}
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "rush:", err)
		os.Exit(1)
	}
}

func run(c config) error {
	dir, err := os.MkdirTemp("", "souq-rush-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := server.Build(dir)
	if err != nil {
		return err
	}
	ctx := context.Background()
	// HTTP/2 without TLS (the shop speaks it): tens of thousands of
	// shoppers holding a queue poll each share a few hundred connections,
	// as they would share a load balancer's.
	tr := &http.Transport{MaxIdleConns: 1000, MaxIdleConnsPerHost: 1000, IdleConnTimeout: time.Minute, Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	client := &http.Client{Timeout: 30 * time.Second, Transport: tr}

	s := &shops{c: c, bin: bin, dir: dir}
	if c.database != "" {
		if s.pg, err = pgschema.Connect(ctx, c.database); err != nil {
			return err
		}
		defer s.pg.Close(context.Background())
	}

	// Capacity, on a shop of its own.
	sh, err := s.start(ctx, "cap", false)
	if err != nil {
		return err
	}
	ids, err := createProducts(ctx, client, sh.checkout, 1_000_000_000, 1)
	if err != nil {
		sh.stop()
		return err
	}
	var seq atomic.Int64
	sh.mark()
	lat, err := load.Closed(c.buyers, c.capacityDuration, func(int) error {
		st, _, err := order(ctx, client, sh.checkout, ids[0], fmt.Sprintf("cap-%d", seq.Add(1)), "")
		if err == nil && st != http.StatusCreated {
			err = fmt.Errorf("capacity order: %d", st)
		}
		return err
	})
	capUsage := sh.usage()
	sh.stop()
	if err != nil {
		return err
	}
	capacity := float64(len(lat)) / c.capacityDuration.Seconds()
	fmt.Printf("checkout capacity C: %.0f orders/s (%d buyers, %v; p99 %.1f ms)\n  %s: %s\n",
		capacity, c.buyers, c.capacityDuration, ms(load.Pct(lat, 99)), s.describe(), capUsage)

	// The sale, with the room on and off, each on a fresh shop.
	units := int(capacity * c.sellSeconds)
	var results []result
	for _, protected := range []bool{true, false} {
		name := map[bool]string{true: "room on", false: "room off"}[protected]
		sh, err := s.start(ctx, strings.ReplaceAll(name, " ", "-"), protected,
			"--waitroom-initial-rate", strconv.Itoa(max(1, int(c.initial*capacity))), "--waitroom-ceiling", strconv.Itoa(max(1, int(c.ceiling*capacity))),
			"--waitroom-max-in-flight", strconv.Itoa(c.maxInFlight))
		if err != nil {
			return err
		}
		r, err := playSale(ctx, client, sh, c, capacity, units, protected)
		if err == nil {
			r.serverP99, err = serverP99(ctx, client, sh.checkout)
		}
		sh.stop()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		r.name = name
		results = append(results, r)
	}
	fmt.Printf("\nsale: %d units of one product; shoppers arriving at %.0f/s (%.0f× C) for %v; machine: %d cores, %s\n\n",
		units, c.factor*capacity, c.factor, c.rush, runtime.NumCPU(), runtime.Version())
	fmt.Printf("| | room on | room off |\n|---|---|---|\n")
	row := func(label string, f func(result) string) {
		fmt.Printf("| %s | %s | %s |\n", label, f(results[0]), f(results[1]))
	}
	row("shoppers arrived (offered /s)", func(r result) string { return fmt.Sprintf("%d (%.0f)", r.arrived, r.offered) })
	row("units taken from the stock / stock (201s seen)", func(r result) string { return fmt.Sprintf("%d / %d (%d)", r.taken, units, r.sold) })
	row("time to sell out", func(r result) string { return r.sellOut.Round(time.Millisecond).String() })
	row("goodput, units/s (share of C; goal ≥ 90% on)", func(r result) string {
		return fmt.Sprintf("%.0f (%.0f%%)", r.goodput, 100*r.goodput/capacity)
	})
	row("checkout p50 / p99 / max (on: admitted; goal p99 < 200 ms)", func(r result) string {
		return fmt.Sprintf("%.1f / %.1f / %.1f ms", ms(load.Pct(r.checkout, 50)), ms(load.Pct(r.checkout, 99)), ms(load.Pct(r.checkout, 100)))
	})
	row("checkout answers by status", func(r result) string {
		var parts []string
		for _, st := range slices.Sorted(maps.Keys(r.statuses)) {
			parts = append(parts, fmt.Sprintf("%d: %d", st, r.statuses[st]))
		}
		return strings.Join(parts, ", ")
	})
	row("shop's own p99 of orders placed (201), histogram bound", func(r result) string { return fmt.Sprintf("≤ %g s", r.serverP99) })
	row("answers 5xx (goal 0 on)", func(r result) string { return strconv.FormatInt(r.fivexx, 10) })
	row("no answer (timeouts, resets)", func(r result) string { return strconv.FormatInt(r.noAnswer, 10) })
	row("oversold units (always 0)", func(r result) string { return strconv.Itoa(r.oversold) })
	row("queue join p50 / p99 (answered; with -hold-join, held until news or 20 s)", func(r result) string {
		if len(r.join) == 0 {
			return "–"
		}
		return fmt.Sprintf("%.0f / %.0f ms", ms(load.Pct(r.join, 50)), ms(load.Pct(r.join, 99)))
	})
	row("admission → shopper told p50 / p99 (its token's admission time)", func(r result) string {
		if len(r.told) == 0 {
			return "–"
		}
		return fmt.Sprintf("%.0f / %.0f ms", ms(load.Pct(r.told, 50)), ms(load.Pct(r.told, 99)))
	})
	row("shoppers told sold out while waiting", func(r result) string { return strconv.Itoa(len(r.notice)) })
	row("sold-out notice p50 / p99 / max (goal < 2 s)", func(r result) string {
		if len(r.notice) == 0 {
			return "–"
		}
		return fmt.Sprintf("%.0f / %.0f / %.0f ms", ms(load.Pct(r.notice, 50)), ms(load.Pct(r.notice, 99)), ms(load.Pct(r.notice, 100)))
	})
	row("shoppers still without an answer at the deadline", func(r result) string { return strconv.FormatInt(r.gaveUp, 10) })
	row("this generator's longest stall (in every figure above)", func(r result) string { return r.stall.Round(time.Millisecond).String() })
	fmt.Println()
	for _, r := range results {
		fmt.Printf("%s, from the sale's start to the last answer: %s\n", r.name, r.usage)
	}
	if tl := results[0].timeline; len(tl) > 0 {
		fmt.Printf("\nroom on, second by second (s: from the sale's start, a span where a scrape of the busy shop failed; rate: the controller's, at the span's end; p99 and dead time: of the checkouts it measured last):\n| s | rate /s | admitted | orders 201 | p99 ms | dead time ms |\n|---|---|---|---|---|---|\n")
		last := 0 // the last second with admissions or orders: the sale's end
		for i, t := range tl {
			if t.admitted > 0 || t.commits > 0 {
				last = i
			}
		}
		for _, t := range tl[:last+1] {
			s := fmt.Sprintf("%.0f", t.at.Seconds())
			if t.span > 3*time.Second/2 {
				s = fmt.Sprintf("%.0f–%.0f", t.at.Seconds(), (t.at + t.span).Seconds())
			}
			fmt.Printf("| %s | %.0f | %.0f | %d | %.0f | %.0f |\n", s, t.rate, t.admitted, t.commits, 1000*t.p99, 1000*t.delay)
		}
	}
	return nil
}

// result is one scenario's figures.
type result struct {
	name             string
	arrived          int64
	offered          float64
	sold             int // orders answered 201
	taken            int // units gone from the stock
	oversold         int
	sellOut          time.Duration
	goodput          float64
	checkout         []time.Duration
	fivexx, noAnswer int64
	gaveUp           int64
	notice           []time.Duration
	told             []time.Duration // room on: from a place's admission to its shopper hearing of it
	join             []time.Duration // room on: queue joins answered
	statuses         map[int]int     // checkout answers by status; -status: failed queue joins
	serverP99        float64         // seconds: the bucket holding the shop's p99 of 201 orders
	usage            string          // the shop's processes' CPU during the sale
	timeline         []tick          // room on: second by second from the start
	stall            time.Duration
}

// watchStalls returns the longest this generator went without running a
// goroutine that asked to every 5 ms, until ctx ends: its own latency,
// which every figure it measured may include.
func watchStalls(ctx context.Context) time.Duration {
	const every = 5 * time.Millisecond
	var worst time.Duration
	last := time.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return worst
		case <-t.C:
			now := time.Now()
			worst = max(worst, now.Sub(last)-every)
			last = now
		}
	}
}

// admittedAt reads when the queue reached a token's place (v2 tokens,
// docs/waitroom.md): the generator shares the shop's clock.
func admittedAt(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 8 || parts[0] != "v2" {
		return time.Time{}, false
	}
	ms, err := strconv.ParseInt(parts[6], 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}

// tick is one second of a sale with the room on.
type tick struct {
	at       time.Duration // into the sale
	span     time.Duration // a second, or more when a scrape under load failed
	rate     float64       // the controller's admission rate at its end
	admitted float64       // positions admitted in the span
	commits  int           // orders answered 201 in the span
	p99      float64       // seconds: the checkouts the controller last measured
	delay    float64       // seconds: their dead time (admission to order placed, p90)
}

// watchRoom reads the room's admission rate and admitted positions from
// base's metrics every second until ctx ends (nothing with the room off).
func watchRoom(ctx context.Context, client *http.Client, base string, start time.Time, protected bool) []tick {
	if !protected {
		return nil
	}
	var out []tick
	last := -1.0
	var lastAt time.Time
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return out
		case now := <-t.C:
			m, err := metrics.Scrape(ctx, client, base)
			if err != nil {
				continue
			}
			adm := m["souq_waitroom_admitted_total"]
			if last >= 0 {
				// From the last scrape that answered: a failed one
				// (the shop busy) leaves a longer span, not a second
				// holding two seconds' admissions.
				out = append(out, tick{at: lastAt.Sub(start), span: now.Sub(lastAt), rate: m["souq_waitroom_admission_rate"], admitted: adm - last,
					p99: m["souq_waitroom_checkout_p99_seconds"], delay: m["souq_waitroom_dead_time_seconds"]})
			}
			last, lastAt = adm, now
		}
	}
}

// serverP99 reads the shop's histogram of POST /api/v1/orders answered
// 201 and returns the upper bound of the bucket holding its 99th
// percentile: the latency the shop measured, without the generator's.
func serverP99(ctx context.Context, client *http.Client, base string) (float64, error) {
	m, err := metrics.Scrape(ctx, client, base)
	if err != nil {
		return 0, err
	}
	const series = `souq_http_request_duration_seconds_bucket{code="201",method="POST",route="POST /api/v1/orders",le="%s"}`
	total := m[fmt.Sprintf(series, "+Inf")]
	for _, le := range []string{"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5"} {
		if total > 0 && m[fmt.Sprintf(series, le)] >= 0.99*total {
			return strconv.ParseFloat(le, 64)
		}
	}
	return math.Inf(1), nil
}

// playSale schedules a sale of one product with units in stock, starting
// in a few seconds, and plays the rush against it.
func playSale(ctx context.Context, client *http.Client, sh *shop, c config, capacity float64, units int, protected bool) (result, error) {
	var r result
	base := sh.checkout
	ids, err := createProducts(ctx, client, base, units, 1)
	if err != nil {
		return r, err
	}
	product := ids[0]
	start := time.Now().Add(3 * time.Second).Truncate(time.Second).Add(time.Second)
	sale := map[string]any{"name": map[string]string{"en": "Rush", "ar": "الاندفاع"}, "protected": protected,
		"starts_at": start.UTC().Format(time.RFC3339), "ends_at": start.Add(time.Hour).UTC().Format(time.RFC3339),
		"items": []map[string]any{{"product_id": product, "discount_percent": 30}}}
	if st, body, err := admin(ctx, client, base, "POST", "/api/v1/admin/sales", sale); err != nil || st != http.StatusCreated {
		return r, fmt.Errorf("schedule sale: %d %s %v", st, body, err)
	}
	time.Sleep(time.Until(start))
	sh.mark()
	profiled := make(chan struct{})
	if c.profile != "" && protected {
		go func() {
			defer close(profiled)
			sh.profile(ctx, c.profile, c.rush+4*time.Second)
		}()
	} else {
		close(profiled)
	}

	var (
		mu       sync.Mutex
		commits  []time.Time
		joinedAt = map[int64]time.Time{}
		toldAt   = map[int64]time.Time{}
		statuses = map[int]int{}
		wg       sync.WaitGroup
	)
	rate := c.factor * capacity
	deadline := start.Add(c.deadline)
	answer := func(st int, err error) {
		switch {
		case err != nil:
			atomic.AddInt64(&r.noAnswer, 1)
		case st >= 500:
			atomic.AddInt64(&r.fivexx, 1)
		}
	}
	checkout := func(i int64, token string) bool { // true: the shopper is done
		t0 := time.Now()
		st, _, err := order(ctx, client, base, product, fmt.Sprintf("rush-%d", i), token)
		answer(st, err)
		if err == nil && (token != "" || !protected) {
			mu.Lock()
			r.checkout = append(r.checkout, time.Since(t0))
			mu.Unlock()
		}
		if st == http.StatusCreated {
			mu.Lock()
			commits = append(commits, time.Now())
			mu.Unlock()
		}
		if err == nil {
			mu.Lock()
			statuses[st]++
			mu.Unlock()
		}
		return err == nil && st != http.StatusTooManyRequests && st != http.StatusServiceUnavailable
	}
	shopper := func(i int64) {
		defer wg.Done()
		if !protected {
			for time.Now().Before(deadline) {
				if checkout(i, "") {
					return
				}
				time.Sleep(time.Second) // Retry-After
			}
			atomic.AddInt64(&r.gaveUp, 1)
			return
		}
		// The sale says it is protected (GET /api/v1/sales/current): an app
		// queues first rather than be answered 429.
		var q struct {
			Ticket         string `json:"ticket"`
			State          string `json:"state"`
			AdmissionToken string `json:"admission_token"`
		}
		t0 := time.Now()
		join := sh.queue + "/api/v1/queue"
		if c.holdJoin {
			join += "?wait=20"
		}
		req, err := http.NewRequestWithContext(ctx, "POST", join, nil)
		if err != nil {
			panic(err) // a URL this bench made
		}
		req.Header.Set("Idempotency-Key", fmt.Sprintf("rush-%d-%d", start.UnixNano(), i))
		st, b, err := send(client, req)
		if err == nil && st < 300 {
			err = json.Unmarshal(b, &q)
		}
		answer(st, err)
		if err == nil {
			mu.Lock()
			r.join = append(r.join, time.Since(t0))
			mu.Unlock()
		}
		if err != nil || st != http.StatusCreated {
			mu.Lock()
			statuses[-st]++
			mu.Unlock()
			return
		}
		// When the shopper asked to join: a held join may answer only
		// once the sale sold out, and its shopper waited as much as one
		// who polled.
		mu.Lock()
		joinedAt[i] = t0
		mu.Unlock()
		for time.Now().Before(deadline) {
			switch q.State {
			case "admitted":
				if at, ok := admittedAt(q.AdmissionToken); ok {
					mu.Lock()
					r.told = append(r.told, time.Since(at))
					mu.Unlock()
				}
				checkout(i, q.AdmissionToken)
				return
			case "sold_out":
				mu.Lock()
				toldAt[i] = time.Now()
				mu.Unlock()
				return
			}
			st, err := getJSON(ctx, client, "GET", sh.queue+"/api/v1/queue/"+q.Ticket+"?wait=20", &q)
			answer(st, err)
			if err != nil || st != http.StatusOK {
				time.Sleep(time.Second)
			}
		}
		atomic.AddInt64(&r.gaveUp, 1)
	}
	// With the room on, what the controller did each second: its rate
	// and the positions admitted, read from the checkout replica.
	tlCtx, stopTimeline := context.WithCancel(ctx)
	timeline := make(chan []tick, 1)
	go func() { timeline <- watchRoom(tlCtx, client, base, start, protected) }()
	stalls := make(chan time.Duration, 1)
	go func() { stalls <- watchStalls(tlCtx) }()
	n := int64(rate * c.rush.Seconds())
	began := time.Now()
	for i := range n {
		time.Sleep(time.Until(began.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
		wg.Add(1)
		go shopper(i)
	}
	r.arrived = n
	r.offered = float64(n) / time.Since(began).Seconds()
	wg.Wait()
	<-profiled
	r.usage = sh.usage()
	r.statuses = statuses
	stopTimeline()
	r.timeline, r.stall = <-timeline, <-stalls

	for _, at := range commits {
		for i, t := range r.timeline {
			if at.Sub(start) >= t.at && at.Sub(start) < t.at+t.span {
				r.timeline[i].commits++
			}
		}
	}
	slices.SortFunc(commits, func(a, b time.Time) int { return a.Compare(b) })
	r.sold = len(commits)
	if r.sold > 0 {
		last := commits[len(commits)-1]
		r.sellOut = last.Sub(start)
		r.goodput = float64(r.sold) / r.sellOut.Seconds()
		for i, told := range toldAt {
			if j := joinedAt[i]; j.Before(last) {
				r.notice = append(r.notice, told.Sub(last))
			}
		}
	}
	time.Sleep(2 * time.Second) // product answers are cached for up to a second
	var p struct{ Stock int }
	if _, err := getJSON(ctx, client, "GET", base+"/api/v1/products/"+product+"?market=AE", &p); err != nil {
		return r, err
	}
	// Units gone from the stock: orders answered 201, and orders whose
	// answer the shopper never got (a timeout) but that committed. A 201
	// without its unit gone, or stock below zero, would be an oversell.
	r.taken = units - p.Stock
	r.oversold = max(0, r.sold-r.taken) + max(0, -p.Stock)
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// order places a one-unit cash-on-delivery order of product in the UAE.
func order(ctx context.Context, client *http.Client, base, product, key, token string) (int, []byte, error) {
	body, _ := json.Marshal(map[string]any{
		"market":           "AE",
		"items":            []map[string]any{{"product_id": product, "quantity": 1}},
		"customer":         map[string]any{"name": "Mariam Al Mansoori", "phone": "+971501234567"},
		"shipping_address": map[string]any{"line1": "Villa 12, Street 5", "area": "Al Barsha", "city": "Dubai", "country": "AE"},
		"payment":          map[string]any{"method": "cod"},
	})
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/orders", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	if token != "" {
		req.Header.Set("Souq-Admission", token)
	}
	return send(client, req)
}

// send sends req and returns the answer's status and (the start of) its
// body.
func send(client *http.Client, req *http.Request) (int, []byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, b, nil
}

func getJSON(ctx context.Context, client *http.Client, method, url string, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, err
	}
	st, b, err := send(client, req)
	if err == nil && st < 300 {
		err = json.Unmarshal(b, out)
	}
	return st, err
}

func admin(ctx context.Context, client *http.Client, base, method, path string, in any) (int, []byte, error) {
	body, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	return send(client, req)
}

// createProducts creates n products sold in every market with stock
// units each, and returns their ids.
func createProducts(ctx context.Context, client *http.Client, base string, stock, n int) ([]string, error) {
	var ids []string
	for i := range n {
		in := map[string]any{
			"sku": fmt.Sprintf("RUSH-%d-%d", time.Now().UnixNano(), i), "slug": fmt.Sprintf("rush-%d-%d", time.Now().UnixNano(), i),
			"brand": "Rush", "category": "skincare", "name": map[string]string{"en": "Rush Serum", "ar": "سيروم"},
			"prices": map[string]int64{"AE": 8900, "SA": 9200}, "stock": stock,
		}
		st, body, err := admin(ctx, client, base, "POST", "/api/v1/admin/products", in)
		var p struct{ ID string }
		if err != nil || st != http.StatusCreated || json.Unmarshal(body, &p) != nil {
			return nil, fmt.Errorf("create product: %d %s %v", st, body, err)
		}
		ids = append(ids, p.ID)
	}
	return ids, nil
}

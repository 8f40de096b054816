package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/shopper"
)

// DefaultWorkers is how many steps are played at once unless configured.
const DefaultWorkers = 1024

// Config is a run: where, how sessions arrive and how many may be in
// progress at once.
type Config struct {
	// BaseURL is the shop; every request goes there and nowhere else.
	BaseURL string
	// WriteKey is the collector's; empty sends no behaviour events.
	WriteKey string
	Profile  Profile
	// Users bounds the sessions in progress; an arrival beyond it is not
	// started, and counted.
	Users int
	// Workers bounds the steps played at once, and so the requests in
	// flight (DefaultWorkers when zero). A step due while every worker is
	// busy waits, and its wait counts in its latency.
	Workers int
	// Seed makes the arrivals and every session's choices repeatable.
	Seed uint64
	// CashOnly: no session pays by card (the shop has no test provider).
	CashOnly bool
	// ThinkMin and ThinkMax bound a session's pause before each step.
	ThinkMin, ThinkMax time.Duration
	// RequestTimeout bounds each request.
	RequestTimeout time.Duration
	// AdminToken, when set, makes Run audit the shop after the run
	// through its admin API (Report.Audit).
	AdminToken string
	// Progress, when set, is called about every second with the figures
	// so far, on the run's own goroutine.
	Progress func(Snapshot)
	// Registry, when set, gets the run's metrics, named souq_load_*: its
	// sessions, its requests and their latency by step, its orders and
	// the profile's arrival rate, current whenever it is gathered during
	// the run and final after it. It holds one run's: Run fails if they
	// are registered already. Nil costs nothing.
	Registry prometheus.Registerer
	// Transport sends the requests (a pooled transport when nil).
	Transport http.RoundTripper
	Log       *slog.Logger
	Now       func() time.Time
}

// Snapshot is a run's figures at one moment, for a progress line.
type Snapshot struct {
	Elapsed     time.Duration
	Length      time.Duration
	Rate        float64 // the profile's arrival rate now
	Arrived     int64
	NotStarted  int64
	Active      int64
	Requests    int64
	Failures    int64
	Orders      int64
	CheckoutP99 time.Duration
}

// Run plays the profile against the shop and returns the report, partial
// (Interrupted) if ctx ended first. Sessions arrive on the profile's
// schedule whatever the shop does; each plays a shopper's visit
// (shopper.Session). Run returns when the profile has ended and the
// sessions in progress have finished, or, after ctx ends, once they have
// stopped.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Users <= 0 {
		return nil, errors.New("loadgen: Users must be positive")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	next := cfg.Transport
	if next == nil {
		next = &http.Transport{
			Proxy:               nil, // only ever the URL given
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        4096,
			MaxIdleConnsPerHost: 4096,
			IdleConnTimeout:     90 * time.Second,
		}
	}
	target, err := url.Parse(cfg.BaseURL)
	if err != nil || target.Host == "" {
		return nil, fmt.Errorf("loadgen: base URL %q: not an absolute URL", cfg.BaseURL)
	}
	start := cfg.Now()
	rec := newRecorder(start)
	orders := newOrderLog()
	client := &http.Client{Transport: &transport{next: next, rec: rec, now: cfg.Now, orders: orders},
		// Requests go to the shop given and nowhere else: a redirect
		// elsewhere is answered as it is, not followed.
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if req.URL.Scheme != target.Scheme || req.URL.Host != target.Host {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	sim, err := shopper.New(shopper.Config{
		BaseURL: cfg.BaseURL, WriteKey: cfg.WriteKey, CashOnly: cfg.CashOnly, Seed: int64(cfg.Seed),
		Client:        client,
		MaxConcurrent: cfg.Users, ThinkMin: cfg.ThinkMin, ThinkMax: cfg.ThinkMax, RequestTimeout: cfg.RequestTimeout,
		Log: cfg.Log, Now: cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	var (
		check       admin
		stockBefore map[string]int
	)
	if cfg.AdminToken != "" {
		check = adminFor(cfg.BaseURL, cfg.AdminToken, &http.Client{Transport: next, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }})
		if stockBefore, err = check.stock(ctx); err != nil {
			cfg.Log.Warn("stock at the start not read: the audit will not check units sold", "err", err)
		}
		start = cfg.Now()
		rec.start = start
	}
	r := &Report{Target: cfg.BaseURL, Profile: cfg.Profile, Seed: cfg.Seed, Users: cfg.Users, Started: start,
		Sessions: SessionCounts{Expected: cfg.Profile.Expected()}, steps: rec.steps, all: rec.all}

	var counts tally
	if cfg.Registry != nil {
		// Before the first request, and after start is known.
		if rec.metrics, err = newMetrics(cfg.Registry, &counts, cfg.Profile, start, cfg.Now); err != nil {
			return nil, fmt.Errorf("loadgen: %w", err)
		}
	}
	mem := newMemWatch()
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			mem.sample(counts.active.Load())
			if cfg.Progress != nil {
				cfg.Progress(Snapshot{Elapsed: cfg.Now().Sub(start), Length: cfg.Profile.Duration(),
					Rate: cfg.Profile.RateAt(cfg.Now().Sub(start)), Arrived: counts.arrived.Load(), NotStarted: counts.notStarted.Load(), Active: counts.active.Load(),
					Requests: rec.requests.Load(), Failures: rec.failures.Load(), Orders: counts.orders.Load(),
					CheckoutP99: rec.steps["checkout"].quantile(99)})
			}
			select {
			case <-stopWatch:
				return
			case <-t.C:
			}
		}
	}()

	sched := newScheduler(cfg.Now,
		func(ctx context.Context, v *visit) (time.Duration, bool) {
			if v.first {
				v.first = false
				rec.lag.record(cfg.Now().Sub(v.due), 200)
			}
			// The step's first request counts from when it was due.
			pause, done, err := v.sess.Step(withArrival(ctx, v.due), v.rng)
			v.err = err
			return pause, done
		},
		func(v *visit, stopped bool) {
			counts.active.Add(-1)
			switch {
			case stopped || ctx.Err() != nil:
				counts.cancelled.Add(1)
			case v.err != nil:
				counts.failed.Add(1)
			default:
				counts.completed.Add(1)
			}
			res := v.sess.Result()
			if res.OrderID != "" {
				counts.orders.Add(1)
			}
			if res.Queued {
				outcome := http.StatusOK
				if res.SoldOutInQueue {
					outcome = http.StatusGone
				}
				rec.queue.record(res.QueueWait, outcome)
				rec.at(cfg.Now(), func(s *second) {
					s.QueueExits++
					s.QueueWaitMax = max(s.QueueWaitMax, res.QueueWait.Seconds())
				})
			}
		})
	noMore := make(chan struct{})
	scheduled := make(chan struct{})
	go func() {
		defer close(scheduled)
		sched.run(ctx, cfg.Workers, noMore)
	}()
	n := uint64(0)
	cfg.Profile.Arrivals(cfg.Seed, func(at time.Duration) bool {
		due := start.Add(at)
		if !sleepUntil(ctx, cfg.Now, due) {
			return false
		}
		n++
		counts.arrived.Add(1)
		full := counts.active.Load() >= int64(cfg.Users)
		rec.at(due, func(s *second) {
			s.Arrivals++
			if full {
				s.Dropped++
			}
		})
		if full {
			counts.notStarted.Add(1)
			return true
		}
		counts.started.Add(1)
		a := counts.active.Add(1)
		for p := counts.peak.Load(); a > p && !counts.peak.CompareAndSwap(p, a); p = counts.peak.Load() {
		}
		rng := rand.New(rand.NewPCG(cfg.Seed, n))
		sched.add(&visit{sess: sim.NewSession(rng), rng: rng, due: due, first: true})
		return true
	})
	counts.arrivalsOver.Store(true)
	close(noMore)
	<-scheduled
	close(stopWatch)
	<-watched

	r.Ended = cfg.Now()
	r.Interrupted = ctx.Err() != nil
	r.Sessions.Arrived, r.Sessions.NotStarted, r.Sessions.Started = counts.arrived.Load(), counts.notStarted.Load(), counts.started.Load()
	r.Sessions.Completed, r.Sessions.Failed, r.Sessions.Cancelled = counts.completed.Load(), counts.failed.Load(), counts.cancelled.Load()
	r.Sessions.Orders, r.Sessions.PeakActive = counts.orders.Load(), counts.peak.Load()
	for _, s := range Steps {
		r.Steps = append(r.Steps, stepReport(s, rec.steps[s]))
	}
	r.All = stepReport("all", rec.all)
	r.StartLag = stepReport("start lag", rec.lag)
	r.StartLag.Statuses = nil
	r.QueueWait = stepReport("queue wait", rec.queue)
	r.PerSecond = rec.series()
	r.Memory = mem.report()
	if cfg.AdminToken != "" {
		r.Audit = audit(context.WithoutCancel(ctx), check, orders, stockBefore, start)
	}
	return r, nil
}

// tally counts a run's sessions as they go: read while it goes by the
// progress line and the metrics, and at its end by the report.
type tally struct {
	arrived, started, notStarted atomic.Int64
	active, peak                 atomic.Int64 // in progress now, and at most
	completed, failed, cancelled atomic.Int64 // ended, by how
	orders                       atomic.Int64 // placed by the sessions ended
	arrivalsOver                 atomic.Bool  // the profile ended, or the run was stopped
}

// sleepUntil waits until now() reaches t; false if ctx ended first.
func sleepUntil(ctx context.Context, now func() time.Time, t time.Time) bool {
	d := t.Sub(now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// memWatch keeps the peaks of the process's memory and of the sessions in
// progress, and the memory when the sessions peaked above what it was
// before the run.
type memWatch struct {
	mu         sync.Mutex
	baseline   uint64 // Sys before the first session
	peakSys    uint64
	peakHeap   uint64
	peakActive int64
	atPeak     uint64 // Sys when the sessions were at their peak
	goroutines int
}

func newMemWatch() *memWatch {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return &memWatch{baseline: ms.Sys}
}

func (m *memWatch) sample(active int64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.peakSys, m.peakHeap = max(m.peakSys, ms.Sys), max(m.peakHeap, ms.HeapInuse)
	m.goroutines = max(m.goroutines, runtime.NumGoroutine())
	if active >= m.peakActive && active > 0 {
		m.peakActive, m.atPeak = active, ms.Sys
	}
}

func (m *memWatch) report() Memory {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := Memory{PeakSysBytes: m.peakSys, PeakHeapBytes: m.peakHeap, PeakGoroutines: m.goroutines, MeasuredAtSession: m.peakActive}
	if m.peakActive > 0 && m.atPeak > m.baseline {
		out.BytesPerSession = float64(m.atPeak-m.baseline) / float64(m.peakActive)
	}
	return out
}

package shopper

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Config.
const (
	DefaultRate           = 2.0
	DefaultMaxConcurrent  = 50
	DefaultThinkMin       = 500 * time.Millisecond
	DefaultThinkMax       = 3 * time.Second
	DefaultRequestTimeout = 10 * time.Second
)

// Config says where the shop is and how many shoppers to send.
type Config struct {
	// BaseURL is the shop's address, e.g. "http://127.0.0.1:8080"; the
	// API is under /api/v1 and the collector at /v1/batch.
	BaseURL string
	// WriteKey is the collector's write key. Empty: no behaviour events are
	// sent, only API traffic.
	WriteKey string
	// Rate is the number of sessions started per second at the daily peak
	// (DefaultRate when zero). The mean over a day is Rate × MeanActivity.
	Rate float64
	// CashOnly makes every shopper pay cash on delivery: the shop has no
	// card provider (otherwise some pay by card with the test provider's
	// token tok_ok).
	CashOnly bool
	// Seed makes a run's choices repeatable (markets, products, baskets);
	// zero picks a random seed. Identifiers (messageId, anonymousId,
	// Idempotency-Key) are always random, so runs never collide.
	Seed int64
	// Now is the simulator's clock: it places the run on the daily curve,
	// stamps events and ages the flash-sale answer (time.Now when nil).
	// Keep it near the collector's clock when sending events: the
	// collector rejects events over 30 days old or a day ahead.
	Now func() time.Time
	// Client sends every request (a client with a pooled transport when
	// nil). Each request is bounded by RequestTimeout whatever the client.
	Client *http.Client
	// Log receives a line at start and end, warnings that need a person,
	// and each failed request at debug level (discarded when nil).
	Log *slog.Logger
	// MaxConcurrent bounds the sessions in progress in Run
	// (DefaultMaxConcurrent when zero); an arrival beyond it is dropped and
	// counted, as a shopper who gave up on a slow shop.
	MaxConcurrent int
	// Speed divides every think time (1 when zero): 10 makes shoppers ten
	// times quicker, a very large value removes the pauses.
	Speed float64
	// ThinkMin and ThinkMax bound the pause before each step of a session,
	// drawn uniformly (DefaultThinkMin, DefaultThinkMax when both zero),
	// before division by Speed.
	ThinkMin, ThinkMax time.Duration
	// RequestTimeout bounds each request (DefaultRequestTimeout when zero).
	RequestTimeout time.Duration
}

// Stats counts what the simulated shoppers did since the Simulator was
// made. Every field only grows, except Active.
type Stats struct {
	Sessions  int64 `json:"sessions"`   // sessions started
	Active    int64 `json:"active"`     // sessions in progress
	Dropped   int64 `json:"dropped"`    // arrivals not started: MaxConcurrent sessions were running
	PageViews int64 `json:"page_views"` // product lists, product pages and carts fetched
	Searches  int64 `json:"searches"`   // listings with a search term
	Adds      int64 `json:"adds"`       // products added to a cart
	Checkouts int64 `json:"checkouts"`  // order requests sent
	Orders    int64 `json:"orders"`     // orders placed (201)
	// OutOfStock counts 409 out-of-stock answers to adds and orders: the
	// shop refusing to oversell, normal during a sale.
	OutOfStock int64 `json:"out_of_stock"`
	// Events counts behaviour events the collector accepted;
	// EventsRejected those it rejected (a simulator bug or a new rule).
	Events         int64 `json:"events"`
	EventsRejected int64 `json:"events_rejected"`
	// Errors counts failed requests: no answer, a timeout, or an answer
	// other than success and out-of-stock.
	Errors int64 `json:"errors"`
	// Queued counts sessions checkout sent to a protected sale's waiting
	// room; SoldOutInQueue those told there that the sale sold out.
	Queued         int64 `json:"queued"`
	SoldOutInQueue int64 `json:"sold_out_in_queue"`
}

type counters struct {
	sessions, active, dropped, pageViews, searches, adds, checkouts, orders,
	outOfStock, events, eventsRejected, errors, queued, soldOutInQueue atomic.Int64
}

// Simulator starts simulated shoppers against a shop. It is safe for
// concurrent use: Run starts sessions on its own, and RunSession may be
// called from any number of goroutines (the load generator does).
type Simulator struct {
	cfg    Config
	base   string // BaseURL without a trailing slash
	client *http.Client
	log    *slog.Logger
	seed   uint64
	stats  counters
	sale   saleCache

	warnedKey atomic.Bool // the 401 warning was logged

	// wait is how Run waits between arrivals: sleep, or a test's virtual
	// clock.
	wait func(ctx context.Context, d time.Duration) error
}

// New checks cfg, fills in the defaults and returns a Simulator. Without a
// write key it logs, once, that it sends API traffic only.
func New(cfg Config) (*Simulator, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("shopper: base URL %q: want http://host:port or https://host", cfg.BaseURL)
	}
	switch {
	case cfg.Rate < 0:
		return nil, fmt.Errorf("shopper: rate %v: want sessions per second ≥ 0", cfg.Rate)
	case cfg.MaxConcurrent < 0:
		return nil, fmt.Errorf("shopper: max concurrent %d: want ≥ 0", cfg.MaxConcurrent)
	case cfg.Speed < 0:
		return nil, fmt.Errorf("shopper: speed %v: want > 0", cfg.Speed)
	case cfg.ThinkMin < 0 || cfg.ThinkMax < cfg.ThinkMin:
		return nil, fmt.Errorf("shopper: think time %v to %v: want 0 ≤ min ≤ max", cfg.ThinkMin, cfg.ThinkMax)
	case cfg.RequestTimeout < 0:
		return nil, fmt.Errorf("shopper: request timeout %v: want ≥ 0", cfg.RequestTimeout)
	}
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.MaxConcurrent == 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.Speed == 0 {
		cfg.Speed = 1
	}
	if cfg.ThinkMin == 0 && cfg.ThinkMax == 0 {
		cfg.ThinkMin, cfg.ThinkMax = DefaultThinkMin, DefaultThinkMax
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Simulator{cfg: cfg, base: strings.TrimRight(cfg.BaseURL, "/"), client: cfg.Client,
		log: cfg.Log.With("component", "shopper"), seed: uint64(cfg.Seed), wait: sleep}
	if s.client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = cfg.MaxConcurrent
		s.client = &http.Client{Transport: t}
	}
	if s.seed == 0 {
		var b [8]byte
		_, _ = crand.Read(b[:])
		s.seed = binary.LittleEndian.Uint64(b[:]) | 1
	}
	if cfg.WriteKey == "" {
		s.log.Info("no collector write key: simulated shoppers send API traffic only, no behaviour events")
	}
	return s, nil
}

// Stats returns the counts so far.
func (s *Simulator) Stats() Stats {
	c := &s.stats
	return Stats{
		Sessions: c.sessions.Load(), Active: c.active.Load(), Dropped: c.dropped.Load(),
		PageViews: c.pageViews.Load(), Searches: c.searches.Load(), Adds: c.adds.Load(),
		Checkouts: c.checkouts.Load(), Orders: c.orders.Load(), OutOfStock: c.outOfStock.Load(),
		Events: c.events.Load(), EventsRejected: c.eventsRejected.Load(), Errors: c.errors.Load(),
		Queued: c.queued.Load(), SoldOutInQueue: c.soldOutInQueue.Load(),
	}
}

// RateAt returns the rate of session starts, per second, at t: Rate times
// ActivityAt(t).
func (s *Simulator) RateAt(t time.Time) float64 {
	return s.cfg.Rate * ActivityAt(t)
}

// Run starts sessions until ctx ends, then waits for the sessions in
// progress (which see the same ctx, so they stop at their next request or
// pause) and returns nil. Session starts are a Poisson process whose rate
// follows RateAt: candidate arrivals come at the peak rate and each is kept
// with probability RateAt(now)/Rate (thinning), so the rate follows the
// clock even when Now is not real time. Each session runs in its own
// goroutine with its own generator, seeded from the run's; at most
// MaxConcurrent run at once. Call Run once per Simulator.
func (s *Simulator) Run(ctx context.Context) error {
	s.log.Info("simulated shoppers starting", "url", s.base, "peak_sessions_per_second", s.cfg.Rate,
		"now_sessions_per_second", roundTo(s.RateAt(s.now()), 3), "events", s.cfg.WriteKey != "")
	rng := rand.New(rand.NewPCG(s.seed, 0x5eed))
	slots := make(chan struct{}, s.cfg.MaxConcurrent)
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		st := s.Stats()
		s.log.Info("simulated shoppers stopped", "sessions", st.Sessions, "orders", st.Orders,
			"out_of_stock", st.OutOfStock, "events", st.Events, "errors", st.Errors, "dropped", st.Dropped)
	}()
	for {
		if s.wait(ctx, s.nextCandidate(rng)) != nil {
			return nil
		}
		if !s.keep(rng, s.now()) {
			continue // thinned out: fewer shoppers at this hour
		}
		hi, lo := rng.Uint64(), rng.Uint64()
		select {
		case slots <- struct{}{}:
		default:
			s.stats.dropped.Add(1)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			_ = s.RunSession(ctx, rand.New(rand.NewPCG(hi, lo)))
		}()
	}
}

// nextCandidate returns the wait until the next candidate arrival: the
// gaps of a Poisson process at the peak rate are exponential.
func (s *Simulator) nextCandidate(rng *rand.Rand) time.Duration {
	return time.Duration(rng.ExpFloat64() / s.cfg.Rate * float64(time.Second))
}

// keep reports whether a candidate arrival at t starts a session: with
// probability RateAt(t)/Rate, which turns the peak-rate process into one
// at RateAt(t) (Lewis and Shedler's thinning).
func (s *Simulator) keep(rng *rand.Rand, t time.Time) bool {
	return rng.Float64()*s.cfg.Rate < s.RateAt(t)
}

// RunSession plays one shopper's visit with choices drawn from rng (not
// safe for concurrent use: give each session its own). It returns nil when
// the visit ran to its end, ctx's error when ctx ended it, and otherwise
// the error that cut it short. Every failure is also counted in Stats.
func (s *Simulator) RunSession(ctx context.Context, rng *rand.Rand) error {
	_, err := s.NewSession(rng).Run(ctx, rng)
	return err
}

func (s *Simulator) now() time.Time { return s.cfg.Now() }

// failed counts a failed request and logs it at debug level.
func (s *Simulator) failed(err error) {
	s.stats.errors.Add(1)
	var ae *apiError
	if errors.As(err, &ae) {
		s.log.Debug("request failed", "route", ae.Route, "status", ae.Status, "type", ae.Type, "detail", ae.Detail)
		return
	}
	s.log.Debug("request failed", "err", err)
}

// warnOnce logs a warning the first time flag is set.
func (s *Simulator) warnOnce(flag *atomic.Bool, msg string, args ...any) {
	if flag.CompareAndSwap(false, true) {
		s.log.Warn(msg, args...)
	}
}

// sleep waits d or until ctx ends, and then returns ctx's error.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func roundTo(x float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	return float64(int64(x*p+0.5)) / p
}

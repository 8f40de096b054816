// Package outcomestest is the contract suite of outcomes.Store. Every
// implementation runs it from its own tests:
//
//	func TestOutcomes(t *testing.T) {
//		outcomestest.Run(t, func(t *testing.T, n int) []outcomes.Store { … })
//	}
//
// It checks only what outcomes.Store and outcomes.Reader promise, and that
// Recorders of several replicas flushing into one store add up.
package outcomestest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/souq"
)

// Open returns n handles on one new, empty store, as n replicas would
// hold (the same value n times for an in-process store; n connections
// under one fresh key prefix for Redis), and arranges for them to be
// closed when t ends. The store's clock, if it has one, is time.Now.
type Open func(t *testing.T, n int) []outcomes.Store

// Run runs the contract suite.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Open)
	}{
		{"Empty", testEmpty},
		{"AddSums", testAddSums},
		{"Range", testRange},
		{"BadRange", testBadRange},
		{"RecorderMinutes", testRecorderMinutes},
		{"Replicas", testReplicas},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// base is a minute well within retention, so every store keeps it.
func base() time.Time { return time.Now().UTC().Truncate(time.Minute).Add(-30 * time.Minute) }

func minutes(t *testing.T, r outcomes.Reader, from, to time.Time) []outcomes.Minute {
	t.Helper()
	got, err := r.Minutes(t.Context(), from, to)
	if err != nil {
		t.Fatalf("Minutes(%s, %s): %v", from, to, err)
	}
	return got
}

func check(t *testing.T, what string, got, want []outcomes.Minute) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s: got differs from want (-want +got):\n%s", what, d)
	}
}

func testEmpty(t *testing.T, open Open) {
	s := open(t, 1)[0]
	b := base()
	check(t, "Minutes of an empty store", minutes(t, s, b, b.Add(3*time.Minute)), []outcomes.Minute{
		{Start: b}, {Start: b.Add(time.Minute)}, {Start: b.Add(2 * time.Minute)}})
}

func testAddSums(t *testing.T, open Open) {
	s := open(t, 1)[0]
	b := base()
	add := func(ms ...outcomes.Minute) {
		t.Helper()
		if err := s.Add(t.Context(), ms); err != nil {
			t.Fatalf("Add: %v", err)
		}
	}
	add(outcomes.Minute{Start: b, Counts: outcomes.Counts{Checkouts: 3, Orders: 2, Rejected: 1}},
		outcomes.Minute{Start: b.Add(2 * time.Minute), Counts: outcomes.Counts{CartOutOfStock: 4}})
	// A start inside a minute counts in that minute.
	add(outcomes.Minute{Start: b.Add(20 * time.Second), Counts: outcomes.Counts{Checkouts: 5, OutOfStock: 2, Declined: 1, Errors: 2}})
	add()
	check(t, "Minutes after three Adds", minutes(t, s, b, b.Add(3*time.Minute)), []outcomes.Minute{
		{Start: b, Counts: outcomes.Counts{Checkouts: 8, Orders: 2, OutOfStock: 2, Declined: 1, Rejected: 1, Errors: 2}},
		{Start: b.Add(time.Minute)},
		{Start: b.Add(2 * time.Minute), Counts: outcomes.Counts{CartOutOfStock: 4}},
	})
}

func testRange(t *testing.T, open Open) {
	s := open(t, 1)[0]
	b := base()
	var ms []outcomes.Minute
	for i := range 4 {
		ms = append(ms, outcomes.Minute{Start: b.Add(time.Duration(i) * time.Minute), Counts: outcomes.Counts{Checkouts: int64(i + 1), Orders: int64(i + 1)}})
	}
	if err := s.Add(t.Context(), ms); err != nil {
		t.Fatalf("Add: %v", err)
	}
	// Buckets starting in [from, to): a from inside a minute skips it.
	check(t, "Minutes(b+30s, b+2m30s)", minutes(t, s, b.Add(30*time.Second), b.Add(150*time.Second)), ms[1:3])
	check(t, "Minutes(b+1m, b+3m)", minutes(t, s, b.Add(time.Minute), b.Add(3*time.Minute)), ms[1:3])
	if got := minutes(t, s, b, b); got == nil || len(got) != 0 {
		t.Errorf("Minutes(b, b): got %v, want an empty list", got)
	}
	// Another time zone names the same minutes.
	dubai := time.FixedZone("GST", 4*3600)
	check(t, "Minutes in Gulf time", minutes(t, s, b.In(dubai), b.Add(2*time.Minute).In(dubai)), ms[:2])
}

func testBadRange(t *testing.T, open Open) {
	s := open(t, 1)[0]
	b := base()
	for _, tt := range []struct {
		name     string
		from, to time.Time
	}{
		{"ends before it starts", b, b.Add(-time.Minute)},
		{"longer than MaxRange", b.Add(-outcomes.MaxRange), b.Add(time.Minute)},
	} {
		if _, err := s.Minutes(t.Context(), tt.from, tt.to); !errors.Is(err, souq.ErrInvalid) {
			t.Errorf("Minutes, %s: got error %v, want ErrInvalid", tt.name, err)
		}
	}
}

// Clock is a clock a test moves, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func flush(t *testing.T, r *outcomes.Recorder) {
	t.Helper()
	if err := r.Flush(t.Context()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// testRecorderMinutes records across a minute's end, flushing in the
// middle of a minute and after it, and reads each count in its minute.
func testRecorderMinutes(t *testing.T, open Open) {
	s := open(t, 1)[0]
	b := base()
	c := NewClock(b.Add(10 * time.Second))
	r := outcomes.NewRecorder(s, outcomes.Options{Now: c.Now})
	r.Record(outcomes.KindOrder)
	r.Record(outcomes.KindOrder)
	r.Record(outcomes.KindCartOutOfStock)
	flush(t, r)
	r.Record(outcomes.KindOutOfStock)
	c.Set(b.Add(70 * time.Second))
	r.Record(outcomes.KindDeclined)
	r.Record(outcomes.KindRejected)
	r.Record(outcomes.KindError)
	flush(t, r)
	flush(t, r) // nothing new: adds nothing
	check(t, "Minutes after two flushes", minutes(t, s, b, b.Add(2*time.Minute)), []outcomes.Minute{
		{Start: b, Counts: outcomes.Counts{Checkouts: 3, Orders: 2, OutOfStock: 1, CartOutOfStock: 1}},
		{Start: b.Add(time.Minute), Counts: outcomes.Counts{Checkouts: 3, Declined: 1, Rejected: 1, Errors: 1}},
	})
}

// testReplicas has three replicas, each with its own Recorder and handle
// on the store, record from many goroutines while they flush, and checks
// that the store holds the sum of them all.
func testReplicas(t *testing.T, open Open) {
	const (
		replicas   = 3
		goroutines = 4
		each       = 250 // Records per goroutine and kind
	)
	stores := open(t, replicas)
	b := base()
	c := NewClock(b.Add(5 * time.Second))
	var wg sync.WaitGroup
	recs := make([]*outcomes.Recorder, replicas)
	for i := range recs {
		recs[i] = outcomes.NewRecorder(stores[i], outcomes.Options{Now: c.Now})
	}
	for _, r := range recs {
		for range goroutines {
			wg.Go(func() {
				for n := range each {
					r.Record(outcomes.KindOrder)
					r.Record(outcomes.KindOutOfStock)
					if n%5 == 0 {
						r.Record(outcomes.KindCartOutOfStock)
					}
				}
			})
		}
	}
	// Flushes while the Records run.
	ctx, stop := context.WithCancel(t.Context())
	var flushers sync.WaitGroup
	for _, r := range recs {
		flushers.Go(func() {
			for ctx.Err() == nil {
				if err := r.Flush(ctx); err != nil && ctx.Err() == nil {
					t.Errorf("Flush: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	stop()
	flushers.Wait()
	for _, r := range recs {
		flush(t, r)
	}
	// Hand-computed: 3 replicas × 4 goroutines × 250 = 3,000 of each
	// kind, and 1 in 5 of them for the cart: 600.
	check(t, "Minutes of three replicas", minutes(t, stores[0], b, b.Add(time.Minute)), []outcomes.Minute{
		{Start: b, Counts: outcomes.Counts{Checkouts: 6000, Orders: 3000, OutOfStock: 3000, CartOutOfStock: 600}},
	})
}

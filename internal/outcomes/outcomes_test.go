package outcomes_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/outcomes/outcomestest"
)

func TestMemStore(t *testing.T) {
	outcomestest.Run(t, func(t *testing.T, n int) []outcomes.Store {
		s := outcomes.NewMemStore(time.Now)
		out := make([]outcomes.Store, n)
		for i := range out {
			out[i] = s
		}
		return out
	})
}

var t0 = time.Date(2026, 12, 5, 21, 0, 0, 0, time.UTC)

func read(t *testing.T, r outcomes.Reader, from, to time.Time) []outcomes.Minute {
	t.Helper()
	got, err := r.Minutes(t.Context(), from, to)
	if err != nil {
		t.Fatalf("Minutes: %v", err)
	}
	return got
}

// TestMemStoreRetention checks that a minute is kept for Retention of the
// store's clock, and no longer.
func TestMemStoreRetention(t *testing.T) {
	c := outcomestest.NewClock(t0)
	s := outcomes.NewMemStore(c.Now)
	if err := s.Add(t.Context(), []outcomes.Minute{{Start: t0, Counts: outcomes.Counts{Checkouts: 1, Orders: 1}}}); err != nil {
		t.Fatal(err)
	}
	c.Add(outcomes.Retention)
	if got := read(t, s, t0, t0.Add(time.Minute)); got[0].Orders != 1 {
		t.Errorf("Orders after Retention: got %d, want 1", got[0].Orders)
	}
	c.Add(time.Minute)
	if got := read(t, s, t0, t0.Add(time.Minute)); got[0].Orders != 0 {
		t.Errorf("Orders a minute after Retention: got %d, want 0", got[0].Orders)
	}
	// A minute too old when it arrives is not kept either.
	if err := s.Add(t.Context(), []outcomes.Minute{{Start: t0, Counts: outcomes.Counts{Checkouts: 1, Orders: 1}}}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, s, t0, t0.Add(time.Minute)); got[0].Orders != 0 {
		t.Errorf("Orders of a minute added past Retention: got %d, want 0", got[0].Orders)
	}
}

// flaky is a Store that refuses Adds while down is set: a hot store that
// cannot be reached.
type flaky struct {
	*outcomes.MemStore
	mu   sync.Mutex
	down bool
	adds int // Adds refused
}

var errDown = errors.New("store down")

func (f *flaky) Add(ctx context.Context, ms []outcomes.Minute) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		f.adds++
		return errDown
	}
	return f.MemStore.Add(ctx, ms)
}

func (f *flaky) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// TestRecorderKeepsCountsWhenFlushFails checks that counts a failed flush
// could not store are stored by the next one, once.
func TestRecorderKeepsCountsWhenFlushFails(t *testing.T) {
	c := outcomestest.NewClock(t0)
	st := &flaky{MemStore: outcomes.NewMemStore(c.Now), down: true}
	r := outcomes.NewRecorder(st, outcomes.Options{Now: c.Now})
	r.Record(outcomes.KindOrder)
	r.Record(outcomes.KindError)
	if err := r.Flush(t.Context()); !errors.Is(err, errDown) {
		t.Fatalf("Flush with the store down: got %v, want %v", err, errDown)
	}
	c.Add(time.Minute)
	r.Record(outcomes.KindOutOfStock)
	if err := r.Flush(t.Context()); !errors.Is(err, errDown) {
		t.Fatalf("second Flush with the store down: got %v, want %v", err, errDown)
	}
	st.setDown(false)
	if err := r.Flush(t.Context()); err != nil {
		t.Fatalf("Flush with the store back: %v", err)
	}
	if err := r.Flush(t.Context()); err != nil {
		t.Fatalf("Flush again: %v", err)
	}
	want := []outcomes.Minute{
		{Start: t0, Counts: outcomes.Counts{Checkouts: 2, Orders: 1, Errors: 1}},
		{Start: t0.Add(time.Minute), Counts: outcomes.Counts{Checkouts: 1, OutOfStock: 1}},
	}
	if d := cmp.Diff(want, read(t, st, t0, t0.Add(2*time.Minute))); d != "" {
		t.Errorf("Minutes after the store came back (-want +got):\n%s", d)
	}
}

// TestRecorderGivesUpExpiredCounts checks that counts the store refused
// for longer than Retention are dropped rather than kept for ever.
func TestRecorderGivesUpExpiredCounts(t *testing.T) {
	c := outcomestest.NewClock(t0)
	st := &flaky{MemStore: outcomes.NewMemStore(c.Now), down: true}
	r := outcomes.NewRecorder(st, outcomes.Options{Now: c.Now})
	r.Record(outcomes.KindOrder)
	_ = r.Flush(t.Context())
	c.Add(outcomes.Retention + time.Minute)
	r.Record(outcomes.KindRejected)
	st.setDown(false)
	if err := r.Flush(t.Context()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	now := t0.Add(outcomes.Retention + time.Minute)
	got := read(t, st, now, now.Add(time.Minute))
	if want := (outcomes.Counts{Checkouts: 1, Rejected: 1}); got[0].Counts != want {
		t.Errorf("counts of the current minute: got %+v, want %+v", got[0].Counts, want)
	}
}

// TestRecorderRun checks that Run flushes without being asked, and flushes
// what is left when its context ends.
func TestRecorderRun(t *testing.T) {
	st := outcomes.NewMemStore(time.Now)
	r := outcomes.NewRecorder(st, outcomes.Options{Interval: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	from := time.Now().Truncate(time.Minute).Add(-time.Minute)
	total := func() outcomes.Counts {
		var c outcomes.Counts
		for _, m := range read(t, st, from, from.Add(3*time.Minute)) {
			c.Add(m.Counts)
		}
		return c
	}
	r.Record(outcomes.KindOrder)
	for deadline := time.Now().Add(5 * time.Second); total().Orders != 1; {
		if time.Now().After(deadline) {
			t.Fatalf("Orders stored by Run: got %d after 5 s, want 1", total().Orders)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	r.Record(outcomes.KindDeclined) // after Run: Close stores it
	if err := r.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got, want := total(), (outcomes.Counts{Checkouts: 2, Orders: 1, Declined: 1}); got != want {
		t.Errorf("counts after Close: got %+v, want %+v", got, want)
	}
}

func TestCountsErrorRate(t *testing.T) {
	for _, tt := range []struct {
		c    outcomes.Counts
		want float64
	}{
		{outcomes.Counts{}, 0},
		{outcomes.Counts{Checkouts: 8, Orders: 6, Errors: 2}, 0.25},
		{outcomes.Counts{Checkouts: 3, Orders: 3}, 0},
		// 10 errors in 50 attempts checkout answered, and 2,000 refused by
		// the waiting room: 10 / 50.
		{outcomes.Counts{Checkouts: 2050, Orders: 30, OutOfStock: 6, Declined: 4, Errors: 10, Rejected: 2000}, 0.2},
		{outcomes.Counts{Checkouts: 500, Rejected: 500}, 0},
	} {
		if got := tt.c.ErrorRate(); got != tt.want {
			t.Errorf("%+v.ErrorRate(): got %v, want %v", tt.c, got, tt.want)
		}
	}
}

func TestStarts(t *testing.T) {
	for _, tt := range []struct {
		name     string
		from, to time.Time
		want     []time.Time
	}{
		{"aligned", t0, t0.Add(2 * time.Minute), []time.Time{t0, t0.Add(time.Minute)}},
		{"from inside a minute", t0.Add(time.Second), t0.Add(2 * time.Minute), []time.Time{t0.Add(time.Minute)}},
		{"to inside a minute", t0, t0.Add(61 * time.Second), []time.Time{t0, t0.Add(time.Minute)}},
		{"empty", t0, t0, []time.Time{}},
	} {
		got, err := outcomes.Starts(tt.from, tt.to)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.name, d)
		}
	}
}

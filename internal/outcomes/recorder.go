package outcomes

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is how often a Recorder flushes by default.
const DefaultInterval = time.Second

// flushTimeout bounds one flush, and the last one Run makes as it stops.
const flushTimeout = 5 * time.Second

// Options configure a Recorder. Zero values take the defaults.
type Options struct {
	// Interval is how often Run flushes (default DefaultInterval).
	Interval time.Duration
	// Now is the clock that puts a count in its minute (default
	// time.Now).
	Now func() time.Time
	// Logger receives flush failures; nil discards them.
	Logger *slog.Logger
}

// Recorder counts this process's answers per minute and adds them to a
// Store about once a second. Record never waits for the Store: it adds to
// in-process atomic counters, and one goroutine (Run) moves them to the
// Store. It is safe for concurrent use.
//
// # Counters and flushes
//
// The counters of the current minute are a bucket, which Record finds
// through an atomic pointer. A Record in a new minute (by its clock) puts
// a fresh bucket in place and sets the old one aside; this, and the
// flush taking the buckets, hold mu for a pointer swap and an append,
// the only lock a Record may meet, once a minute.
//
// A flush swaps the current bucket for an empty one and takes those set
// aside. A bucket so retired is read only once no Record is still adding
// to it: a Record announces itself in the bucket's writers before it
// adds and checks that the bucket is still current after announcing; if
// it is not, it withdraws and starts again with the current one. So once
// a retired bucket's writers are back to 0, no count can land in it any
// more, and none is lost.
//
// What a flush took is pending until the Store has accepted it: a failed
// flush is logged and its counts are sent again with the next one. Only
// minutes older than Retention are given up (they would not be kept),
// with a warning saying how many counts went.
type Recorder struct {
	store    Store
	now      func() time.Time
	log      *slog.Logger
	interval time.Duration

	cur     atomic.Pointer[bucket]
	mu      sync.Mutex // guards retired, and swapping cur
	retired []*bucket

	flushMu sync.Mutex // one flush at a time; guards pending and failures
	pending map[time.Time]Counts
	// failures counts the flushes that failed in a row.
	failures int
}

// bucket is the counters of one minute, or of part of one.
type bucket struct {
	minute  time.Time
	writers atomic.Int64 // Records between announcing themselves and adding
	n       [numKinds]atomic.Int64
}

// NewRecorder returns a Recorder adding to store. Start its Run in one
// goroutine, or call Flush and Close yourself.
func NewRecorder(store Store, opts Options) *Recorder {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{store: store, now: opts.Now, log: log.With("component", "outcomes"), interval: opts.Interval,
		pending: map[time.Time]Counts{}}
}

// Record counts one answer of kind k in the current minute. It never
// blocks on the Store. An unknown kind is ignored.
func (r *Recorder) Record(k Kind) {
	if k < 0 || k >= numKinds {
		return
	}
	m := r.now().UTC().Truncate(time.Minute)
	for {
		b := r.cur.Load()
		if b == nil || !b.minute.Equal(m) {
			r.rotate(b, m)
			continue
		}
		b.writers.Add(1)
		if r.cur.Load() != b { // retired meanwhile: a flush may be reading it
			b.writers.Add(-1)
			continue
		}
		b.n[k].Add(1)
		b.writers.Add(-1)
		return
	}
}

// rotate puts a bucket for minute m in old's place, unless another
// goroutine replaced old first.
func (r *Recorder) rotate(old *bucket, m time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur.Load() != old {
		return
	}
	r.cur.Store(&bucket{minute: m})
	if old != nil {
		r.retired = append(r.retired, old)
	}
}

// take retires every bucket holding counts and adds them to pending;
// r.flushMu must be held.
func (r *Recorder) take() {
	r.mu.Lock()
	buckets := r.retired
	r.retired = nil
	if b := r.cur.Load(); b != nil {
		r.cur.Store(&bucket{minute: b.minute})
		buckets = append(buckets, b)
	}
	r.mu.Unlock()
	for _, b := range buckets {
		for b.writers.Load() != 0 { // a Record between its check and its add: a few instructions
			runtime.Gosched()
		}
		var c Counts
		for k := range numKinds {
			c.add(k, b.n[k].Load())
		}
		if !c.IsZero() {
			p := r.pending[b.minute]
			p.Add(c)
			r.pending[b.minute] = p
		}
	}
}

// Flush adds what has been counted since the last successful flush to the
// Store. On failure the counts are kept for the next flush.
func (r *Recorder) Flush(ctx context.Context) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.take()
	r.dropExpired()
	if len(r.pending) == 0 {
		return nil
	}
	minutes := make([]Minute, 0, len(r.pending))
	for start, c := range r.pending {
		minutes = append(minutes, Minute{Start: start, Counts: c})
	}
	slices.SortFunc(minutes, func(a, b Minute) int { return a.Start.Compare(b.Start) })
	if err := r.store.Add(ctx, minutes); err != nil {
		r.failures++
		return err
	}
	if r.failures > 0 {
		r.log.Info("checkout outcomes stored again", "failed_flushes", r.failures)
		r.failures = 0
	}
	clear(r.pending)
	return nil
}

// dropExpired gives up the pending minutes past Retention; r.flushMu must
// be held.
func (r *Recorder) dropExpired() {
	floor := r.now().Add(-Retention).Truncate(time.Minute)
	var lost Counts
	for start, c := range r.pending {
		if start.Before(floor) {
			lost.Add(c)
			delete(r.pending, start)
		}
	}
	if !lost.IsZero() {
		r.log.Warn("checkout outcomes given up: the store refused them for longer than their retention",
			"retention", Retention, "checkouts", lost.Checkouts, "cart_out_of_stock", lost.CartOutOfStock)
	}
}

// Run flushes every interval until ctx ends, then flushes what is left
// (Close) and returns. Run it in one goroutine; it is the Recorder's only
// background work. Records made after Run returned are flushed only by a
// later Flush or Close, so stop the work that records (drain the HTTP
// server) before ending ctx.
func (r *Recorder) Run(ctx context.Context) {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
			_ = r.Close(fctx) // logged
			cancel()
			return
		case <-t.C:
			fctx, cancel := context.WithTimeout(ctx, flushTimeout)
			if err := r.Flush(fctx); err != nil && r.failing() == 1 {
				r.log.Warn("store checkout outcomes: kept for the next flush", "err", err)
			}
			cancel()
		}
	}
}

// failing returns how many flushes in a row failed.
func (r *Recorder) failing() int {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	return r.failures
}

// Close flushes what is left, for a process that is stopping: call it
// after the last Record. If the Store refuses, the error is logged with
// the counts lost, and returned.
func (r *Recorder) Close(ctx context.Context) error {
	err := r.Flush(ctx)
	if err != nil {
		r.flushMu.Lock()
		var lost Counts
		for _, c := range r.pending {
			lost.Add(c)
		}
		r.flushMu.Unlock()
		r.log.Error("store checkout outcomes on close: counts lost", "err", err,
			"checkouts", lost.Checkouts, "cart_out_of_stock", lost.CartOutOfStock)
	}
	return err
}

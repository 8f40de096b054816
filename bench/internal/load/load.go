// Package load drives a benchmark's requests: a closed loop of concurrent
// clients for throughput, and an open loop at a fixed rate for latency.
package load

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Request performs request number i and reports its error.
type Request func(i int) error

// Closed runs clients goroutines that each perform requests back to back
// for d, and returns the latencies of the successful ones. Any failure
// fails the run: a benchmark counts only correct answers.
func Closed(clients int, d time.Duration, do Request) ([]time.Duration, error) {
	return ClosedContext(context.Background(), clients, d, do)
}

// ClosedContext is Closed, ended early (and failed with ctx's error) when
// ctx ends. Requests in flight then are left to do, which should watch
// ctx itself.
func ClosedContext(parent context.Context, clients int, d time.Duration, do Request) ([]time.Duration, error) {
	ctx, cancel := context.WithTimeout(parent, d)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		lat   []time.Duration
		fails failures
		seq   atomic.Int64
	)
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			for ctx.Err() == nil {
				start := time.Now()
				if err := do(int(seq.Add(1))); err != nil {
					fails.add(err)
					continue
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := parent.Err(); err != nil {
		return nil, err
	}
	if err := fails.err(); err != nil {
		return nil, err
	}
	return lat, nil
}

// Open starts requests on a fixed schedule, rate per second for d, whether
// or not earlier ones have finished, and returns their latencies counted
// from when each was due (so a stalled generator cannot hide queueing) and
// how many started more than 10 ms late.
func Open(rate int, d time.Duration, do Request) (lat []time.Duration, late int, err error) {
	return OpenContext(context.Background(), rate, d, do)
}

// OpenContext is Open, ended early (and failed with ctx's error) when ctx
// ends. Requests in flight then are left to do, which should watch ctx
// itself.
func OpenContext(ctx context.Context, rate int, d time.Duration, do Request) (lat []time.Duration, late int, err error) {
	interval := time.Second / time.Duration(rate)
	total := int(d / interval)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fails failures
	)
	lat = make([]time.Duration, 0, total)
	start := time.Now()
	for i := range total {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		} else if -wait > 10*time.Millisecond {
			late++
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			if err := do(i); err != nil {
				fails.add(err)
				return
			}
			l := time.Since(due)
			mu.Lock()
			lat = append(lat, l)
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	if err := fails.err(); err != nil {
		return nil, 0, err
	}
	return lat, late, nil
}

// failures counts the failed requests of a run and keeps the first
// error. It is safe for concurrent use. (An atomic.Value would panic on
// the second error of another type.)
type failures struct {
	mu    sync.Mutex
	n     int
	first error
}

func (f *failures) add(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		f.first = err
	}
	f.n++
}

// err says how many requests failed and what the first error was, or is
// nil when none did.
func (f *failures) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		return nil
	}
	return fmt.Errorf("%d requests failed, the first: %w", f.n, f.first)
}

// Pct returns the p-th percentile (nearest rank) of lat, rounded to 10 µs.
func Pct(lat []time.Duration, p int) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	i = min(max(i-1, 0), len(s)-1)
	return s[i].Round(10 * time.Microsecond)
}

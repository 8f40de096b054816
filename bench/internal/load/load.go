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
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		lat   []time.Duration
		fails atomic.Int64
		first atomic.Value
		seq   atomic.Int64
	)
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			for ctx.Err() == nil {
				start := time.Now()
				if err := do(int(seq.Add(1))); err != nil {
					fails.Add(1)
					first.CompareAndSwap(nil, err)
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
	if f := fails.Load(); f > 0 {
		return nil, fmt.Errorf("%d requests failed, the first: %v", f, first.Load())
	}
	return lat, nil
}

// Open starts requests on a fixed schedule, rate per second for d, whether
// or not earlier ones have finished, and returns their latencies counted
// from when each was due (so a stalled generator cannot hide queueing) and
// how many started more than 10 ms late.
func Open(rate int, d time.Duration, do Request) (lat []time.Duration, late int, err error) {
	interval := time.Second / time.Duration(rate)
	total := int(d / interval)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fails atomic.Int64
		first atomic.Value
	)
	lat = make([]time.Duration, 0, total)
	start := time.Now()
	for i := range total {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		} else if -wait > 10*time.Millisecond {
			late++
		}
		wg.Go(func() {
			if err := do(i); err != nil {
				fails.Add(1)
				first.CompareAndSwap(nil, err)
				return
			}
			l := time.Since(due)
			mu.Lock()
			lat = append(lat, l)
			mu.Unlock()
		})
	}
	wg.Wait()
	if f := fails.Load(); f > 0 {
		return nil, 0, fmt.Errorf("%d requests failed, the first: %v", f, first.Load())
	}
	return lat, late, nil
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

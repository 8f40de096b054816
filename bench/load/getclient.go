package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// getClientCommand is the first argument that makes this program the
// single-GET client: a child process of itself, measured as the other
// generators are.
const getClientCommand = "get-client"

// getResult is what the single-GET client did, printed as one JSON line.
type getResult struct {
	Scheduled int64   `json:"scheduled"` // requests the schedule called for
	NotSent   int64   `json:"not_sent"`  // due but not sent when the time was up: the client fell behind
	Requests  int64   `json:"requests"`  // answered or failed
	Failed    int64   `json:"failed"`    // no answer, timed out, or a 5xx
	Non2xx    int64   `json:"non_2xx"`
	Seconds   float64 `json:"seconds"` // from the first due time to the last answer
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
}

// runGetClient is the single-GET client: an open loop at a fixed rate,
// as souq load's, for the comparison with wrk. Requests are due on a
// schedule (rate per second for the duration) whatever the shop does;
// workers, at most that many in flight (wrk's connections), send each
// when it is due or, when they are all busy, as soon as one is free, and
// its latency counts from when it was due (no coordinated omission). It
// sends them through a transport with internal/loadgen's default
// settings, bounds each by a timeout, reads each answer to its end and
// records its latency in an HDR histogram (1 µs to 5 min, 3 significant
// digits) under a lock, and its status, as loadgen's recorder does.
func runGetClient(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet(getClientCommand, flag.ContinueOnError)
	target := fs.String("url", "", "the `URL` to GET")
	rate := fs.Float64("rate", 1000, "requests due per second")
	duration := fs.Duration("duration", 10*time.Second, "how long requests fall due")
	workers := fs.Int("workers", 64, "most requests in flight")
	timeout := fs.Duration("timeout", 10*time.Second, "longest wait for one request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *target == "" || *rate <= 0 || *duration <= 0 || *workers < 1 {
		return errors.New("get-client: -url, and a positive -rate, -duration and -workers, are required")
	}
	// internal/loadgen's default transport (run.go), and its client's
	// policy of never following a redirect elsewhere.
	client := &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        4096,
			MaxIdleConnsPerHost: 4096,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var (
		mu       sync.Mutex
		hist     = hdrhistogram.New(1, int64(5*time.Minute/time.Microsecond), 3)
		codes    = map[int]int64{}
		lastDone atomic.Int64 // UnixNano of the last answer
		res      getResult
	)
	get := func(due time.Time) {
		rctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		code := 0
		if req, err := http.NewRequestWithContext(rctx, http.MethodGet, *target, nil); err == nil {
			req.Header.Set("Accept", "application/json")
			req.Header.Set("User-Agent", "souq-bench-load/1 (single GET)")
			if resp, err := client.Do(req); err == nil {
				if _, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20)); err == nil {
					code = resp.StatusCode
				}
				resp.Body.Close()
			}
		}
		end := time.Now()
		us := max(1, min(hist.HighestTrackableValue(), end.Sub(due).Microseconds()))
		mu.Lock()
		_ = hist.RecordValue(us)
		codes[code]++
		mu.Unlock()
		for last := lastDone.Load(); end.UnixNano() > last && !lastDone.CompareAndSwap(last, end.UnixNano()); last = lastDone.Load() {
		}
	}

	due := make(chan time.Time)
	var wg sync.WaitGroup
	for range *workers {
		wg.Go(func() {
			for d := range due {
				get(d)
			}
		})
	}
	start := time.Now()
	interval := float64(time.Second) / *rate
	res.Scheduled = int64(*rate * duration.Seconds())
	end := start.Add(*duration)
	var sent int64
	for i := range res.Scheduled {
		at := start.Add(time.Duration(float64(i) * interval))
		// Sleeping for each of thousands of requests a second would cost
		// more than the requests: sleep only when a millisecond or more
		// ahead, and send what is due in a burst.
		if wait := time.Until(at); wait > time.Millisecond && !sleepUntil(ctx, at) {
			break
		}
		if time.Now().After(end) || ctx.Err() != nil {
			break
		}
		select {
		case due <- at:
			sent++
		case <-ctx.Done():
		}
	}
	close(due)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	res.NotSent = res.Scheduled - sent
	for code, n := range codes {
		res.Requests += n
		if code == 0 || code >= 500 {
			res.Failed += n
		}
		if code < 200 || code > 299 {
			res.Non2xx += n
		}
	}
	if last := lastDone.Load(); last > 0 {
		res.Seconds = time.Unix(0, last).Sub(start).Seconds()
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	res.P50ms, res.P99ms, res.MaxMs = ms(hist.ValueAtQuantile(50)), ms(hist.ValueAtQuantile(99)), ms(hist.Max())
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, string(b))
	return err
}

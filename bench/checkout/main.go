// Command checkout benchmarks order placement on embedded SQLite through the
// real binary and HTTP API. It builds cmd/souq, starts `souq serve` on a
// fresh data directory with the chosen synchronous mode, creates products
// with ample stock through the admin API, then measures:
//
//   - throughput: closed loop, N concurrent clients placing orders as fast as
//     they can for a duration → orders/s;
//   - latency: open loop at a fixed rate (requests start on schedule whether
//     or not earlier ones have finished) → p50, p90, p99, max.
//
// Run from the repository root: go run ./bench/checkout [-sync full] …
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/souq-commerce/souq/bench/internal/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	sync     string
	clients  int
	duration time.Duration
	rate     int
	products int
}

func run() error {
	var c config
	flag.StringVar(&c.sync, "sync", "full", "SQLite synchronous mode: full or normal")
	flag.IntVar(&c.clients, "clients", 32, "concurrent clients in the throughput phase")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "length of each phase")
	flag.IntVar(&c.rate, "rate", 500, "orders per second in the fixed-rate phase")
	flag.IntVar(&c.products, "products", 50, "products to order from")
	flag.Parse()

	dir, err := os.MkdirTemp("", "souq-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	base, stop, err := server.Start(dir, "--sqlite-sync", c.sync, "--admin-token", "bench", "--log-level", "error")
	if err != nil {
		return err
	}
	defer stop()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}}
	ids, err := createProducts(client, base, c.products)
	if err != nil {
		return err
	}
	fmt.Printf("checkout benchmark: souq serve on embedded SQLite, synchronous=%s (WAL), %d CPUs, %d products\n",
		c.sync, runtime.NumCPU(), len(ids))

	// Warm up connections and caches.
	if _, _, err := closedLoop(client, base, ids, c.clients, 2*time.Second); err != nil {
		return err
	}
	n, lat, err := closedLoop(client, base, ids, c.clients, c.duration)
	if err != nil {
		return err
	}
	fmt.Printf("throughput: %d clients, %s: %d orders, %.0f orders/s, p50 %s p99 %s\n",
		c.clients, c.duration, n, float64(n)/c.duration.Seconds(), pct(lat, 50), pct(lat, 99))

	lat, late, err := openLoop(client, base, ids, c.rate, c.duration)
	if err != nil {
		return err
	}
	fmt.Printf("fixed rate: %d orders/s for %s: %d orders, p50 %s p90 %s p99 %s max %s (started late: %d)\n",
		c.rate, c.duration, len(lat), pct(lat, 50), pct(lat, 90), pct(lat, 99), pct(lat, 100), late)
	return nil
}

func createProducts(client *http.Client, base string, n int) ([]string, error) {
	ids := make([]string, 0, n)
	for i := range n {
		body, _ := json.Marshal(map[string]any{
			"sku": fmt.Sprintf("BENCH-%04d", i), "slug": fmt.Sprintf("bench-%d", i), "brand": "Bench", "category": "skincare",
			"name":   map[string]string{"en": fmt.Sprintf("Bench Serum %d", i), "ar": fmt.Sprintf("سيروم %d", i)},
			"prices": map[string]int64{"AE": 8900, "SA": 9200, "KW": 7250}, "stock": 1_000_000_000,
		})
		req, _ := http.NewRequest("POST", base+"/api/v1/admin/products", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer bench")
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		var p struct{ ID string }
		err = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 201 {
			return nil, fmt.Errorf("create product: status %d, %v", resp.StatusCode, err)
		}
		ids = append(ids, p.ID)
	}
	return ids, nil
}

// orderBody is a one- or two-line cash-on-delivery order in the UAE.
func orderBody(ids []string, i int) []byte {
	items := []map[string]any{{"product_id": ids[i%len(ids)], "quantity": 1}}
	if i%3 == 0 {
		items = append(items, map[string]any{"product_id": ids[(i*7+1)%len(ids)], "quantity": 2})
	}
	b, _ := json.Marshal(map[string]any{
		"market": "AE", "items": items,
		"customer":         map[string]string{"name": "Bench Shopper", "email": "bench@example.ae", "phone": "+971501234567"},
		"shipping_address": map[string]string{"line1": "Tower 1", "area": "Business Bay", "city": "Dubai"},
		"payment":          map[string]string{"method": "cod"},
	})
	return b
}

func placeOrder(client *http.Client, base string, body []byte) (time.Duration, error) {
	start := time.Now()
	resp, err := client.Post(base+"/api/v1/orders", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		return 0, fmt.Errorf("order: status %d", resp.StatusCode)
	}
	return time.Since(start), nil
}

func closedLoop(client *http.Client, base string, ids []string, clients int, d time.Duration) (int, []time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		lat   []time.Duration
		fails atomic.Int64
		seq   atomic.Int64
	)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for ctx.Err() == nil {
				l, err := placeOrder(client, base, orderBody(ids, int(seq.Add(1))))
				if err != nil {
					fails.Add(1)
					continue
				}
				mine = append(mine, l)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if f := fails.Load(); f > 0 {
		return 0, nil, fmt.Errorf("%d orders failed", f)
	}
	return len(lat), lat, nil
}

func openLoop(client *http.Client, base string, ids []string, rate int, d time.Duration) ([]time.Duration, int, error) {
	interval := time.Second / time.Duration(rate)
	total := int(d / interval)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		lat   = make([]time.Duration, 0, total)
		fails atomic.Int64
		late  int
	)
	start := time.Now()
	for i := range total {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		} else if -wait > 10*time.Millisecond {
			late++
		}
		body := orderBody(ids, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Latency counts from when the request was due, so a stalled
			// generator cannot hide queueing (no coordinated omission).
			if _, err := placeOrder(client, base, body); err != nil {
				fails.Add(1)
				return
			}
			l := time.Since(due)
			mu.Lock()
			lat = append(lat, l)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if f := fails.Load(); f > 0 {
		return nil, 0, fmt.Errorf("%d orders failed", f)
	}
	return lat, late, nil
}

func pct(lat []time.Duration, p int) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	i = min(max(i-1, 0), len(s)-1)
	return s[i].Round(10 * time.Microsecond)
}

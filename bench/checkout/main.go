// Command checkout benchmarks order placement on embedded SQLite through the
// real binary and HTTP API. It builds cmd/souq, starts `souq serve` on a
// fresh data directory with the chosen synchronous mode, creates products
// with ample stock through the admin API, then measures:
//
//   - throughput: closed loop, N concurrent clients placing orders as fast as
//     they can for a duration → orders/s, with an Idempotency-Key on every
//     order (as the storefront, the simulated shoppers and careful API
//     clients send) and without one, in alternating rounds, and their ratio;
//   - latency: open loop at a fixed rate (requests start on schedule whether
//     or not earlier ones have finished), with keys → p50, p90, p99, max.
//
// Run from the repository root: go run ./bench/checkout [-sync full] …
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/souq-commerce/souq/bench/internal/load"
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
	rounds   int
}

func run() error {
	var c config
	flag.StringVar(&c.sync, "sync", "full", "SQLite synchronous mode: full or normal")
	flag.IntVar(&c.clients, "clients", 32, "concurrent clients in the throughput phase")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "length of each phase")
	flag.IntVar(&c.rate, "rate", 500, "orders per second in the fixed-rate phase")
	flag.IntVar(&c.products, "products", 50, "products to order from")
	flag.IntVar(&c.rounds, "rounds", 2, "alternating keyed and unkeyed throughput rounds")
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

	var seq atomic.Int64 // numbers orders across phases, so keys never repeat
	keyed := func(int) error { return placeOrder(client, base, ids, int(seq.Add(1)), true) }
	unkeyed := func(int) error { return placeOrder(client, base, ids, int(seq.Add(1)), false) }

	// Warm up connections and caches.
	if _, err := load.Closed(c.clients, 2*time.Second, keyed); err != nil {
		return err
	}
	var total [2]int
	for round := 1; round <= c.rounds; round++ {
		for i, mode := range []struct {
			name  string
			order func(int) error
		}{{"with Idempotency-Key", keyed}, {"without key", unkeyed}} {
			lat, err := load.Closed(c.clients, c.duration, mode.order)
			if err != nil {
				return err
			}
			total[i] += len(lat)
			fmt.Printf("throughput, round %d, %s: %d clients, %s: %d orders, %.0f orders/s, p50 %s p99 %s\n",
				round, mode.name, c.clients, c.duration, len(lat), float64(len(lat))/c.duration.Seconds(), load.Pct(lat, 50), load.Pct(lat, 99))
		}
	}
	fmt.Printf("keyed / unkeyed throughput: %.2f\n", float64(total[0])/float64(max(total[1], 1)))

	lat, late, err := load.Open(c.rate, c.duration, keyed)
	if err != nil {
		return err
	}
	fmt.Printf("fixed rate, with Idempotency-Key: %d orders/s for %s: %d orders, p50 %s p90 %s p99 %s max %s (started late: %d)\n",
		c.rate, c.duration, len(lat), load.Pct(lat, 50), load.Pct(lat, 90), load.Pct(lat, 99), load.Pct(lat, 100), late)
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

// placeOrder places order number i, with a random Idempotency-Key (as
// clients make them: a UUID's worth of random hex) when keyed, and checks
// it was created.
func placeOrder(client *http.Client, base string, ids []string, i int, keyed bool) error {
	req, err := http.NewRequest("POST", base+"/api/v1/orders", bytes.NewReader(orderBody(ids, i)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if keyed {
		req.Header.Set("Idempotency-Key", rand.Text())
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		return fmt.Errorf("order: status %d", resp.StatusCode)
	}
	return nil
}

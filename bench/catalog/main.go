// Command catalog benchmarks product listings, search and facets through
// the real binary and HTTP API on the demo catalogue (192 products) and on
// a large one (-products, default 100,000, made by `souq seed`), one after
// the other on fresh data directories, and the bare net/http ceiling of
// the same machine in the same run: a handler answering a fixed JSON body.
//
// Each kind of request rotates through its variants (pages, sorts,
// categories, search terms), as shoppers' requests do, and is measured
// twice:
//
//   - throughput: closed loop, N concurrent clients → requests/s;
//   - latency: open loop at a fixed rate (-rate, default 200/s) → p50, p99,
//     max.
//
// It prints each kind's figures for both catalogues, the large one's
// throughput as a share of the small one's, and the listing's throughput as
// a share of the net/http ceiling.
//
// Run from the repository root: go run ./bench/catalog [-products 100000] …
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
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
	products int
	clients  int
	duration time.Duration
	rate     int
}

// kind is one kind of request and its variants, as query strings of
// /api/v1/products (or a path of their own).
type kind struct {
	name     string
	variants []string
}

// kinds lists the requests measured on a catalogue of size products.
// Searches ask for 10 products, which their words fill on both catalogues,
// so both answer pages of the same size; but for the narrow searches: on
// the demo catalogue those are words of a few products each (3 to 8
// matches), on the large one the same words with a variant word (dozens to
// hundreds of matches, read from the full-text index).
func kinds(size int) []kind {
	var list, category, broad, arabic, narrow []string
	for page := 1; page <= 10; page++ {
		for _, sort := range []string{"", "price_asc", "name"} {
			list = append(list, fmt.Sprintf("/api/v1/products?market=AE&page_size=20&page=%d&sort=%s", page, sort))
		}
	}
	for _, cat := range []string{"skincare", "makeup", "masks"} {
		for _, sort := range []string{"", "price_asc"} {
			category = append(category, fmt.Sprintf("/api/v1/products?market=AE&page_size=10&category=%s&sort=%s", cat, sort))
		}
	}
	search := func(q string) string {
		return "/api/v1/products?market=AE&page_size=10&q=" + url.QueryEscape(q)
	}
	for _, w := range []string{"serum", "cream", "toner", "essence", "mask"} {
		broad = append(broad, search(w))
	}
	for _, w := range []string{"سيروم", "كريم", "تونر"} {
		arabic = append(arabic, search(w))
	}
	for i, w := range []string{"propolis", "cica", "snail", "lip", "cleanser"} {
		if size > 192 {
			w += " " + []string{"rose", "oud", "amber", "musk", "jasmine"}[i]
		}
		narrow = append(narrow, search(w))
	}
	return []kind{
		{"listing (3 sorts, 10 pages)", list},
		{"category (2 sorts)", category},
		{"search, common words", broad},
		{"search, Arabic words", arabic},
		{"search, narrow", narrow},
		{"facets", []string{"/api/v1/facets?market=AE"}},
	}
}

// figures are one kind's measurements on one catalogue.
type figures struct {
	rps            float64
	p50, p99, pMax time.Duration
}

func run() error {
	var c config
	flag.IntVar(&c.products, "products", 100_000, "products in the large catalogue")
	flag.IntVar(&c.clients, "clients", 32, "concurrent clients in the throughput phase")
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "length of each phase")
	flag.IntVar(&c.rate, "rate", 200, "requests per second in the fixed-rate phase")
	flag.Parse()

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}}
	fmt.Printf("catalog benchmark: souq serve on embedded SQLite, %d CPUs, %d clients, %s phases, fixed rate %d/s\n",
		runtime.NumCPU(), c.clients, c.duration, c.rate)

	ceiling, err := bareCeiling(client, c)
	if err != nil {
		return err
	}
	fmt.Printf("net/http ceiling (fixed JSON): %.0f req/s\n", ceiling)

	results := map[int][]figures{}
	for _, size := range []int{192, c.products} {
		res, err := measureCatalogue(client, c, size)
		if err != nil {
			return err
		}
		results[size] = res
	}
	fmt.Printf("\n%-30s %22s %22s %8s\n", "", "192 products", fmt.Sprintf("%d products", c.products), "large/small")
	for i, k := range kinds(c.products) {
		small, large := results[192][i], results[c.products][i]
		fmt.Printf("%-30s %8.0f req/s p99 %6s %8.0f req/s p99 %6s %7.2f×\n", k.name,
			small.rps, small.p99.Round(100*time.Microsecond), large.rps, large.p99.Round(100*time.Microsecond), large.rps/small.rps)
	}
	fmt.Printf("\nlisting on %d products as a share of the net/http ceiling: %.0f%%\n", c.products, 100*results[c.products][0].rps/ceiling)
	return nil
}

// measureCatalogue seeds a catalogue of size products, serves it and
// measures every kind of request.
func measureCatalogue(client *http.Client, c config, size int) ([]figures, error) {
	dir, err := os.MkdirTemp("", "souq-bench-catalog-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	if err := server.Seed(dir, size); err != nil {
		return nil, err
	}
	base, stop, err := server.Start(dir, "--log-level", "error")
	if err != nil {
		return nil, err
	}
	defer stop()
	fmt.Printf("\n%d products (seeded and started in %s)\n", size, time.Since(start).Round(time.Second))
	var out []figures
	for _, k := range kinds(size) {
		get := func(i int) error { return getOK(client, base+k.variants[i%len(k.variants)]) }
		if _, err := load.Closed(c.clients, time.Second, get); err != nil { // warm up
			return nil, fmt.Errorf("%s: %w", k.name, err)
		}
		lat, err := load.Closed(c.clients, c.duration, get)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.name, err)
		}
		f := figures{rps: float64(len(lat)) / c.duration.Seconds()}
		open, late, err := load.Open(c.rate, c.duration, get)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.name, err)
		}
		f.p50, f.p99, f.pMax = load.Pct(open, 50), load.Pct(open, 99), load.Pct(open, 100)
		fmt.Printf("  %-30s closed loop %7.0f req/s; at %d/s: p50 %s p99 %s max %s (started late: %d)\n",
			k.name, f.rps, c.rate, f.p50, f.p99, f.pMax, late)
		out = append(out, f)
	}
	return out, nil
}

// bareCeiling measures a net/http server in this process answering a fixed
// JSON body, with the same clients.
func bareCeiling(client *http.Client, c config) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	body := []byte(`{"items":[],"total":0,"page":1,"page_size":20}`)
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/"
	get := func(int) error { return getOK(client, url) }
	if _, err := load.Closed(c.clients, time.Second, get); err != nil {
		return 0, err
	}
	lat, err := load.Closed(c.clients, c.duration, get)
	if err != nil {
		return 0, err
	}
	return float64(len(lat)) / c.duration.Seconds(), nil
}

// getOK fetches url, reads the body and checks the status is 200.
func getOK(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return nil
}

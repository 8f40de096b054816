// Command storefront benchmarks the shopper-facing pages through the real
// binary. It builds cmd/souq, starts `souq serve --demo` on a fresh data
// directory, then for the home page and product pages reports:
//
//   - size: the HTML with the stylesheets and scripts it references, as
//     sent uncompressed, with gzip and with br (images left out);
//   - throughput: closed loop, N concurrent clients asking for the page as
//     fast as they can for a duration → requests/s;
//   - latency: open loop at a fixed rate → p50, p90, p99, max.
//
// Requests ask for "br, gzip" as browsers do, and the bodies are read in
// full but not decompressed.
//
// Run from the repository root: go run ./bench/storefront [-lang ar] …
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"time"

	"github.com/andybalholm/brotli"

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
	lang     string
	clients  int
	duration time.Duration
	rate     int
}

func run() error {
	var c config
	flag.StringVar(&c.lang, "lang", "ar", "page language: ar or en")
	flag.IntVar(&c.clients, "clients", 32, "concurrent clients in the throughput phase")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "length of each phase")
	flag.IntVar(&c.rate, "rate", 500, "requests per second in the fixed-rate phase")
	flag.Parse()

	dir, err := os.MkdirTemp("", "souq-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	base, stop, err := server.Start(dir, "--demo", "--shoppers", "0", "--log-level", "error")
	if err != nil {
		return err
	}
	defer stop()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute, DisableCompression: true}}
	slugs, err := productSlugs(client, base)
	if err != nil {
		return err
	}
	fmt.Printf("storefront benchmark: souq serve --demo, %d CPUs, language %s, %d products\n", runtime.NumCPU(), c.lang, len(slugs))

	pages := []struct {
		name string
		path func(i int) string
	}{
		{"home", func(int) string { return "/" + c.lang + "/" }},
		{"product", func(i int) string { return "/" + c.lang + "/p/" + slugs[i%len(slugs)] }},
	}
	for _, p := range pages {
		if err := printSizes(client, base, p.name, p.path(0)); err != nil {
			return err
		}
	}
	for _, p := range pages {
		get := func(i int) error { return fetch(client, base+p.path(i)) }
		if _, err := load.Closed(c.clients, 2*time.Second, get); err != nil { // warm up
			return err
		}
		lat, err := load.Closed(c.clients, c.duration, get)
		if err != nil {
			return err
		}
		fmt.Printf("%s throughput: %d clients, %s: %d pages, %.0f pages/s, p50 %s p99 %s\n",
			p.name, c.clients, c.duration, len(lat), float64(len(lat))/c.duration.Seconds(), load.Pct(lat, 50), load.Pct(lat, 99))
		lat, late, err := load.Open(c.rate, c.duration, get)
		if err != nil {
			return err
		}
		fmt.Printf("%s fixed rate: %d pages/s for %s: %d pages, p50 %s p90 %s p99 %s max %s (started late: %d)\n",
			p.name, c.rate, c.duration, len(lat), load.Pct(lat, 50), load.Pct(lat, 90), load.Pct(lat, 99), load.Pct(lat, 100), late)
	}
	return nil
}

// productSlugs lists the demo products sold in the UAE.
func productSlugs(client *http.Client, base string) ([]string, error) {
	resp, err := client.Get(base + "/api/v1/products?market=AE&page_size=100")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var page struct {
		Items []struct{ Slug string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != 200 {
		return nil, fmt.Errorf("list products: status %d, %v", resp.StatusCode, err)
	}
	var slugs []string
	for _, it := range page.Items {
		slugs = append(slugs, it.Slug)
	}
	if len(slugs) == 0 {
		return nil, fmt.Errorf("no products listed")
	}
	return slugs, nil
}

// fetch reads a page in full, compressed as a browser would accept it.
func fetch(client *http.Client, url string) error {
	_, err := get(client, url, "br, gzip")
	return err
}

func get(client *http.Client, url, encoding string) ([]byte, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return nil, err
	}
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	if encoding != "" && resp.Header.Get("Content-Encoding") == "" {
		return nil, fmt.Errorf("GET %s: not compressed for Accept-Encoding %q", url, encoding)
	}
	return body, nil
}

var assetRef = regexp.MustCompile(`<(?:link[^>]+rel="stylesheet"[^>]+href|script[^>]+src)="(/[^"]+)"`)

// printSizes prints the bytes of a page and of the stylesheets and scripts
// it references, uncompressed and as sent with gzip and with br.
func printSizes(client *http.Client, base, name, path string) error {
	html, err := get(client, base+path, "")
	if err != nil {
		return err
	}
	urls := []string{path}
	for _, m := range assetRef.FindAllSubmatch(html, -1) {
		urls = append(urls, string(m[1]))
	}
	var raw, gz, br int
	for _, u := range urls {
		plain, err := get(client, base+u, "")
		if err != nil {
			return err
		}
		g, err := get(client, base+u, "gzip")
		if err != nil {
			return err
		}
		b, err := get(client, base+u, "br")
		if err != nil {
			return err
		}
		if err := sameContent(u, plain, g, b, u == path); err != nil {
			return err
		}
		raw, gz, br = raw+len(plain), gz+len(g), br+len(b)
	}
	fmt.Printf("%s page size (HTML + %d CSS/JS files, no images): %.1f KB raw, %.1f KB gzip, %.1f KB br\n",
		name, len(urls)-1, float64(raw)/1024, float64(gz)/1024, float64(br)/1024)
	return nil
}

// sameContent checks that the gzip and br bodies decompress to plain, so
// the sizes compare like with like. A page differs per request (its CSRF
// token, the sale countdown), so for a page it checks only that both
// decompress to within 1% of the plain size.
func sameContent(url string, plain, gz, br []byte, page bool) error {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return fmt.Errorf("%s: gzip: %w", url, err)
	}
	g, err := io.ReadAll(zr)
	if err != nil {
		return fmt.Errorf("%s: gzip: %w", url, err)
	}
	b, err := io.ReadAll(brotli.NewReader(bytes.NewReader(br)))
	if err != nil {
		return fmt.Errorf("%s: br: %w", url, err)
	}
	if page {
		near := func(n int) bool { return abs(n-len(plain)) <= len(plain)/100 }
		if !near(len(g)) || !near(len(b)) {
			return fmt.Errorf("%s: decompressed sizes differ: plain %d, gzip %d, br %d", url, len(plain), len(g), len(b))
		}
		return nil
	}
	if !bytes.Equal(g, plain) || !bytes.Equal(b, plain) {
		return fmt.Errorf("%s: gzip or br body does not decompress to the plain one", url)
	}
	return nil
}

func abs(n int) int { return max(n, -n) }

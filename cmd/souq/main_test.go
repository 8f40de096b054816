package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/fileblob"
	"github.com/souq-commerce/souq/internal/souq"
)

// syncBuffer is an io.Writer safe for the server goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var runningAt = regexp.MustCompile(`Souq is running at (http://\S+)`)

// startServe runs `souq serve` in process and returns its base URL once
// /readyz answers, and a function that stops it and returns run's error.
func startServe(t *testing.T, args []string, env map[string]string) (string, *syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve"}, args...), func(k string) string { return env[k] }, stdout, stderr)
	}()
	var base string
	deadline := time.Now().Add(60 * time.Second)
	for base == "" {
		if m := runningAt.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve exited early: %v\nstderr:\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not print its address; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
	}
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("/readyz never answered 200: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(30 * time.Second):
				runErr = errors.New("serve did not stop within 30s")
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return base, stdout, stop
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode %s: %v", url, err)
	}
	return resp.StatusCode
}

// productList is the part of GET /api/v1/products the tests read.
type productList struct {
	Items []struct {
		ID    string `json:"id"`
		Slug  string `json:"slug"`
		Image string `json:"image"`
		Stock int    `json:"stock"`
		Price struct {
			Amount   int64  `json:"amount"`
			Currency string `json:"currency"`
		} `json:"price"`
	} `json:"items"`
	Total int `json:"total"`
}

// inStock returns the id of the first listed product with more than two
// units left.
func (l productList) inStock(t *testing.T) string {
	t.Helper()
	for _, it := range l.Items {
		if it.Stock > 2 {
			return it.ID
		}
	}
	t.Fatal("no demo product with stock")
	return ""
}

func TestServeDemoEndToEnd(t *testing.T) {
	data := t.TempDir()
	base, stdout, stop := startServe(t, []string{"--addr", "127.0.0.1:0", "--data", data, "--demo", "--archive-max-age", "100ms", "--shoppers", "0"}, nil)

	var list productList
	if status := getJSON(t, base+"/api/v1/products?market=BH&page_size=100", &list); status != 200 || list.Total < 150 {
		t.Fatalf("demo products: got status %d total %d, want 200 and at least 150", status, list.Total)
	}
	if list.Items[0].Price.Currency != "BHD" {
		t.Errorf("BH price currency: got %q, want BHD", list.Items[0].Price.Currency)
	}
	product := list.inStock(t)
	order := fmt.Sprintf(`{"market":"BH","items":[{"product_id":%q,"quantity":2}],
		"customer":{"name":"Noor Al Khalifa","email":"noor@example.bh","phone":"+97336123456"},
		"shipping_address":{"line1":"Building 1021, Road 3621","area":"Seef","city":"Manama","country":"BH"},
		"payment":{"method":"cod"}}`, product)
	resp, err := http.Post(base+"/api/v1/orders", "application/json", strings.NewReader(order))
	if err != nil {
		t.Fatalf("order: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || !strings.Contains(string(body), `"currency":"BHD"`) || !strings.Contains(string(body), `"access_token"`) {
		t.Fatalf("order: got %d %s", resp.StatusCode, body)
	}

	// The generated admin token is printed and works.
	m := regexp.MustCompile(`Bearer (\S+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no admin token printed:\n%s", stdout.String())
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/admin/orders", nil)
	req.Header.Set("Authorization", "Bearer "+m[1])
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("admin orders with printed token: %v %v", err, resp)
	}
	resp.Body.Close()

	// Behaviour events go through the collector with the printed write key.
	wk := regexp.MustCompile(`HTTP Basic user (\S+)`).FindStringSubmatch(stdout.String())
	if wk == nil {
		t.Fatalf("no write key printed:\n%s", stdout.String())
	}
	batch := fmt.Sprintf(`{"batch":[
		{"type":"track","event":"Product Viewed","messageId":"e2e-1","anonymousId":"a1","properties":{"product_id":%q},"context":{"market":"BH"}},
		{"type":"track","event":"Product Added","messageId":"e2e-2","anonymousId":"a1","properties":{"product_id":%q,"quantity":2},"context":{"market":"BH"}},
		{"type":"track","event":"Teleported","messageId":"e2e-3","anonymousId":"a1"}]}`, product, product)
	req, _ = http.NewRequest("POST", base+"/v1/batch", strings.NewReader(batch))
	req.SetBasicAuth(wk[1], "")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"accepted":2`) || !strings.Contains(string(body), "e2e-3") {
		t.Fatalf("collector batch: got %d %s, want 200 with 2 accepted and e2e-3 rejected", resp.StatusCode, body)
	}
	waitArchived(t, filepath.Join(data, "archive"), "e2e-1", "e2e-2", souq.EventOrderCompleted)
	// The dashboard is open on localhost in demo mode, and the aggregates
	// count the order. The last hour is read rather than today, which
	// starts at Gulf midnight (20:00 UTC), so that an order placed just
	// before it still counts when the snapshot is read just after.
	if resp, err := http.Get(base + "/dashboard"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("dashboard: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var snap struct {
			LastHour struct {
				Orders int `json:"orders"`
				Views  int `json:"views"`
			} `json:"last_hour"`
		}
		if getJSON(t, base+"/api/v1/analytics/snapshot", &snap) == 200 && snap.LastHour.Orders == 1 && snap.LastHour.Views == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("analytics snapshot: got %+v, want 1 order and 1 view in the last hour", snap)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"souq_relay_published_total 1", "souq_outbox_oldest_pending_age_seconds ", `souq_collector_events_total{reason="none",result="accepted"} 2`,
		"souq_pipeline_consumer_lag", "souq_archive_files_total", "souq_dead_letters 1"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	var sale struct {
		Products int `json:"products"`
	}
	if status := getJSON(t, base+"/api/v1/sales/current", &sale); status != 200 || sale.Products == 0 {
		t.Errorf("demo sale: got %d with %d products, want a scheduled sale", status, sale.Products)
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful stop: got %v, want nil", err)
	}

	// Restarting on the same data keeps the order and does not seed twice.
	base, _, _ = startServe(t, []string{"--addr", "127.0.0.1:0", "--data", data, "--demo", "--admin-token", "fixed", "--shoppers", "0"}, nil)
	var again struct{ Total int }
	getJSON(t, base+"/api/v1/products", &again)
	if again.Total != list.Total {
		t.Errorf("products after restart: got %d, want %d", again.Total, list.Total)
	}
	req, _ = http.NewRequest("GET", base+"/api/v1/admin/orders", nil)
	req.Header.Set("Authorization", "Bearer fixed")
	var orders struct{ Total int }
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&orders)
	resp.Body.Close()
	if orders.Total != 1 {
		t.Errorf("orders after restart: got %d, want 1", orders.Total)
	}
}

// waitArchived waits until the archive holds events with the given message
// ids (or, for an event name, at least one event of that name), each once.
func waitArchived(t *testing.T, dir string, want ...string) {
	t.Helper()
	bucket, err := fileblob.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		records, err := archive.ReadAll(t.Context(), bucket, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, r := range records {
			seen[r.Event.MessageID]++
			seen[r.Event.Event]++
		}
		missing := ""
		for _, w := range want {
			if seen[w] == 0 {
				missing = w
			}
		}
		for id, n := range seen {
			if strings.HasPrefix(id, "e2e-") && n > 1 {
				t.Fatalf("event %s archived %d times", id, n)
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("archive lacks %s after 20s (%d records)", missing, len(records))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDemoShoppers: with --demo the simulated shoppers make the dashboard's
// figures move a few seconds after start.
func TestDemoShoppers(t *testing.T) {
	base, _, stop := startServe(t, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo", "--shoppers", "50"}, nil)
	deadline := time.Now().Add(60 * time.Second)
	for {
		var snap struct {
			LastHour struct {
				Views int `json:"views"`
			} `json:"last_hour"`
		}
		if getJSON(t, base+"/api/v1/analytics/snapshot", &snap) == 200 && snap.LastHour.Views > 0 {
			break
		}
		if time.Now().After(deadline) {
			resp, err := http.Get(base + "/metrics")
			if err == nil {
				m, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				for _, l := range strings.Split(string(m), "\n") {
					if strings.HasPrefix(l, "souq_collector_events_total") || strings.HasPrefix(l, "souq_http_request_duration_seconds_count") || strings.HasPrefix(l, "souq_pipeline_events") {
						t.Log(l)
					}
				}
			}
			t.Fatalf("no product views from simulated shoppers after 60s: last snapshot %+v", snap)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatalf("stop with shoppers running: %v", err)
	}
}

func TestServeEnvironmentTwins(t *testing.T) {
	env := map[string]string{"SOUQ_ADDR": "127.0.0.1:0", "SOUQ_DATA": t.TempDir(), "SOUQ_ADMIN_TOKEN": "from-env", "SOUQ_LOG_FORMAT": "json"}
	base, stdout, _ := startServe(t, nil, env)
	if strings.Contains(stdout.String(), "generated") {
		t.Errorf("a token was generated although SOUQ_ADMIN_TOKEN was set:\n%s", stdout.String())
	}
	if resp, err := http.Get(base + "/api/v1/analytics/snapshot"); err != nil || resp.StatusCode != 401 {
		t.Errorf("analytics without a token outside demo mode: got %v %v, want 401", err, resp)
	} else {
		resp.Body.Close()
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/analytics/snapshot", nil)
	req.Header.Set("Authorization", "Bearer from-env")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("analytics with the admin token: got %v %v, want 200", err, resp)
	} else {
		resp.Body.Close()
	}
	req, _ = http.NewRequest("GET", base+"/api/v1/admin/sales", nil)
	req.Header.Set("Authorization", "Bearer from-env")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("admin with SOUQ_ADMIN_TOKEN: %v %v", err, resp)
	}
	resp.Body.Close()
}

func TestRunUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no command", nil, nil, "no command"},
		{"unknown command", []string{"launch"}, nil, "unknown command"},
		{"unknown flag", []string{"serve", "--colour"}, nil, "colour"},
		{"bad log format", []string{"serve", "--log-format", "xml"}, nil, "--log-format"},
		{"bad sync mode from env", []string{"serve"}, map[string]string{"SOUQ_SQLITE_SYNC": "off"}, "--sqlite-sync"},
		{"bad duration from env", []string{"serve"}, map[string]string{"SOUQ_SHUTDOWN_TIMEOUT": "soon"}, "SOUQ_SHUTDOWN_TIMEOUT"},
		{"tls cert without key", []string{"serve", "--tls-cert", "c.pem"}, nil, "--tls-key"},
		{"unsupported database", []string{"serve", "--database", "mysql://x"}, nil, "unsupported scheme"},
		{"bad trusted proxy", []string{"serve", "--trusted-proxies", "10.0.0.0/8,lb.internal"}, nil, "--trusted-proxies"},
		{"negative outbox retention", []string{"serve", "--outbox-retention", "-1h"}, nil, "--outbox-retention"},
		{"replicas with generated secrets", []string{"serve", "--demo", "--addr", "0.0.0.0:8080", "--database", "postgres://db.internal/souq"},
			map[string]string{"SOUQ_ADMIN_TOKEN": "configured"}, "--write-key"},
		{"pool too small", []string{"serve", "--pg-max-conns", "0"}, nil, "--pg-max-conns"},
		{"lock timeout too short", []string{"serve", "--pg-lock-timeout", "0s"}, nil, "--pg-lock-timeout"},
		{"unknown role", []string{"serve", "--roles", "api,indexer"}, nil, `unknown role "indexer"`},
		{"roles on a private stream", []string{"serve", "--roles", "api,relay", "--hot", "redis://127.0.0.1:6379/0"}, nil, "--nats-url"},
		{"api without processor, in-process hot store", []string{"serve", "--roles", "api", "--nats-url", "nats://127.0.0.1:4222"}, nil, "--hot redis://"},
		{"processor alone, in-process hot store", []string{"serve", "--roles", "processor", "--nats-url", "nats://127.0.0.1:4222"}, nil, "shared hot store"},
		{"hot store scheme", []string{"serve", "--hot", "memcached://x"}, nil, "--hot"},
		{"replicas sharing a queue with generated secrets", []string{"serve", "--roles", "api", "--nats-url", "nats://127.0.0.1:4222", "--hot", "redis://127.0.0.1:6379/0"},
			nil, "--waitroom-secret"},
		{"short waiting room secret", []string{"serve", "--waitroom-secret", "new-secret-of-32-bytes-at-least!!,short"}, nil, "secret 2 is 5 bytes"},
		{"waiting room token version", []string{"serve", "--waitroom-token-version", "3"}, nil, "--waitroom-token-version must be 1 or 2, not 3"},
		{"waiting room grace shorter than a held poll", []string{"serve", "--waitroom-grace", "50s"}, nil, "--waitroom-grace must be at least a minute"},
		{"waiting room ceiling", []string{"serve", "--waitroom-ceiling", "0"}, nil, "--waitroom-ceiling"},
		{"queue-only replica without a shared queue", []string{"serve", "--waitroom-admit=false"}, nil, "--waitroom-admit=false needs --hot"},
		{"shed floor above ceiling", []string{"serve", "--shed-min", "100", "--shed-max", "10"}, nil, "--shed-min"},
		{"demo without the api", []string{"serve", "--demo", "--roles", "collector", "--nats-url", "nats://127.0.0.1:4222"}, nil, "--demo"},
		{"stream replicas on the embedded server", []string{"serve", "--stream-replicas", "3"}, nil, "--stream-replicas"},
		{"bad namespace", []string{"serve", "--namespace", "shop.one"}, nil, "--namespace"},
		{"smtp url scheme", []string{"serve", "--smtp-url", "http://mail.example.ae", "--smtp-from", "orders@shop.example"}, nil, "--smtp-url"},
		{"missing shop info file", []string{"serve", "--shop-info", "/nonexistent/shop.json"}, nil, "--shop-info"},
		{"alert threshold out of range", []string{"serve", "--alerts", "checkout-errors=120%"}, nil, "--alerts: alert setting checkout-errors=120%"},
		{"unknown alert", []string{"serve", "--alerts", "latency=1s"}, nil, `unknown alert setting "latency"`},
		{"smtp without a sender", []string{"serve"}, map[string]string{"SOUQ_SMTP_URL": "smtps://u:p@mail.example.ae"}, "--smtp-from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, func(k string) string { return tt.env[k] }, &out, &errOut)
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a usage error mentioning %q", err, tt.want)
			}
			if exitCode(err) != 2 {
				t.Errorf("exit code: got %d, want 2", exitCode(err))
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"serve", "-h"}, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("serve -h: %v", err)
	}
	for _, want := range []string{"--addr", "SOUQ_ADDR", "SOUQ_ADMIN_TOKEN", "SOUQ_DATA", "--demo"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("serve help lacks %q", want)
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"version"}, func(string) string { return "" }, &out, &errOut); err != nil || !strings.HasPrefix(out.String(), "souq ") {
		t.Errorf("version: got %q, %v", out.String(), err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"version", "--help"}, func(string) string { return "" }, &out, &errOut); err != nil || !strings.Contains(out.String(), "Usage: souq version") {
		t.Errorf("version --help: got %q, %v", out.String(), err)
	}
	if err := run(context.Background(), []string{"version", "extra"}, func(string) string { return "" }, &out, &errOut); !errors.Is(err, errUsage) {
		t.Errorf("version extra: got %v, want a usage error", err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"help"}, func(string) string { return "" }, &out, &errOut); err != nil || !strings.Contains(out.String(), "serve") {
		t.Errorf("help: got %q, %v", out.String(), err)
	}
}

// TestServeStorefront: souq serve --demo serves the shop at /, the API
// index at /api, and the product images the demo catalogue names.
func TestServeStorefront(t *testing.T) {
	base, _, _ := startServe(t, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo", "--shoppers", "0", "--write-key", "wk_e2e"}, nil)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	req.Header.Set("Accept-Language", "ar-SA,ar;q=0.9,en;q=0.5")
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ar/" {
		t.Errorf("GET /: got %d to %q, want 302 to /ar/", resp.StatusCode, resp.Header.Get("Location"))
	}
	get := func(path string) (int, string, http.Header) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	if status, body, _ := get("/api"); status != 200 || !strings.Contains(body, "/api/openapi.json") {
		t.Errorf("GET /api: got %d, want the API index", status)
	}
	status, body, h := get("/ar/")
	if status != 200 || !strings.Contains(body, `<html lang="ar" dir="rtl">`) || !strings.Contains(body, `"writeKey":"wk_e2e"`) ||
		!strings.Contains(body, `"consent":true`) || !strings.Contains(h.Get("Content-Security-Policy"), "connect-src 'self'") {
		t.Errorf("GET /ar/: got %d, CSP %q\n%s", status, h.Get("Content-Security-Policy"), body)
	}
	var list productList
	getJSON(t, base+"/api/v1/products?page_size=1", &list)
	if len(list.Items) != 1 {
		t.Fatalf("no demo product")
	}
	p := list.Items[0]
	if status, body, _ := get("/en/p/" + p.Slug); status != 200 || !strings.Contains(body, `id="add-to-cart-button"`) {
		t.Errorf("product page %s: got %d", p.Slug, status)
	}
	if status, body, h := get(p.Image); status != 200 || h.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(body, "<svg") {
		t.Errorf("image %s: got %d %q", p.Image, status, h.Get("Content-Type"))
	}
	if status, _, _ := get("/api/v1/products/" + p.Slug); status != 200 {
		t.Errorf("the API still answers next to the shop: got %d", status)
	}
	if status, body, h := get("/sitemap.xml"); status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/xml") ||
		!strings.Contains(body, "<loc>"+base+"/ar/p/"+p.Slug+"</loc>") {
		t.Errorf("sitemap: got %d %q without the demo product", status, h.Get("Content-Type"))
	}
	if status, body, _ := get("/robots.txt"); status != 200 || !strings.Contains(body, "Sitemap: "+base+"/sitemap.xml") {
		t.Errorf("robots.txt: got %d %q", status, body)
	}
	if status, _, h := get("/favicon.ico"); status != 200 || h.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("favicon: got %d %q, want the SVG icon", status, h.Get("Content-Type"))
	}
}

// TestServeBehindTrustedProxy: a request a trusted load balancer forwarded
// over HTTPS gets HSTS and Secure cookies; the same headers from anyone
// else are ignored.
func TestServeBehindTrustedProxy(t *testing.T) {
	base, _, stop := startServe(t, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--shoppers", "0",
		"--trusted-proxies", "127.0.0.1/32"}, nil)
	defer stop()
	var body []byte
	get := func(base string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, base+"/en/", nil)
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Forwarded-For", "198.51.100.7")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := get(base)
	host := strings.TrimPrefix(base, "http://")
	if want := `<link rel="canonical" href="https://` + host + `/en/">`; !strings.Contains(string(body), want) {
		t.Errorf("a request forwarded over HTTPS: no %s", want)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("a request forwarded over HTTPS by a trusted proxy got no HSTS")
	}
	if cs := resp.Cookies(); len(cs) == 0 || !cs[0].Secure {
		t.Errorf("cookies of a request forwarded over HTTPS: got %v, want Secure ones", cs)
	}

	other, _, stopOther := startServe(t, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--shoppers", "0",
		"--trusted-proxies", "10.0.0.0/8"}, nil)
	defer stopOther()
	resp = get(other)
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Error("forwarding headers from an untrusted peer were believed (HSTS sent)")
	}
	if strings.Contains(string(body), `href="https://`) {
		t.Error("forwarding headers from an untrusted peer were believed (https addresses in the page)")
	}
	if cs := resp.Cookies(); len(cs) == 0 || cs[0].Secure {
		t.Errorf("cookies for an untrusted peer's request: got %v, want them not Secure", cs)
	}
}

// TestServeH2C: the server speaks HTTP/2 without TLS to clients that know
// it does (load balancers, the rush benchmark), and HTTP/1.1 to others.
func TestServeH2C(t *testing.T) {
	base, _, _ := startServe(t, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir()}, nil)
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	for _, c := range []struct {
		client *http.Client
		want   string
	}{{&http.Client{Transport: tr}, "HTTP/2.0"}, {http.DefaultClient, "HTTP/1.1"}} {
		resp, err := c.client.Get(base + "/livez")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Proto != c.want {
			t.Errorf("GET /livez: %d over %s, want 200 over %s", resp.StatusCode, resp.Proto, c.want)
		}
	}
	// The api role runs the waiting room and the concurrency limit.
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"souq_waitroom_admission_rate 50", "souq_waitroom_dead_time_seconds 0", "souq_concurrency_limit 200"} {
		if !strings.Contains(string(body), m) {
			t.Errorf("/metrics has no %q", m)
		}
	}
}

// TestServePprof: --pprof-addr serves the runtime profiles on a listener
// of their own, and the shop's port does not.
func TestServePprof(t *testing.T) {
	base, stdout, _ := startServe(t, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--pprof-addr", "127.0.0.1:0"}, nil)
	m := regexp.MustCompile(`profiles:\s+(http://\S+/debug/pprof/)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("serve did not print where the profiles are; stdout:\n%s", stdout.String())
	}
	for _, c := range []struct {
		url  string
		want int
	}{
		{m[1] + "goroutine?debug=1", http.StatusOK},
		{m[1] + "profile?seconds=1", http.StatusOK},
		{base + "/debug/pprof/goroutine?debug=1", http.StatusNotFound},
	} {
		resp, err := http.Get(c.url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET %s: %d, want %d", c.url, resp.StatusCode, c.want)
		}
		if c.want == http.StatusOK && len(body) == 0 {
			t.Errorf("GET %s: an empty profile", c.url)
		}
	}
	// A malformed address is a usage error, found before anything opens.
	err := run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--pprof-addr", "not-an-address"},
		func(string) string { return "" }, io.Discard, io.Discard)
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "--pprof-addr") {
		t.Errorf("serve --pprof-addr not-an-address: %v, want a usage error naming the flag", err)
	}
	// An address in use stops the start before the banner, and is not a
	// usage error: the flag was right, the machine said no.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var out bytes.Buffer
	err = run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--pprof-addr", busy.Addr().String()},
		func(string) string { return "" }, &out, io.Discard)
	if err == nil || errors.Is(err, errUsage) || !strings.Contains(err.Error(), busy.Addr().String()) {
		t.Errorf("serve --pprof-addr %s (in use): %v, want an error naming the address, not a usage error", busy.Addr(), err)
	}
	if strings.Contains(out.String(), "running at") {
		t.Errorf("serve printed its banner before failing to listen for profiles:\n%s", out.String())
	}
}

// TestServeAddressFlags: every host:port flag of serve is checked when
// the flags are read, so a port that is not a number (or out of range) is
// a usage error naming the flag, not a failure after the engines opened.
func TestServeAddressFlags(t *testing.T) {
	for _, c := range []struct{ flag, value string }{
		{"--addr", "127.0.0.1:notaport"},
		{"--addr", "127.0.0.1"},
		{"--addr", "127.0.0.1:70000"},
		{"--pprof-addr", "127.0.0.1:notaport"},
		{"--pprof-addr", "127.0.0.1:-1"},
		{"--nats-listen", "127.0.0.1:no-such-service"},
		{"--nats-listen", "4222"},
	} {
		args := []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), c.flag, c.value}
		err := run(t.Context(), args, func(string) string { return "" }, io.Discard, io.Discard)
		if !errors.Is(err, errUsage) || exitCode(err) != 2 || !strings.Contains(err.Error(), c.flag+" "+strconv.Quote(c.value)) {
			t.Errorf("serve %s %s: %v, want a usage error (exit 2) naming the flag and its value", c.flag, c.value, err)
		}
	}
}

// TestAddrProblem: the addresses net.Listen takes pass the flags' check,
// named ports and IPv6 zones included; the rest are refused.
func TestAddrProblem(t *testing.T) {
	for _, ok := range []string{":8080", "127.0.0.1:0", "[::1]:0", "localhost:0", ":http", "[fe80::1%eth0]:80", "0.0.0.0:65535"} {
		if p := addrProblem("--addr", ok, "127.0.0.1:8080"); p != "" {
			t.Errorf("%q: %s, want no problem", ok, p)
		}
	}
	for _, bad := range []string{"", "8080", "127.0.0.1", "127.0.0.1:notaport", "127.0.0.1:65536", "127.0.0.1:-1", "::1:80"} {
		if p := addrProblem("--addr", bad, "127.0.0.1:8080"); !strings.HasPrefix(p, "--addr "+strconv.Quote(bad)+": want host:port") {
			t.Errorf("%q: %q, want a problem naming the flag and the value", bad, p)
		}
	}
}

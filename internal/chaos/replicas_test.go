//go:build chaos

package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/souq-commerce/souq/internal/postgres/pgtest"
)

// TestReplicas runs three `souq serve` processes on one PostgreSQL
// database behind a round-robin reverse proxy, as a load balancer would
// put them, and checks that the shop's guarantees hold across them:
//
//	go test -tags chaos -run TestReplicas -count=1 -v ./internal/chaos/
//
// It needs SOUQ_TEST_POSTGRES_URL (.ci/run sets it) and skips without it.
func TestReplicas(t *testing.T) {
	dbURL := pgtest.Schema(t)
	bin := buildSouq(t)
	c := newCluster(t, bin, dbURL, 3)
	t.Run("stock sold exactly once", c.stockSoldOnce)
	t.Run("one order per idempotency key", c.oneOrderPerKey)
	t.Run("price change seen by every replica", c.priceSeenEverywhere)
	t.Run("storefront purchase across replicas", c.storefrontAcrossReplicas)
	t.Run("kill -9 of a replica under load", c.killOneUnderLoad) // last: it leaves two replicas
}

// cacheBound is how long a change made through one replica may take to
// show on another (docs/storage.md: a product is cached 1 s, a listing
// page 1 s and served stale for 1 s more while it is refreshed).
const cacheBound = 2 * time.Second

// cluster is the replicas, the proxy in front of them and the database.
type cluster struct {
	t        *testing.T
	replicas []*souqServer
	proxy    *httptest.Server
	db       *pgxpool.Pool
	client   *http.Client
}

func newCluster(t *testing.T, bin, dbURL string, n int) *cluster {
	c := &cluster{t: t, client: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 600, MaxConnsPerHost: 0}}}
	dir := t.TempDir()
	for i := range n {
		h := &harness{t: t, name: fmt.Sprintf("replica-%d", i+1), bin: bin, dir: filepath.Join(dir, fmt.Sprint(i+1))}
		h.data = filepath.Join(h.dir, "data")
		if err := os.MkdirAll(h.dir, 0o750); err != nil {
			t.Fatal(err)
		}
		c.replicas = append(c.replicas, h.newSouq([]string{"--database", dbURL, "--pg-max-conns", "12"}))
	}
	// All at once, as a rollout starts them: each migrates (under the
	// advisory lock) and seeds the demo catalogue (one of them wins).
	var wg sync.WaitGroup
	for _, r := range c.replicas {
		wg.Go(r.start)
	}
	wg.Wait()
	var err error
	if c.db, err = pgxpool.New(t.Context(), dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.db.Close)
	c.proxy = httptest.NewServer(newRoundRobin(c.replicas))
	t.Cleanup(c.proxy.Close)
	return c
}

// roundRobin is a reverse proxy sending each request to the next replica
// in turn. A replica that refuses a connection is left out for a second;
// a request that failed that way is retried on the next replica only if
// its method is idempotent (GET, HEAD), as load balancers do.
type roundRobin struct {
	proxies []*httputil.ReverseProxy
	downTil []atomic.Int64 // unix nanoseconds until which replica i is left out
	next    atomic.Uint64
}

type proxyErrKey struct{}

func newRoundRobin(replicas []*souqServer) *roundRobin {
	rr := &roundRobin{downTil: make([]atomic.Int64, len(replicas))}
	for _, r := range replicas {
		u, _ := url.Parse(r.base)
		p := httputil.NewSingleHostReverseProxy(u)
		p.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			*r.Context().Value(proxyErrKey{}).(*error) = err
		}
		rr.proxies = append(rr.proxies, p)
	}
	return rr
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := len(rr.proxies)
	tries := 1
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		tries = n
	}
	start := int(rr.next.Add(1))
	for i, tried := 0, 0; i < n && tried < tries; i++ {
		b := (start + i) % n
		if time.Now().UnixNano() < rr.downTil[b].Load() {
			continue
		}
		tried++
		var failed error
		rr.proxies[b].ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), proxyErrKey{}, &failed)))
		if failed == nil {
			return
		}
		rr.downTil[b].Store(time.Now().Add(time.Second).UnixNano())
	}
	http.Error(w, "no replica answered", http.StatusBadGateway)
}

// do sends a JSON request and returns the status and body.
func (c *cluster) do(method, url string, body any, header ...string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// newProduct creates a product through replica 1's admin API.
func (c *cluster) newProduct(sku string, stock int, price int64) string {
	c.t.Helper()
	in := map[string]any{"sku": sku, "slug": strings.ToLower(sku), "brand": "Cosrx", "category": "skincare",
		"name":   map[string]any{"en": "Replica test " + sku, "ar": "منتج تجريبي " + sku},
		"prices": map[string]any{"AE": price}, "stock": stock}
	status, body, err := c.do("POST", c.replicas[0].base+"/api/v1/admin/products", in, "Authorization", "Bearer "+adminToken)
	if err != nil || status != http.StatusCreated {
		c.t.Fatalf("create product %s: got %d %s %v", sku, status, body, err)
	}
	var p struct{ ID string }
	if err := json.Unmarshal(body, &p); err != nil {
		c.t.Fatal(err)
	}
	return p.ID
}

// orderBody is a cash-on-delivery order of quantity units of product.
func orderBody(product string, quantity int) map[string]any {
	return map[string]any{"market": "AE", "items": []any{map[string]any{"product_id": product, "quantity": quantity}},
		"customer":         map[string]any{"name": "Maryam Al Mansoori", "phone": "+971501234567"},
		"shipping_address": map[string]any{"line1": "Villa 12, Street 4", "area": "Jumeirah 1", "city": "Dubai", "country": "AE"},
		"payment":          map[string]any{"method": "cod"}}
}

// scalar runs a query returning one integer.
func (c *cluster) scalar(query string, args ...any) int {
	c.t.Helper()
	var n int
	if err := c.db.QueryRow(c.t.Context(), query, args...).Scan(&n); err != nil {
		c.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// ordersOf counts the orders buying product, and the outbox events of
// those orders.
func (c *cluster) ordersOf(product string) (orders, events int) {
	c.t.Helper()
	orders = c.scalar(`SELECT COUNT(DISTINCT order_id) FROM order_lines WHERE product_id = $1`, product)
	events = c.scalar(`SELECT COUNT(*) FROM outbox
		WHERE convert_from(payload, 'UTF8')::jsonb -> 'properties' ->> 'order_id' IN
			(SELECT order_id FROM order_lines WHERE product_id = $1)`, product)
	return orders, events
}

// stockSoldOnce: 500 buyers of one unit each, spread over the replicas,
// for a product with 50 in stock.
func (c *cluster) stockSoldOnce(t *testing.T) {
	const stock, buyers = 50, 500
	product := c.newProduct("REPLICA-HOT-1", stock, 4500)
	statuses := c.concurrently(buyers, func(i int) (int, []byte, error) {
		return c.do("POST", c.proxy.URL+"/api/v1/orders", orderBody(product, 1))
	})
	if statuses[201] != stock || statuses[409] != buyers-stock || len(statuses) != 2 {
		t.Errorf("answers: got %v, want %d × 201 and %d × 409", statuses, stock, buyers-stock)
	}
	if left := c.scalar(`SELECT stock FROM products WHERE id = $1`, product); left != 0 {
		t.Errorf("stock left: got %d, want 0", left)
	}
	if orders, events := c.ordersOf(product); orders != stock || events != stock {
		t.Errorf("database: got %d orders and %d outbox events, want %d of each", orders, events, stock)
	}
}

// concurrently runs n requests at once and counts their statuses (0 for
// a transport error, which it reports).
func (c *cluster) concurrently(n int, req func(i int) (int, []byte, error)) map[int]int {
	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		wg       sync.WaitGroup
		start    = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			status, body, err := req(i)
			mu.Lock()
			defer mu.Unlock()
			statuses[status]++
			if err != nil || status >= 500 {
				c.t.Errorf("request %d: got %d %s %v", i, status, body, err)
			}
		})
	}
	close(start)
	wg.Wait()
	return statuses
}

// oneOrderPerKey: 100 requests with one Idempotency-Key and body, at once.
func (c *cluster) oneOrderPerKey(t *testing.T) {
	product := c.newProduct("REPLICA-KEY-1", 1000, 3900)
	var (
		mu     sync.Mutex
		bodies = map[string]int{}
	)
	statuses := c.concurrently(100, func(i int) (int, []byte, error) {
		status, body, err := c.do("POST", c.proxy.URL+"/api/v1/orders", orderBody(product, 2), "Idempotency-Key", "replica-key-1")
		if status == http.StatusCreated {
			mu.Lock()
			bodies[string(body)]++
			mu.Unlock()
		}
		if status == http.StatusConflict && !bytes.Contains(body, []byte("idempotency-key-in-flight")) {
			t.Errorf("409 that is not the key in flight: %s", body)
		}
		return status, body, err
	})
	if statuses[201] == 0 || statuses[201]+statuses[409] != 100 {
		t.Errorf("answers: got %v, want 201s (the order and its replays) and 409s (in flight) only", statuses)
	}
	if len(bodies) != 1 {
		t.Errorf("201 bodies: got %d different ones, want one (replays repeat the first response)", len(bodies))
	}
	if orders, events := c.ordersOf(product); orders != 1 || events != 1 {
		t.Errorf("database: got %d orders and %d outbox events, want 1 of each", orders, events)
	}
	if left := c.scalar(`SELECT stock FROM products WHERE id = $1`, product); left != 998 {
		t.Errorf("stock left: got %d, want 998", left)
	}
}

// priceSeenEverywhere: a price changed through replica 1 is shown by
// every replica within cacheBound. The wait allows for a busy machine;
// the time each replica took is logged.
func (c *cluster) priceSeenEverywhere(t *testing.T) {
	product := c.newProduct("REPLICA-PRICE-1", 5, 5000)
	for _, r := range c.replicas { // every replica has it cached at the old price
		c.waitPrice(t, r, product, 5000, 10*time.Second)
	}
	in := map[string]any{"sku": "REPLICA-PRICE-1", "slug": "replica-price-1", "brand": "Cosrx", "category": "skincare",
		"name":   map[string]any{"en": "Replica test REPLICA-PRICE-1", "ar": "منتج تجريبي REPLICA-PRICE-1"},
		"prices": map[string]any{"AE": 4200}}
	changed := time.Now()
	status, body, err := c.do("PUT", c.replicas[0].base+"/api/v1/admin/products/"+product, in, "Authorization", "Bearer "+adminToken)
	if err != nil || status != http.StatusOK {
		t.Fatalf("change the price: got %d %s %v", status, body, err)
	}
	for i, r := range c.replicas {
		took := c.waitPrice(t, r, product, 4200, cacheBound+10*time.Second)
		t.Logf("replica %d shows the new price %s after the change (bound %s)", i+1, took.Sub(changed).Round(time.Millisecond), cacheBound)
	}
}

// waitPrice polls a replica's product until its AE price is want, and
// returns when it saw it.
func (c *cluster) waitPrice(t *testing.T, r *souqServer, product string, want int64, within time.Duration) time.Time {
	t.Helper()
	var got int64
	err := waitFor(within, 20*time.Millisecond, func() (bool, error) {
		status, body, err := c.do("GET", r.base+"/api/v1/products/"+product+"?market=AE", nil)
		if err != nil || status != http.StatusOK {
			return false, fmt.Errorf("GET product: %d %s %v", status, body, err)
		}
		var p struct {
			Price struct{ Amount int64 } `json:"price"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			return false, err
		}
		got = p.Price.Amount
		return got == want, nil
	})
	if err != nil {
		t.Fatalf("%s: price %d, want %d: %v", r.base, got, want, err)
	}
	return time.Now()
}

var (
	csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	keyField  = regexp.MustCompile(`name="key" value="([^"]+)"`)
)

// storefrontAcrossReplicas: a shopper whose every page comes from another
// replica: the product page (and its CSRF token) from replica 1, the cart
// from replica 2, the checkout page from replica 3 and the order placed
// through replica 1.
func (c *cluster) storefrontAcrossReplicas(t *testing.T) {
	product := c.newProduct("REPLICA-SHOP-1", 10, 6100)
	jar, _ := cookiejar.New(nil)
	shopper := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := func(r *souqServer, method, path string, form url.Values) (int, string, http.Header) {
		t.Helper()
		var (
			resp *http.Response
			err  error
		)
		if method == "GET" {
			resp, err = shopper.Get(r.base + path)
		} else {
			resp, err = shopper.PostForm(r.base+path, form)
		}
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header
	}
	field := func(re *regexp.Regexp, body string) string {
		t.Helper()
		m := re.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no %s in the page", re)
		}
		return m[1]
	}
	a, b, cc := c.replicas[0], c.replicas[1], c.replicas[2%len(c.replicas)]
	status, body, _ := page(a, "GET", "/en/p/replica-shop-1", nil)
	if status != http.StatusOK {
		t.Fatalf("product page on replica 1: got %d", status)
	}
	status, _, hdr := page(b, "POST", "/en/cart/items", url.Values{"csrf": {field(csrfField, body)}, "product_id": {product}, "quantity": {"2"}})
	if status != http.StatusSeeOther || hdr.Get("Location") != "/en/cart" {
		t.Fatalf("add to cart on replica 2 with replica 1's token: got %d to %q, want 303 to /en/cart", status, hdr.Get("Location"))
	}
	status, body, _ = page(cc, "GET", "/en/checkout", nil)
	if status != http.StatusOK {
		t.Fatalf("checkout page on replica 3: got %d", status)
	}
	form := url.Values{"csrf": {field(csrfField, body)}, "key": {field(keyField, body)}, "name": {"Mariam Al Mansoori"},
		"phone": {"50 123 4567"}, "email": {"mariam@example.ae"}, "city": {"Dubai"}, "area": {"Al Barsha"},
		"address": {"Villa 12, Street 5"}, "payment": {"cod"}}
	status, _, hdr = page(a, "POST", "/en/checkout", form)
	if status != http.StatusSeeOther || !strings.Contains(hdr.Get("Location"), "/en/orders/") {
		t.Fatalf("place the order on replica 1: got %d to %q, want 303 to the order page", status, hdr.Get("Location"))
	}
	if orders, events := c.ordersOf(product); orders != 1 || events != 1 {
		t.Errorf("database: got %d orders and %d outbox events, want 1 of each", orders, events)
	}
}

// killOneUnderLoad: keyed orders flow through the proxy; a replica is
// killed with SIGKILL in the middle. Every order answered 201 must be in
// the database with its outbox event, and the two other replicas must go
// on taking orders.
func (c *cluster) killOneUnderLoad(t *testing.T) {
	product := c.newProduct("REPLICA-KILL-1", 100000, 2500)
	var (
		mu                sync.Mutex
		acked             []string
		afterKill, failed atomic.Int64
		killed            atomic.Bool
		seq               atomic.Int64
	)
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for ctx.Err() == nil {
				key := fmt.Sprintf("kill-load-%d", seq.Add(1))
				status, body, err := c.do("POST", c.proxy.URL+"/api/v1/orders", orderBody(product, 1), "Idempotency-Key", key)
				if err != nil || status != http.StatusCreated {
					failed.Add(1)
					continue
				}
				var o struct{ ID string }
				if jerr := json.Unmarshal(body, &o); jerr != nil || o.ID == "" {
					t.Errorf("201 without an order id: %s", body)
					continue
				}
				mu.Lock()
				acked = append(acked, o.ID)
				mu.Unlock()
				if killed.Load() {
					afterKill.Add(1)
				}
			}
		})
	}
	waitAcked := func(n int) {
		err := waitFor(time.Minute, 10*time.Millisecond, func() (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			return len(acked) >= n, nil
		})
		if err != nil {
			t.Fatalf("waiting for %d acknowledged orders: %v", n, err)
		}
	}
	waitAcked(200)
	victim := c.replicas[len(c.replicas)-1]
	victim.kill9()
	killed.Store(true)
	err := waitFor(time.Minute, 10*time.Millisecond, func() (bool, error) { return afterKill.Load() >= 200, nil })
	stop()
	wg.Wait()
	if err != nil {
		t.Fatalf("the other replicas did not take 200 orders after the kill: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	var missing []string
	rows, err := c.db.Query(t.Context(), `SELECT a.id FROM unnest($1::text[]) AS a(id)
		WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = a.id)
		   OR NOT EXISTS (SELECT 1 FROM outbox e WHERE convert_from(e.payload, 'UTF8')::jsonb -> 'properties' ->> 'order_id' = a.id)`, acked)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		missing = append(missing, id)
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d acknowledged orders are missing their row or outbox event: %v", len(missing), len(acked), missing[:min(len(missing), 10)])
	}
	t.Logf("%d orders acknowledged (%d after the kill), %d requests failed (those in flight on the killed replica and its refused connections)",
		len(acked), afterKill.Load(), failed.Load())
	sold := c.scalar(`SELECT 100000 - stock FROM products WHERE id = $1`, product)
	if orders, _ := c.ordersOf(product); sold != orders || orders < len(acked) {
		t.Errorf("units sold %d, orders %d, acknowledged %d: want sold = orders ≥ acknowledged", sold, orders, len(acked))
	}
}

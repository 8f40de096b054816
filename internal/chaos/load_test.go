//go:build chaos

package chaos

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Shape of the load.
const (
	hotProducts     = 6  // products the orders buy, with a stock set by the suite
	minBatch        = 10 // events per collector batch
	maxBatch        = 40
	ordersInFlight  = 48 // orders being placed or retried at once
	batchesInFlight = 64
	maxBackoff      = time.Second
)

// load is the clients: orders through the API and behaviour events
// through the collector, at the offered rates, each retried like a real
// client (same Idempotency-Key, same message ids) until it is answered or
// -chaos.retry-for passes. What the server acknowledges goes to the ledger.
type load struct {
	h        *harness
	base     string
	client   *http.Client
	products []string // every product id the events name
	hot      []string // the products orders buy

	offer     context.Context // ends: no new orders or batches
	stopOffer context.CancelFunc
	wg        sync.WaitGroup
}

// prepare reads the demo catalogue from a running server and sets the
// stock of the products the orders will buy: enough for about 60% of the
// units the offered orders ask for, so that stock runs out during the run.
func (h *harness) prepare(base string) (products, hot []string) {
	t := h.t
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(base + "/api/v1/products?market=AE&page_size=100")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil || len(list.Items) < hotProducts {
		t.Fatalf("product list: %v, %d products", err, len(list.Items))
	}
	for _, it := range list.Items {
		products = append(products, it.ID)
	}
	for _, i := range h.rng.Perm(len(products))[:hotProducts] {
		hot = append(hot, products[i])
	}
	// An order has 1.5 lines of 2 units on average.
	units := *flagOrders * flagDuration.Seconds() * 3 * 0.6
	stock := max(20, int(units)/hotProducts)
	for _, id := range hot {
		req, _ := http.NewRequest(http.MethodPut, base+"/api/v1/admin/products/"+id+"/stock",
			strings.NewReader(fmt.Sprintf(`{"quantity":%d}`, stock)))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("set stock of %s: got %d %s", id, resp.StatusCode, body)
		}
		h.led.add(func(l *ledger) { l.stock[id] = stock })
	}
	return products, hot
}

// startLoad prepares the catalogue and starts the clients, offering
// -chaos.orders-rate orders and eventRate events a second.
func (h *harness) startLoad(base string, eventRate float64) *load {
	products, hot := h.prepare(base)
	offer, stop := context.WithCancel(context.Background())
	l := &load{h: h, base: base, products: products, hot: hot, offer: offer, stopOffer: stop,
		client: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	orderRNG := rand.New(rand.NewPCG(uint64(h.seed), 1))
	eventRNG := rand.New(rand.NewPCG(uint64(h.seed), 2))
	l.wg.Add(2)
	go l.pace(*flagOrders, ordersInFlight, func(n int) func() { return l.order(orderRNG, n) })
	go l.pace(eventRate/((minBatch+maxBatch)/2), batchesInFlight, func(n int) func() { return l.batch(eventRNG, n) })
	h.t.Cleanup(l.stop)
	return l
}

// stop stops offering new work and waits for what is in flight to be
// answered or given up.
func (l *load) stop() {
	l.stopOffer()
	l.wg.Wait()
}

// pace starts next(n)'s work rate times a second, at most inFlight at a
// time, until the offer ends. next runs on this goroutine (it draws from a
// seeded source, so the work is the same for a seed); the work it returns
// runs on its own.
func (l *load) pace(rate float64, inFlight int, next func(n int) func()) {
	defer l.wg.Done()
	sem := make(chan struct{}, inFlight)
	every := time.Duration(float64(time.Second) / rate)
	at := time.Now()
	for n := 0; ; n++ {
		if !sleepUntil(l.offer, at) {
			return
		}
		work := next(n)
		select {
		case sem <- struct{}{}:
		case <-l.offer.Done():
			return
		}
		l.wg.Add(1)
		go func() {
			defer func() { <-sem; l.wg.Done() }()
			work()
		}()
		at = at.Add(every)
		if now := time.Now(); at.Before(now.Add(-time.Second)) {
			at = now // fell behind: do not catch up in a burst
		}
	}
}

// sleepUntil waits until t; false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// answer is one HTTP exchange: a status and body, or a transport error.
type answer struct {
	status int
	body   []byte
	header http.Header
	err    error
}

// problem reports whether the answer is a problem document of the given
// type (its type URI ends with it, as in urn:souq:problem:out-of-stock).
func (a answer) problem(typ string) bool {
	var p struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(a.body, &p)
	return strings.HasSuffix(p.Type, ":"+typ) || strings.HasSuffix(p.Type, "/"+typ)
}

func (a answer) String() string {
	if a.err != nil {
		return a.err.Error()
	}
	return fmt.Sprintf("%d %s", a.status, bytes.TrimSpace(a.body[:min(len(a.body), 300)]))
}

// retryable reports whether a client should send the same request again:
// no answer, a server error, shedding, or an idempotency key still held by
// an earlier attempt.
func (a answer) retryable() bool {
	return a.err != nil || a.status >= 500 || a.status == http.StatusTooManyRequests ||
		(a.status == http.StatusConflict && a.problem("idempotency-key-in-flight"))
}

// post sends body to path with the given headers.
func (l *load) post(path string, body []byte, header http.Header) answer {
	req, err := http.NewRequest(http.MethodPost, l.base+path, bytes.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	req.Header = header
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{err: err}
	}
	return answer{status: resp.StatusCode, body: b, header: resp.Header}
}

// retry sends the request until done accepts an answer or
// -chaos.retry-for has passed since the first attempt; false if it gave
// up.
func (l *load) retry(path string, body []byte, header http.Header, done func(answer) bool) bool {
	first := time.Now()
	backoff := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			l.h.led.add(func(g *ledger) { g.retries++ })
		}
		if done(l.post(path, body, header.Clone())) {
			return true
		}
		if time.Since(first) > *flagRetryFor {
			return false
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, maxBackoff)
	}
}

// orderLine is one line of an order request.
type orderLine struct {
	ProductID string `json:"product_id"`
	Quantity  int    `json:"quantity"`
}

// order draws the n-th order and returns the work of placing it.
func (l *load) order(rng *rand.Rand, n int) func() {
	markets := souq.Markets()
	m := markets[rng.IntN(len(markets))]
	lines := map[string]int{}
	for range 1 + rng.IntN(2) {
		lines[l.hot[rng.IntN(len(l.hot))]] += 1 + rng.IntN(3)
	}
	var items []orderLine
	for _, id := range slices.Sorted(maps.Keys(lines)) {
		items = append(items, orderLine{id, lines[id]})
	}
	phone := m.PhonePrefix + "5"
	for len(phone) < len(m.PhonePrefix)+m.PhoneDigits {
		phone += fmt.Sprint(rng.IntN(10))
	}
	payment := map[string]string{"method": string(souq.PayCashOnDelivery)}
	if rng.IntN(3) == 0 {
		payment = map[string]string{"method": string(souq.PayCard), "token": "tok_ok"}
	}
	body, _ := json.Marshal(map[string]any{
		"market":   m.Code,
		"items":    items,
		"customer": map[string]string{"name": fmt.Sprintf("Chaos Shopper %d", n), "email": fmt.Sprintf("shopper%d@example.com", n), "phone": phone},
		"shipping_address": map[string]string{"line1": fmt.Sprintf("Building %d, Street %d", 1+rng.IntN(900), 1+rng.IntN(90)),
			"area": "Chaos Quarter", "city": m.Cities[rng.IntN(len(m.Cities))], "country": string(m.Code)},
		"payment": payment,
	})
	key := fmt.Sprintf("chaos-%s-%d-order-%d", l.h.name, l.h.seed, n)
	return func() {
		l.h.led.add(func(g *ledger) { g.ordersSent++ })
		header := http.Header{"Idempotency-Key": {key}}
		ok := l.retry("/api/v1/orders", body, header, func(a answer) bool {
			switch {
			case a.status == http.StatusCreated:
				var o struct {
					ID string `json:"id"`
				}
				if err := json.Unmarshal(a.body, &o); err != nil || o.ID == "" {
					l.h.led.add(func(g *ledger) { g.rejections = append(g.rejections, "order answer without an id: "+a.String()) })
					return true
				}
				l.h.led.add(func(g *ledger) {
					g.orders[o.ID] = lines
					g.ordersAck++
					if a.header.Get("Idempotent-Replayed") == "true" {
						g.replays++
					}
				})
				return true
			case a.status == http.StatusConflict && a.problem("out-of-stock"):
				l.h.led.add(func(g *ledger) { g.outOfStock++ })
				return true
			case a.retryable():
				return false
			default:
				l.h.led.add(func(g *ledger) { g.rejections = append(g.rejections, "order "+key+": "+a.String()) })
				return true
			}
		})
		if !ok {
			l.h.led.add(func(g *ledger) { g.unresolvedOrders++ })
		}
	}
}

// segmentEvent is one message of a collector batch. The suite sends no
// timestamp: the server stamps the event with its own clock.
type segmentEvent struct {
	Type        string         `json:"type"`
	Event       string         `json:"event,omitempty"`
	Name        string         `json:"name,omitempty"`
	MessageID   string         `json:"messageId"`
	AnonymousID string         `json:"anonymousId"`
	Properties  map[string]any `json:"properties,omitempty"`
	Context     map[string]any `json:"context"`
}

var searches = []string{"serum", "سيروم", "sunscreen", "واقي شمس", "toner", "mask", "cleanser", "lip tint"}

// batch draws the n-th batch of behaviour events and returns the work of
// sending it.
func (l *load) batch(rng *rand.Rand, n int) func() {
	markets := souq.MarketCodes()
	size := minBatch + rng.IntN(maxBatch-minBatch+1)
	evs := make([]segmentEvent, size)
	ids := make([]string, size)
	for i := range evs {
		ids[i] = fmt.Sprintf("chaos-%s-%d-e%d-%d", l.h.name, l.h.seed, n, i)
		ev := segmentEvent{Type: "track", MessageID: ids[i], AnonymousID: fmt.Sprintf("anon-%d", rng.IntN(500)),
			Context: map[string]any{"market": markets[rng.IntN(len(markets))]}}
		product := l.products[rng.IntN(len(l.products))]
		switch k := rng.IntN(10); {
		case k < 5:
			ev.Event, ev.Properties = "Product Viewed", map[string]any{"product_id": product}
		case k < 7:
			ev.Event, ev.Properties = "Product Added", map[string]any{"product_id": product, "quantity": 1 + rng.IntN(3)}
		case k < 9:
			ev.Event, ev.Properties = "Products Searched", map[string]any{"query": searches[rng.IntN(len(searches))]}
		default:
			ev.Type, ev.Name, ev.Properties = "page", "Home", map[string]any{"path": "/en/"}
		}
		evs[i] = ev
	}
	body, _ := json.Marshal(map[string]any{"batch": evs})
	return func() {
		l.h.led.add(func(g *ledger) { g.eventsSent += size })
		header := http.Header{}
		header.Set("Authorization", "Basic "+basic(writeKey))
		ok := l.retry("/v1/batch", body, header, func(a answer) bool {
			switch {
			case a.status == http.StatusOK:
				var ans struct {
					Accepted int `json:"accepted"`
					Rejected []struct {
						MessageID string `json:"messageId"`
						Reason    string `json:"reason"`
					} `json:"rejected"`
				}
				if err := json.Unmarshal(a.body, &ans); err != nil {
					l.h.led.add(func(g *ledger) { g.rejections = append(g.rejections, "batch answer: "+a.String()) })
					return true
				}
				rejected := map[string]bool{}
				for _, r := range ans.Rejected {
					rejected[r.MessageID] = true
				}
				l.h.led.add(func(g *ledger) {
					for _, id := range ids {
						if !rejected[id] {
							g.events[id] = true
							g.eventsAck++
						}
					}
					if len(ans.Rejected) > 0 {
						g.rejections = append(g.rejections, fmt.Sprintf("batch %d: %d events rejected, first: %s",
							n, len(ans.Rejected), ans.Rejected[0].Reason))
					}
				})
				return true
			case a.retryable():
				return false
			default:
				l.h.led.add(func(g *ledger) { g.rejections = append(g.rejections, fmt.Sprintf("batch %d: %s", n, a)) })
				return true
			}
		})
		if !ok {
			l.h.led.add(func(g *ledger) { g.unresolvedEvents += size })
		}
	}
}

// basic is the HTTP Basic credentials "key:" in base64.
func basic(key string) string {
	return base64.StdEncoding.EncodeToString([]byte(key + ":"))
}

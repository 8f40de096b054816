package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/souq-commerce/souq/bench/internal/load"
	"github.com/souq-commerce/souq/bench/internal/metrics"
	"github.com/souq-commerce/souq/bench/internal/server"
)

// mode is what the orders of a configuration buy.
type mode int

const (
	spread mode = iota // today's orders over -products products
	hot                // 1 unit of one product, every order
)

// souqConfig is one Souq configuration: a database, a number of
// processes, a mode, and the cells to measure.
type souqConfig struct {
	postgres bool // else embedded SQLite
	replicas int
	mode     mode
	buyers   []int // closed-loop cells
	fixed    bool  // and an open-loop cell at -rate
	rounds   bool  // and -rounds keyed/unkeyed rounds
}

func (sc souqConfig) name() string {
	m := "spread"
	if sc.mode == hot {
		m = "hot"
	}
	if !sc.postgres {
		return "Souq SQLite, " + m
	}
	if sc.replicas == 1 {
		return "Souq PG, 1 replica, " + m
	}
	return fmt.Sprintf("Souq PG, %d replicas, %s", sc.replicas, m)
}

// souq measures one Souq configuration on a fresh database.
func (b *bench) souq(ctx context.Context, sc souqConfig) *row {
	r := &row{name: sc.name(), kind: souqSQLite, replicas: sc.replicas, hot: sc.mode == hot, planned: sc.buyers}
	args := []string{"--admin-token", "bench", "--log-level", "error", "--shoppers", "0"}
	if b.c.card {
		args = append(args, "--payment", "test")
	}
	if sc.postgres {
		r.kind = souqPG
		schema, err := b.pg.Fresh(ctx)
		if err != nil {
			r.err = b.fail(r.name, err)
			return r
		}
		defer func() {
			if err := b.pg.Drop(ctx, schema); err != nil {
				fmt.Fprintln(os.Stderr, "bench:", err)
			}
		}()
		args = append(args, "--database", schema.URL)
	} else {
		args = append(args, "--sqlite-sync", b.c.sync)
	}
	bases, stop, err := b.start(ctx, sc.replicas, args)
	if err != nil {
		r.err = b.fail(r.name, err)
		return r
	}
	defer stop() // before the schema is dropped
	defer b.client.CloseIdleConnections()

	n := b.c.products
	if sc.mode == hot {
		n = 1
	}
	ids, err := createProducts(ctx, b.client, bases[0], n)
	if err != nil {
		r.err = b.fail(r.name, err)
		return r
	}
	var seq atomic.Int64 // numbers orders across cells, so spread orders keep rotating
	order := func(keyed bool) load.Request {
		return func(i int) error {
			body := orderBody(ids, int(seq.Add(1)), b.c.card)
			if sc.mode == hot {
				body = hotOrderBody(ids[0], b.c.card)
			}
			return placeOrder(ctx, b.client, bases[i%len(bases)], body, keyed)
		}
	}
	var acked atomic.Int64 // orders answered 201, in every cell
	keyedOrder := order(b.c.keys)
	placed := func(i int) error {
		err := keyedOrder(i)
		if err == nil {
			acked.Add(1)
		}
		return err
	}
	// Before each measured cell the pipeline catches up with the orders
	// of the cells before, so that a cell does not pay for their events.
	settle := func() {
		if err := settle(ctx, b.client, bases, acked.Load()); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s: the pipeline did not catch up: %v\n", r.name, err)
		}
	}
	fmt.Fprintf(b.out, "%s: %d process(es) ready, %d product(s)\n", r.name, len(bases), len(ids))
	if _, err := load.ClosedContext(ctx, b.c.ref, b.c.warmup, placed); err != nil {
		r.err = b.fail(r.name+", warm-up", err)
		return r
	}
	for _, buyers := range sc.buyers {
		if ctx.Err() != nil {
			break
		}
		settle()
		lat, err := load.ClosedContext(ctx, buyers, b.c.duration, placed)
		c := closedCell(buyers, b.c.duration, lat, err)
		r.cells = append(r.cells, c)
		b.report(r.name, c)
	}
	if sc.fixed && ctx.Err() == nil {
		settle()
		lat, late, err := load.OpenContext(ctx, b.c.rate, b.c.duration, placed)
		f := &fixedCell{err: err}
		if err == nil {
			f = &fixedCell{orders: len(lat), p50: load.Pct(lat, 50), p90: load.Pct(lat, 90), p99: load.Pct(lat, 99),
				max: load.Pct(lat, 100), late: late}
			fmt.Fprintf(b.out, "%s, fixed rate %d orders/s: %d orders, p50 %s p90 %s p99 %s max %s (started late: %d)\n",
				r.name, b.c.rate, f.orders, f.p50, f.p90, f.p99, f.max, f.late)
		} else {
			b.fail(r.name+", fixed rate", err)
		}
		r.fixed = f
	}
	if sc.rounds && b.c.rounds > 0 && ctx.Err() == nil {
		b.keyedRounds(ctx, r, order(true), order(false))
	}
	return r
}

// report prints a closed-loop cell as it is measured, or fails it loudly.
func (b *bench) report(name string, c cell) {
	if c.err != nil {
		b.fail(fmt.Sprintf("%s, %d buyers", name, c.buyers), c.err)
		return
	}
	pool := ""
	if c.pool > 0 {
		pool = fmt.Sprintf(" (pool capped at %d connections)", c.pool)
	}
	fmt.Fprintf(b.out, "%s, %d buyers%s, %s: %d orders, %.0f orders/s, p50 %s p99 %s\n",
		name, c.buyers, pool, b.c.duration, c.orders, c.perSec, c.p50, c.p99)
}

// keyedRounds runs -rounds alternating rounds of keyed and unkeyed orders
// at the reference number of buyers, and sets r.keyedRatio.
func (b *bench) keyedRounds(ctx context.Context, r *row, keyed, unkeyed load.Request) {
	var total [2]int
	for round := 1; round <= b.c.rounds; round++ {
		for i, m := range []struct {
			name  string
			order load.Request
		}{{"with Idempotency-Key", keyed}, {"without key", unkeyed}} {
			lat, err := load.ClosedContext(ctx, b.c.ref, b.c.duration, m.order)
			if err != nil {
				b.fail(fmt.Sprintf("%s, round %d, %s", r.name, round, m.name), err)
				return
			}
			total[i] += len(lat)
			fmt.Fprintf(b.out, "%s, round %d, %s: %d buyers, %s: %d orders, %.0f orders/s, p50 %s p99 %s\n",
				r.name, round, m.name, b.c.ref, b.c.duration, len(lat), float64(len(lat))/b.c.duration.Seconds(), load.Pct(lat, 50), load.Pct(lat, 99))
		}
	}
	r.keyedRatio = float64(total[0]) / float64(max(total[1], 1))
}

// start starts n `souq serve` processes with args, each with its own data
// directory, at once (on PostgreSQL the migrations' advisory lock lets
// them), and returns their base URLs and a function that stops them all.
func (b *bench) start(ctx context.Context, n int, args []string) (bases []string, stop func(), err error) {
	b.seq++
	bases = make([]string, n)
	stops := make([]func(), n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		data := filepath.Join(b.dir, fmt.Sprintf("config%d-replica%d", b.seq, i))
		wg.Go(func() { bases[i], stops[i], errs[i] = server.StartOn(ctx, b.bin, data, args...) })
	}
	wg.Wait()
	stop = func() {
		var wg sync.WaitGroup
		for _, s := range stops {
			if s != nil {
				wg.Go(s)
			}
		}
		wg.Wait()
	}
	for i, err := range errs {
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("start replica %d: %w", i+1, err)
		}
	}
	return bases, stop, nil
}

// createProducts creates n products with a stock of 10⁹ through the admin
// API at base.
func createProducts(ctx context.Context, client *http.Client, base string, n int) ([]string, error) {
	ids := make([]string, 0, n)
	for i := range n {
		body, _ := json.Marshal(map[string]any{
			"sku": fmt.Sprintf("BENCH-%04d", i), "slug": fmt.Sprintf("bench-%d", i), "brand": "Bench", "category": "skincare",
			"name":   map[string]string{"en": fmt.Sprintf("Bench Serum %d", i), "ar": fmt.Sprintf("سيروم %d", i)},
			"prices": map[string]int64{"AE": 8900, "SA": 9200, "KW": 7250}, "stock": 1_000_000_000,
		})
		req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/admin/products", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer bench")
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("create product: %w", err)
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		var p struct{ ID string }
		if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &p) != nil || p.ID == "" {
			return nil, fmt.Errorf("create product: status %d: %s", resp.StatusCode, snippet(b))
		}
		ids = append(ids, p.ID)
	}
	return ids, nil
}

// orderBody is a one- or two-line cash-on-delivery order in the UAE over
// the products ids.
func orderBody(ids []string, i int, card bool) []byte {
	items := []map[string]any{{"product_id": ids[i%len(ids)], "quantity": 1}}
	if i%3 == 0 {
		items = append(items, map[string]any{"product_id": ids[(i*7+1)%len(ids)], "quantity": 2})
	}
	return marshalOrder(items, card)
}

// hotOrderBody is an order in the UAE of 1 unit of id.
func hotOrderBody(id string, card bool) []byte {
	return marshalOrder([]map[string]any{{"product_id": id, "quantity": 1}}, card)
}

// marshalOrder is an order of items paid cash on delivery, or by card
// with the test provider's token tok_ok.
func marshalOrder(items []map[string]any, card bool) []byte {
	payment := map[string]string{"method": "cod"}
	if card {
		payment = map[string]string{"method": "card", "token": "tok_ok"}
	}
	b, _ := json.Marshal(map[string]any{
		"market": "AE", "items": items,
		"customer":         map[string]string{"name": "Bench Shopper", "email": "bench@example.ae", "phone": "+971501234567"},
		"shipping_address": map[string]string{"line1": "Tower 1", "area": "Business Bay", "city": "Dubai"},
		"payment":          payment,
	})
	return b
}

// placeOrder posts an order to base, with a random Idempotency-Key (as
// clients make them: a UUID's worth of randomness) when keyed, and fails
// unless it was created (201).
func placeOrder(ctx context.Context, client *http.Client, base string, body []byte, keyed bool) error {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/orders", bytes.NewReader(body))
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
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("order at %s: status %d: %s", base, resp.StatusCode, snippet(b))
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return nil
}

// snippet is the start of a response body, for an error message.
func snippet(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	return string(bytes.TrimSpace(b))
}

// settle waits, up to two minutes, until the replicas' outbox relays have
// published at least acked events between them and their stream consumers
// have no lag, reading their /metrics.
func settle(ctx context.Context, client *http.Client, bases []string, acked int64) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var published, lag float64
		var err error
		for _, base := range bases {
			var m map[string]float64
			if m, err = metrics.Scrape(ctx, client, base); err != nil {
				break
			}
			published += m["souq_relay_published_total"] + m["souq_relay_duplicates_total"]
			lag += m["souq_pipeline_consumer_lag"]
		}
		if err == nil && published >= float64(acked) && lag == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("%.0f of %d events published, consumer lag %.0f", published, acked, lag)
			}
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

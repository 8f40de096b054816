package collector

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

type nopPublisher struct{}

func (nopPublisher) PublishBatch(context.Context, []souq.Event) ([]error, error) { return nil, nil }

type nopDeadLetters struct{}

func (nopDeadLetters) DeadLetter(context.Context, string, []byte) error { return nil }

// realisticBatch is n messages as a storefront's analytics.js sends them
// during a sale: mostly product views and list views, some searches, cart
// changes, page views, checkouts and identifies, each with a browser context.
func realisticBatch(tb testing.TB, n int) []byte {
	tb.Helper()
	ctx := map[string]any{
		"market": "AE", "locale": "ar-AE", "timezone": "Asia/Dubai", "ip": "203.0.113.9",
		"library":   map[string]any{"name": "analytics.js", "version": "next-1.70.0"},
		"page":      map[string]any{"path": "/ae/products/prd_k3v7", "referrer": "https://www.google.com/", "title": "Rose oud eau de parfum", "url": "https://souq.example/ae/products/prd_k3v7"},
		"userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	}
	product := func(i int) map[string]any {
		return map[string]any{"product_id": fmt.Sprintf("prd_%016d", i), "sku": fmt.Sprintf("SK-%05d", i), "name": "Rose oud eau de parfum 100 ml",
			"brand": "Maison Souq", "category": "Fragrance", "variant": "100 ml", "price": 249.5, "quantity": 1, "position": i % 24, "currency": "AED"}
	}
	list := make([]any, 12)
	for i := range list {
		list[i] = product(i)
	}
	msgs := make([]any, n)
	for i := range msgs {
		id := fmt.Sprintf("ajs-next-1732730400000-%08x-4b1c-9f2e-%012x", i, i)
		var m msg
		switch i % 10 {
		case 0, 1, 2, 3:
			m = track(id, "Product Viewed", product(i))
		case 4:
			m = track(id, "Product List Viewed", map[string]any{"list_id": "sale-fragrance", "category": "Fragrance", "products": list})
		case 5:
			m = track(id, "Products Searched", map[string]any{"query": "oud"})
		case 6:
			m = track(id, "Product Added", product(i)).with("properties", map[string]any{"product_id": "prd_a", "cart_id": "cart_x", "quantity": 2, "price": 249.5})
		case 7:
			m = page(id, "Product")
		case 8:
			m = track(id, "Checkout Started", map[string]any{"order_id": "o1", "value": 499, "revenue": 475.24, "tax": 23.76, "currency": "AED", "products": list[:2]})
		case 9:
			m = identify(id)
		}
		msgs[i] = m.with("context", ctx, "anonymousId", "5a1f0c9e-3f1b-4c55-9a0e-6f7c2b1d8e44", "timestamp", "2026-11-27T17:59:58.123Z")
	}
	return mustJSON(tb, map[string]any{"batch": msgs, "sentAt": "2026-11-27T17:59:59.000Z"})
}

// BenchmarkCollectorBatch measures the collector's own CPU cost: batches of
// 100 realistic messages through the /v1/batch handler, with a publisher
// that does nothing. It reports messages per second.
func BenchmarkCollectorBatch(b *testing.B) {
	const perBatch = 100
	body := realisticBatch(b, perBatch)
	for _, bc := range []struct {
		name     string
		body     []byte
		encoding string
		parallel bool
	}{
		{name: "json", body: body},
		{name: "gzip", body: gzipped(b, body), encoding: "gzip"},
		{name: "json-parallel", body: body, parallel: true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := New(Deps{Publisher: nopPublisher{}, DeadLetters: nopDeadLetters{}, WriteKeys: []string{testKey},
				Now: func() time.Time { return testNow }, RatePerSecond: 1e12, Burst: 1 << 30})
			h := c.Routes()[0].Handler
			auth := basic(testKey + ":")
			serve := func() {
				req := httptest.NewRequest(http.MethodPost, "/v1/batch", bytes.NewReader(bc.body))
				req.Header.Set("Authorization", auth)
				if bc.encoding != "" {
					req.Header.Set("Content-Encoding", bc.encoding)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"accepted":100,"rejected":[]`)) {
					b.Fatalf("got %d %s, want every message accepted", rec.Code, rec.Body)
				}
			}
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			b.ResetTimer()
			if bc.parallel {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						serve()
					}
				})
			} else {
				for range b.N {
					serve()
				}
			}
			b.ReportMetric(float64(b.N*perBatch)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

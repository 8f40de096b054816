package sqlite

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storetest"
)

// BenchmarkCreateOrder places orders of 1 to 3 lines from parallel
// goroutines, as checkout does during a sale, and reports orders per second
// for each synchronous mode.
//
// The keyed variants claim an idempotency key before each order and
// complete it with a stored response of 1 KB in the order, as keyed
// checkout does.
func BenchmarkCreateOrder(b *testing.B) {
	for _, bc := range []struct {
		sync  string
		keyed bool
	}{{SyncFull, false}, {SyncFull, true}, {SyncNormal, false}, {SyncNormal, true}} {
		name := bc.sync
		if bc.keyed {
			name += "/keyed"
		}
		sync := bc.sync
		b.Run(name, func(b *testing.B) {
			db := openTest(b, filepath.Join(b.TempDir(), "souq.db"), Options{Synchronous: sync})
			products := make([]souq.Product, 3)
			for i := range products {
				products[i] = souq.Product{
					ID: souq.ID(fmt.Sprintf("prd_bench%d", i)), SKU: fmt.Sprintf("BENCH-%d", i), Slug: fmt.Sprintf("bench-%d", i),
					Brand: "Bench", Category: "skincare", Name: souq.Localized{EN: "Bench", AR: "مقعد"},
					Prices: map[souq.MarketCode]int64{souq.AE: 5000}, Stock: 1_000_000_000,
				}
				if err := db.CreateProduct(b.Context(), products[i], "bench"); err != nil {
					b.Fatal(err)
				}
			}
			var seq atomic.Int64
			b.SetParallelism(16) // concurrent shoppers, not just one per CPU
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					o := benchOrder(n, products[:1+n%3])
					ev, err := souq.NewOrderEvent(souq.EventOrderCompleted, o, o.CreatedAt)
					if err != nil {
						b.Error(err)
						return
					}
					var done *checkout.KeyResult
					if bc.keyed {
						key, now := string(o.ID), time.Now().UTC()
						if _, err := db.ClaimKey(b.Context(), key, "hash", "bench", now, now.Add(-time.Hour)); err != nil {
							b.Error(err)
							return
						}
						done = &checkout.KeyResult{Key: key, ClaimedAt: now, Status: 201, Body: response}
					}
					if err := db.CreateOrder(b.Context(), o, ev, done); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
		})
	}
}

// response stands for a stored order response.
var response = []byte(`{"id":"ord_x","body":"` + strings.Repeat("x", 1000) + `"}`)

// benchOrder returns order number n with one unit of each product.
func benchOrder(n int64, products []souq.Product) souq.Order {
	now := time.Now().UTC()
	o := souq.Order{
		ID: souq.ID(fmt.Sprintf("ord_bench%012d", n)), Status: souq.StatusPlaced, Market: souq.AE, Currency: souq.AED,
		Customer:        souq.Customer{Name: "Bench", Email: "bench@example.ae", Phone: "+971500000000"},
		ShippingAddress: souq.Address{Line1: "1 Street", Area: "Deira", City: "Dubai", Country: souq.AE},
		Payment:         souq.Payment{Method: souq.PayCashOnDelivery},
		CreatedAt:       now, UpdatedAt: now,
	}
	for _, p := range products {
		l := souq.OrderLine{ProductID: p.ID, SKU: p.SKU, Name: p.Name, Brand: p.Brand, Category: p.Category,
			Quantity: 1, UnitPrice: 5000, LineTotal: 5000, VAT: 238, VATBasisPoints: 500}
		o.Lines = append(o.Lines, l)
		o.Total += l.LineTotal
		o.VAT += l.VAT
	}
	return o
}

// BenchmarkLowStock reads the 50 lowest stocks at most 10 of catalogues of
// 10,000 and 50,000 products, 1 in 100 of them low, as the dashboard's
// stock panel does. There is no index on stock: the read scans the
// products.
func BenchmarkLowStock(b *testing.B) {
	for _, n := range []int{10_000, 50_000} {
		b.Run(fmt.Sprintf("products=%d", n), func(b *testing.B) {
			db := openTest(b, filepath.Join(b.TempDir(), "souq.db"), Options{Synchronous: SyncNormal})
			storetest.BenchLowStock(b, db, n, 1000, nil)
		})
	}
}

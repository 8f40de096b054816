package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// LowStockStore is what BenchLowStock needs of a store.
type LowStockStore interface {
	CreateProducts(ctx context.Context, ps []catalog.NewProduct) error
	LowStock(ctx context.Context, atMost, limit int) ([]catalog.StockLevel, error)
}

// BenchLowStock fills s with n products of the low-stock catalogue,
// chunk at a time, runs prepare (when not nil: statistics a planner
// needs), then measures LowStock(10, 50), the dashboard's stock panel's
// read, which must find 50.
func BenchLowStock(b *testing.B, s LowStockStore, n, chunk int, prepare func() error) {
	for from := 0; from < n; from += chunk {
		if err := s.CreateProducts(b.Context(), LowStockProducts(from, min(n, from+chunk))); err != nil {
			b.Fatal(err)
		}
	}
	if prepare != nil {
		if err := prepare(); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		got, err := s.LowStock(b.Context(), 10, 50)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != 50 {
			b.Fatalf("LowStock(10, 50): got %d products, want 50", len(got))
		}
	}
}

// LowStockProducts returns products from to to−1 of the low-stock
// benchmark's catalogue: stock 20 to 519, except 1 product in 100, whose
// stock is 0 to 10 (low at the dashboard's default threshold).
func LowStockProducts(from, to int) []catalog.NewProduct {
	ps := make([]catalog.NewProduct, 0, to-from)
	for i := from; i < to; i++ {
		stock := 20 + i%500
		if i%100 == 0 {
			stock = i % 11
		}
		ps = append(ps, catalog.NewProduct{SearchText: "bench", Product: souq.Product{
			ID: souq.ID(fmt.Sprintf("prd_low%06d", i)), SKU: fmt.Sprintf("LOW-%d", i), Slug: fmt.Sprintf("low-%d", i),
			Brand: "Bench", Category: "skincare", Name: souq.Localized{EN: "Bench", AR: "مقعد"},
			Prices: map[souq.MarketCode]int64{souq.AE: 5000}, Stock: stock,
		}})
	}
	return ps
}

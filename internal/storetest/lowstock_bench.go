package storetest

import (
	"fmt"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

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

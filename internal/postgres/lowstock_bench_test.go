package postgres

import (
	"fmt"
	"testing"

	"github.com/souq-commerce/souq/internal/postgres/pgtest"
	"github.com/souq-commerce/souq/internal/storetest"
)

// BenchmarkLowStock reads the 50 lowest stocks at most 10 of catalogues of
// 10,000 and 50,000 products, 1 in 100 of them low, as the dashboard's
// stock panel does. There is no index on stock (see LowStock): the read
// scans the products.
func BenchmarkLowStock(b *testing.B) {
	for _, n := range []int{10_000, 50_000} {
		b.Run(fmt.Sprintf("products=%d", n), func(b *testing.B) {
			db, err := Open(b.Context(), pgtest.Schema(b), Options{MaxConns: 4})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(db.Close)
			// Small chunks: CreateProducts' duplicate check of 1,000 products
			// against tens of thousands runs into the statement timeout.
			storetest.BenchLowStock(b, db, n, 100, func() error {
				_, err := db.pool.Exec(b.Context(), `ANALYZE products`)
				return err
			})
		})
	}
}

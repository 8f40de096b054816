package sqlite

import (
	"os"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

func TestProbeBig(t *testing.T) {
	path := os.Getenv("PROBE_DB")
	if path == "" {
		t.Skip()
	}
	start := time.Now()
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t.Logf("open+migrate %s", time.Since(start))
	qs := []catalog.Query{
		{Market: "AE", Limit: 20},
		{Market: "AE", Limit: 20, Offset: 2400},
		{Market: "AE", Limit: 20, Sort: catalog.SortPriceAsc},
		{Market: "AE", Limit: 20, Sort: catalog.SortName},
		{Market: "AE", Limit: 20, Category: "skincare"},
		{Market: "AE", Limit: 20, Brand: "COSRX", Sort: catalog.SortPriceAsc},
		{Market: "AE", Limit: 20, Terms: []string{"snail"}},
		{Market: "AE", Limit: 20, Terms: []string{"serum"}},
		{Market: "AE", Limit: 20, Terms: []string{"serum"}, Sort: catalog.SortPriceAsc},
		{Market: "AE", Limit: 20, Terms: []string{"rose", "17"}},
		{Market: "AE", Limit: 20, Terms: []string{"سيروم"}},
		{Market: "AE", Limit: 20, Terms: []string{"serum"}, Category: "makeup"},
	}
	for _, q := range qs {
		for range 2 {
			start := time.Now()
			ps, err := db.ListProducts(t.Context(), q)
			d1 := time.Since(start)
			n, err2 := db.CountProducts(t.Context(), q, 1001)
			t.Logf("%v %v %v %v: %d items, count %d, err %v %v, list %s count %s", q.Terms, q.Sort, q.Category, q.Offset, len(ps), n, err, err2, d1, time.Since(start)-d1)
		}
	}
	start = time.Now()
	f, err := db.ProductCounts(t.Context(), souq.AE)
	t.Logf("counts %d %v %s", len(f), err, time.Since(start))
}

package storetest

import (
	"fmt"
	"testing"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// testLowStock checks LowStock's filter, order (stock, then id), limit,
// and that it reads the stock as it is now.
func testLowStock(t *testing.T, s Store) {
	stocks := map[string]int{"prd_a": 3, "prd_b": 0, "prd_c": 3, "prd_d": 7, "prd_e": 5, "prd_f": 100}
	for id, n := range stocks {
		p := newProduct(id, "LOW-"+id[len(id)-1:])
		p.Stock = n
		createProducts(t, s, p)
	}
	lvl := func(id string, n int) catalog.StockLevel { return catalog.StockLevel{ProductID: souq.ID(id), Stock: n} }
	for _, tt := range []struct {
		atMost, limit int
		want          []catalog.StockLevel
	}{
		{5, 10, []catalog.StockLevel{lvl("prd_b", 0), lvl("prd_a", 3), lvl("prd_c", 3), lvl("prd_e", 5)}},
		{5, 2, []catalog.StockLevel{lvl("prd_b", 0), lvl("prd_a", 3)}},
		{3, 10, []catalog.StockLevel{lvl("prd_b", 0), lvl("prd_a", 3), lvl("prd_c", 3)}},
		{0, 10, []catalog.StockLevel{lvl("prd_b", 0)}},
		{1000, 10, []catalog.StockLevel{lvl("prd_b", 0), lvl("prd_a", 3), lvl("prd_c", 3), lvl("prd_e", 5), lvl("prd_d", 7), lvl("prd_f", 100)}},
	} {
		t.Run(fmt.Sprintf("atMost=%d,limit=%d", tt.atMost, tt.limit), func(t *testing.T) {
			got, err := s.LowStock(t.Context(), tt.atMost, tt.limit)
			must(t, "LowStock", err)
			checkDiff(t, "LowStock", got, tt.want)
		})
	}

	// None low: an empty list, not nil.
	must(t, "SetStock(prd_b)", s.SetStock(t.Context(), "prd_b", 40, t0))
	must(t, "SetStock(prd_a)", s.SetStock(t.Context(), "prd_a", 40, t0))
	must(t, "SetStock(prd_c)", s.SetStock(t.Context(), "prd_c", 40, t0))
	got, err := s.LowStock(t.Context(), 2, 10)
	must(t, "LowStock after restock", err)
	if got == nil || len(got) != 0 {
		t.Errorf("LowStock(2, 10) after restock: got %#v, want an empty list", got)
	}

	// A product sold down shows at once.
	must(t, "SetStock(prd_f)", s.SetStock(t.Context(), "prd_f", 1, t0))
	got, err = s.LowStock(t.Context(), 5, 10)
	must(t, "LowStock after a stock change", err)
	checkDiff(t, "LowStock after a stock change", got, []catalog.StockLevel{lvl("prd_f", 1), lvl("prd_e", 5)})
}

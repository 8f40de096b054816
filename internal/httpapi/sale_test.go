package httpapi

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/souq"
)

// TestConcurrentSalesDoNotOverlap schedules overlapping sales at once:
// exactly one is scheduled, every other answers 409, and one sale is
// stored. The check and the write are one transaction in the store.
func TestConcurrentSalesDoNotOverlap(t *testing.T) {
	f := newFixture(t)
	p := f.product(10, 8900)
	start := f.clock().Add(time.Hour)
	const n = 20
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ready
			from := start.Add(time.Duration(i) * time.Minute) // every pair overlaps
			status, _ := f.admin("POST", "/api/v1/admin/sales", map[string]any{
				"name": map[string]any{"en": "Flash", "ar": "تخفيضات"}, "starts_at": from, "ends_at": from.Add(time.Hour),
				"items": []any{map[string]any{"product_id": p.ID, "discount_percent": 20}},
			})
			statuses <- status
		}()
	}
	close(ready)
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[201] != 1 || count[409] != n-1 {
		t.Errorf("statuses: got %v, want one 201 and %d × 409", count, n-1)
	}
	sales, err := f.db.SalesEndingAfter(t.Context(), f.clock())
	if err != nil {
		t.Fatal(err)
	}
	if len(sales) != 1 {
		t.Errorf("sales stored: got %d, want 1", len(sales))
	}
}

// TestCurrentSaleProducts: the sale's products with their sale price,
// saving, discount and sell-through (from the units the sale offered and
// the live stock), in stock first, narrowed by category; 404 without a sale.
func TestCurrentSaleProducts(t *testing.T) {
	f := newFixture(t)
	if status, _, _ := f.do("GET", "/api/v1/sales/current/products", nil); status != 404 {
		t.Errorf("without a sale: got %d, want 404", status)
	}
	a := f.product(10, 10000) // offered with its stock: 10 units
	b := f.product(5, 8900)   // offered with 20 units, 5 of them left
	c := f.product(0, 5000)   // sold out
	start := f.clock().Add(time.Hour)
	status, body := f.admin("POST", "/api/v1/admin/sales", map[string]any{
		"name": map[string]any{"en": "Flash", "ar": "تخفيضات"}, "starts_at": start, "ends_at": start.Add(time.Hour),
		"items": []any{
			map[string]any{"product_id": a.ID, "discount_percent": 30},
			map[string]any{"product_id": b.ID, "discount_percent": 10, "units": 20},
			map[string]any{"product_id": c.ID, "discount_percent": 50},
		},
	})
	if status != 201 {
		t.Fatalf("schedule sale: got %d %s", status, body)
	}
	if status, body := f.admin("POST", "/api/v1/admin/sales", map[string]any{
		"name": map[string]any{"en": "Bad", "ar": "سيئ"}, "starts_at": start.Add(2 * time.Hour), "ends_at": start.Add(3 * time.Hour),
		"items": []any{map[string]any{"product_id": a.ID, "discount_percent": 10, "units": -1}},
	}); status != 422 || !strings.Contains(string(body), "items[0].units") {
		t.Errorf("negative units: got %d %s, want 422 naming items[0].units", status, body)
	}
	type saleItem struct {
		ID              souq.ID                `json:"id"`
		SalePrice       struct{ Amount int64 } `json:"sale_price"`
		Saving          struct{ Amount int64 }
		DiscountPercent int  `json:"discount_percent"`
		Units           *int `json:"units"`
		SoldPercent     *int `json:"sold_percent"`
		OnSale          bool `json:"on_sale"`
		InStock         bool `json:"in_stock"`
	}
	type page struct {
		MaxDiscount int        `json:"max_discount_percent"`
		Items       []saleItem `json:"items"`
	}
	get := func(query string) page {
		t.Helper()
		status, _, body := f.do("GET", "/api/v1/sales/current/products"+query, nil)
		if status != 200 {
			t.Fatalf("GET %s: got %d %s", query, status, body)
		}
		return decodeJSON[page](t, body)
	}
	ptr := func(n int) *int { return &n }
	// Before the start: the coming prices, nothing sold yet, not on sale.
	got := get("?market=AE")
	want := page{MaxDiscount: 50, Items: []saleItem{
		{ID: a.ID, DiscountPercent: 30, Units: ptr(10), SoldPercent: ptr(0), InStock: true},
		{ID: b.ID, DiscountPercent: 10, Units: ptr(20), SoldPercent: ptr(0), InStock: true},
		{ID: c.ID, DiscountPercent: 50, SoldPercent: ptr(0)}, // sold out: last; no units offered
	}}
	want.Items[0].SalePrice.Amount, want.Items[0].Saving.Amount = 7000, 3000
	want.Items[1].SalePrice.Amount, want.Items[1].Saving.Amount = 8000, 900
	want.Items[2].SalePrice.Amount, want.Items[2].Saving.Amount = 2500, 2500
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("before the start (-want +got):\n%s", diff)
	}
	f.advance(90 * time.Minute)
	for range 3 {
		if status, _, body := f.do("POST", "/api/v1/orders", orderBody(item(a.ID, 1))); status != 201 {
			t.Fatalf("order: got %d %s", status, body)
		}
	}
	// During the sale: 3 of a's 10 units sold; b's 5 left of 20 offered.
	// The stock shown may lag up to a second behind the orders.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got = get("?market=AE")
		if *got.Items[0].SoldPercent == 30 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if it := got.Items[0]; it.ID != a.ID || !it.OnSale || *it.SoldPercent != 30 {
		t.Errorf("a during the sale: got %+v, want on sale, 30%% sold", it)
	}
	if it := got.Items[1]; it.ID != b.ID || *it.SoldPercent != 75 {
		t.Errorf("b during the sale: got %+v, want 75%% sold", it)
	}
	if got := get("?market=AE&category=makeup"); len(got.Items) != 0 {
		t.Errorf("category makeup: got %d items, want 0", len(got.Items))
	}
	if got := get("?market=AE&category=skincare&brand=cosrx"); len(got.Items) != 3 {
		t.Errorf("category skincare, brand cosrx: got %d items, want 3", len(got.Items))
	}
	if status, _, _ := f.do("GET", "/api/v1/sales/current/products?market=XX", nil); status != 400 {
		t.Errorf("unknown market: got %d, want 400", status)
	}
}

// TestListingSaleFilter: ?sale=true lists only the products on sale now,
// with the other filters and sorts, paged by page; a cursor or a bad value
// is a 400.
func TestListingSaleFilter(t *testing.T) {
	f := newFixture(t)
	a, b := f.product(10, 10000), f.product(10, 8900)
	f.product(10, 5000) // not in the sale
	start := f.clock().Add(time.Hour)
	if status, body := f.admin("POST", "/api/v1/admin/sales", map[string]any{
		"name": map[string]any{"en": "Flash", "ar": "تخفيضات"}, "starts_at": start, "ends_at": start.Add(time.Hour),
		"items": []any{map[string]any{"product_id": a.ID, "discount_percent": 30}, map[string]any{"product_id": b.ID, "discount_percent": 10}},
	}); status != 201 {
		t.Fatalf("schedule sale: got %d %s", status, body)
	}
	ids := func(query string) []souq.ID {
		t.Helper()
		status, _, body := f.do("GET", "/api/v1/products"+query, nil)
		if status != 200 {
			t.Fatalf("GET %s: got %d %s", query, status, body)
		}
		var out []souq.ID
		for _, p := range decodeJSON[struct{ Items []struct{ ID souq.ID } }](t, body).Items {
			out = append(out, p.ID)
		}
		return out
	}
	if got := ids("?sale=true"); len(got) != 0 {
		t.Errorf("before the sale starts: got %v, want none on sale", got)
	}
	f.advance(90 * time.Minute)
	tests := []struct {
		query string
		want  []souq.ID
	}{
		{"?sale=true", []souq.ID{a.ID, b.ID}},                 // largest discount first
		{"?sale=true&sort=price_asc", []souq.ID{a.ID, b.ID}},  // 70.00 then 80.00
		{"?sale=true&sort=price_desc", []souq.ID{b.ID, a.ID}}, //
		{"?sale=true&q=essence&page_size=1&page=2", []souq.ID{b.ID}},
		{"?sale=true&brand=Nobody", nil},
	}
	for _, tt := range tests {
		if got := ids(tt.query); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.query, got, tt.want)
		}
	}
	if got := ids("?sale=false&page_size=100"); len(got) < 3 {
		t.Errorf("?sale=false: got %d products, want every product", len(got))
	}
	for _, q := range []string{"?sale=maybe", "?sale=true&cursor=abc"} {
		if status, _, body := f.do("GET", "/api/v1/products"+q, nil); status != 400 {
			t.Errorf("%s: got %d %s, want 400", q, status, body)
		}
	}
}

package httpapi

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

type pageResponse struct {
	Items      []productResponse `json:"items"`
	Total      int               `json:"total"`
	TotalExact bool              `json:"total_exact"`
	Page       int               `json:"page"`
	NextCursor *string           `json:"next_cursor"`
}

func (f *fixture) list(t *testing.T, query string) pageResponse {
	t.Helper()
	status, _, body := f.do("GET", "/api/v1/products?"+query, nil)
	if status != 200 {
		t.Fatalf("GET /api/v1/products?%s: got %d %s", query, status, body)
	}
	return decodeJSON[pageResponse](t, body)
}

func skus(items []productResponse) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.SKU
	}
	return out
}

// TestListingByCursor follows next_cursor through a listing in every sort
// and gets the same products as one page holding them all.
func TestListingByCursor(t *testing.T) {
	f := newFixture(t)
	for i := range 23 {
		f.product(5, int64(1000+(i%6)*100)) // prices tie in groups
	}
	for _, sort := range []string{"", "newest", "name", "price_asc", "price_desc"} {
		t.Run("sort="+sort, func(t *testing.T) {
			all := f.list(t, "market=AE&page_size=100&sort="+sort)
			if len(all.Items) != 23 || all.Total != 23 || !all.TotalExact || all.NextCursor != nil {
				t.Fatalf("one page: got %d items, total %d (exact %t), next %v; want 23, 23, exact, none",
					len(all.Items), all.Total, all.TotalExact, all.NextCursor)
			}
			var got []string
			query := "market=AE&page_size=5&sort=" + sort
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("cursor paging did not end")
				}
				page := f.list(t, query)
				got = append(got, skus(page.Items)...)
				if page.NextCursor == nil {
					break
				}
				query = "market=AE&page_size=5&sort=" + sort + "&cursor=" + url.QueryEscape(*page.NextCursor)
			}
			if want := skus(all.Items); !slices.Equal(got, want) {
				t.Errorf("by cursor: got %v, want %v", got, want)
			}
		})
	}
}

func TestListingRefusesBadPaging(t *testing.T) {
	f := newFixture(t)
	f.product(5, 1000)
	f.product(5, 1000)
	first := f.list(t, "market=AE&page_size=1&sort=name")
	if first.NextCursor == nil {
		t.Fatal("first of two pages has no next_cursor")
	}
	cursor := url.QueryEscape(*first.NextCursor)
	tests := []struct {
		query, field, detail string
	}{
		{"page=101&page_size=24", "page", "cursor"},
		{"page=25&page_size=100", "page", "2400"},
		{"cursor=not-a-cursor", "cursor", "next_cursor"},
		{"cursor=" + cursor, "cursor", "keep the sort"}, // made for sort=name
		{"cursor=" + cursor + "&sort=name&page=2", "cursor", "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			status, hdr, body := f.do("GET", "/api/v1/products?market=AE&"+tt.query, nil)
			p := wantProblem(t, status, hdr, body, 400)
			if len(p.InvalidParams) != 1 || p.InvalidParams[0].Field != tt.field || !strings.Contains(p.InvalidParams[0].Reason, tt.detail) {
				t.Errorf("invalid_params: got %+v, want %s saying %q", p.InvalidParams, tt.field, tt.detail)
			}
		})
	}
	// The deepest page by number is still served.
	if page := f.list(t, "market=AE&page=100&page_size=24"); len(page.Items) != 0 || page.Total != 2 {
		t.Errorf("page 100: got %d items, total %d; want 0, 2", len(page.Items), page.Total)
	}
}

// TestListingSeesChanges checks the listing cache: changes made through
// the catalog show at once, stock sold by orders within the cache's life.
func TestListingSeesChanges(t *testing.T) {
	f := newFixture(t)
	p := f.product(10, 1000)
	if got := f.list(t, "market=AE").Items; len(got) != 1 || got[0].Stock != 10 {
		t.Fatalf("listing: got %+v, want the product with 10 in stock", got)
	}
	if status, body := f.admin("PUT", "/api/v1/admin/products/"+string(p.ID)+"/stock", map[string]any{"quantity": 7}); status != 200 {
		t.Fatalf("set stock: %d %s", status, body)
	}
	if got := f.list(t, "market=AE").Items[0].Stock; got != 7 {
		t.Errorf("stock right after it was set: got %d, want 7", got)
	}
	q := f.product(10, 500) // a new product is listed and counted at once
	if got := f.list(t, "market=AE&sort=price_asc"); got.Total != 2 || got.Items[0].ID != string(q.ID) {
		t.Errorf("after a new product: got total %d, first %s; want 2, %s", got.Total, got.Items[0].ID, q.ID)
	}
	if status, _, body := f.do("POST", "/api/v1/orders", orderBody(item(p.ID, 2))); status != 201 {
		t.Fatalf("order: %d %s", status, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.list(t, "market=AE&sort=price_asc").Items[1].Stock != 5 {
		if time.Now().After(deadline) {
			t.Fatal("the listing did not show the stock sold by an order within 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSearchTotalIsBounded checks that a search matching more than
// catalog.SearchCountCap products says so instead of counting them all,
// and still pages through every one of them.
func TestSearchTotalIsBounded(t *testing.T) {
	f := newFixture(t)
	n := catalog.SearchCountCap + 50
	ins := make([]catalog.ProductInput, n)
	for i := range ins {
		ins[i] = catalog.ProductInput{SKU: fmt.Sprintf("BULK-%05d", i), Slug: fmt.Sprintf("bulk-%d", i), Brand: "COSRX",
			Category: "skincare", Name: souq.Localized{EN: fmt.Sprintf("Glow Serum %d", i), AR: fmt.Sprintf("سيروم %d", i)},
			Prices: map[souq.MarketCode]int64{souq.AE: 1000}}
	}
	if _, err := f.catalog.CreateMany(context.Background(), ins); err != nil {
		t.Fatal(err)
	}
	page := f.list(t, "market=AE&q=serum&page_size=100")
	if page.TotalExact || page.Total != catalog.SearchCountCap {
		t.Errorf("broad search: got total %d (exact %t), want %d, not exact", page.Total, page.TotalExact, catalog.SearchCountCap)
	}
	narrow := f.list(t, "market=AE&q=serum+1049")
	if !narrow.TotalExact || narrow.Total != 1 || len(narrow.Items) != 1 {
		t.Errorf("narrow search: got total %d (exact %t) with %d items, want exactly 1", narrow.Total, narrow.TotalExact, len(narrow.Items))
	}
	seen := len(page.Items)
	for page.NextCursor != nil {
		page = f.list(t, "market=AE&q=serum&page_size=100&cursor="+url.QueryEscape(*page.NextCursor))
		seen += len(page.Items)
	}
	if seen != n {
		t.Errorf("paged through %d matches, want %d", seen, n)
	}
}

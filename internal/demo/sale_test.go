package demo

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// Seed is not tested here: it needs a catalog.Store, and a test against the
// real SQLite adapter is added with the adapter.

// demoProducts turns Products() into stored products with fixed ids.
func demoProducts() []souq.Product {
	var out []souq.Product
	for i, in := range Products() {
		out = append(out, souq.Product{
			ID: souq.ID(fmt.Sprintf("prd_%020d", i)), SKU: in.SKU, Slug: in.Slug, Brand: in.Brand,
			Category: in.Category, Name: in.Name, Prices: in.Prices, Stock: *in.Stock,
		})
	}
	return out
}

func TestFlashSale(t *testing.T) {
	now := time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)
	products := demoProducts()
	in := FlashSale(now, products)

	if want := time.Date(2026, 3, 1, 18, 2, 0, 0, time.UTC); !in.StartsAt.Equal(want) {
		t.Errorf("StartsAt: got %v, want %v", in.StartsAt, want)
	}
	if want := time.Date(2026, 3, 1, 19, 2, 0, 0, time.UTC); !in.EndsAt.Equal(want) {
		t.Errorf("EndsAt: got %v, want %v", in.EndsAt, want)
	}
	if hasArabic(in.Name.EN) || !hasArabic(in.Name.AR) {
		t.Errorf("Name %+v: want English without Arabic letters and Arabic with them", in.Name)
	}

	inStock := 0
	byID := map[souq.ID]souq.Product{}
	for _, p := range products {
		byID[p.ID] = p
		if p.Stock > 0 {
			inStock++
		}
	}
	if got, want := len(in.Items), (inStock+SaleEvery-1)/SaleEvery; got != want {
		t.Errorf("len(Items): got %d, want %d (every %dth of %d in-stock products)", got, want, SaleEvery, inStock)
	}
	if got := len(in.Items); got < 25 || got > 40 {
		t.Errorf("len(Items): got %d, want about 30", got)
	}
	seen := map[souq.ID]bool{}
	for _, item := range in.Items {
		p, ok := byID[item.ProductID]
		switch {
		case !ok:
			t.Errorf("item %s: got an unknown product", item.ProductID)
			continue
		case seen[item.ProductID]:
			t.Errorf("item %s: got it twice, want each product once", p.SKU)
		case p.Stock == 0:
			t.Errorf("item %s: got an out-of-stock product, want only products in stock", p.SKU)
		case item.DiscountPercent < 20 || item.DiscountPercent > 50:
			t.Errorf("item %s discount: got %d%%, want 20–50%%", p.SKU, item.DiscountPercent)
		case len(item.Prices) != 0:
			t.Errorf("item %s: got explicit prices %v, want a discount only", p.SKU, item.Prices)
		}
		seen[item.ProductID] = true
		for code, regular := range p.Prices {
			cur := souq.MustMarket(code).Currency
			if sale := catalog.DiscountedPrice(regular, item.DiscountPercent, cur); sale >= regular {
				t.Errorf("item %s in %s: got sale price %d, want below regular %d", p.SKU, code, sale, regular)
			}
		}
	}
}

func TestFlashSaleIgnoresListingOrder(t *testing.T) {
	now := time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)
	products := demoProducts()
	want := FlashSale(now, products)
	slices.Reverse(products)
	got := FlashSale(now, products)
	same := func(a, b catalog.SaleItem) bool {
		return a.ProductID == b.ProductID && a.DiscountPercent == b.DiscountPercent && len(a.Prices) == 0 && len(b.Prices) == 0
	}
	if !slices.EqualFunc(got.Items, want.Items, same) {
		t.Errorf("FlashSale over reversed products: got %d items %v, want the same as in table order %v", len(got.Items), got.Items, want.Items)
	}
}

func TestFlashSaleEmpty(t *testing.T) {
	if got := FlashSale(time.Now(), nil).Items; len(got) != 0 {
		t.Errorf("FlashSale(nil).Items: got %v, want none", got)
	}
}

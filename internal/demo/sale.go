package demo

import (
	"cmp"
	"slices"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// The demo flash sale's shape.
const (
	// SaleDelay is how long after seeding the flash sale starts, so a demo
	// shows the "starts soon" banner first.
	SaleDelay = 2 * time.Minute
	// SaleDuration is how long the flash sale runs.
	SaleDuration = time.Hour
	// SaleEvery picks every SaleEvery-th in-stock product, by SKU, for the
	// sale: about 30 of the demo catalogue's products.
	SaleEvery = 6
)

// SaleName is the flash sale's name for shoppers.
var SaleName = souq.Localized{EN: "Glass Skin Flash Sale", AR: "تخفيضات البشرة الزجاجية الخاطفة"}

// saleDiscounts are the discounts, in percent, handed out in turn to the
// products of the sale.
var saleDiscounts = []int{30, 20, 40, 25, 50, 35}

// FlashSale returns the demo flash sale over products, protected by the
// waiting room: it starts SaleDelay
// after now and runs for SaleDuration; it lists every SaleEvery-th product
// that is in stock, ordered by SKU (so the choice does not depend on the
// order products are listed in), each at a discount of 20 to 50 percent.
func FlashSale(now time.Time, products []souq.Product) catalog.SaleInput {
	inStock := make([]souq.Product, 0, len(products))
	for _, p := range products {
		if p.Stock > 0 {
			inStock = append(inStock, p)
		}
	}
	slices.SortFunc(inStock, func(a, b souq.Product) int {
		return cmp.Or(cmp.Compare(a.SKU, b.SKU), cmp.Compare(a.ID, b.ID))
	})
	start := now.Add(SaleDelay)
	in := catalog.SaleInput{Name: SaleName, StartsAt: start, EndsAt: start.Add(SaleDuration), Protected: true}
	for i := 0; i < len(inStock); i += SaleEvery {
		in.Items = append(in.Items, catalog.SaleItem{
			ProductID:       inStock[i].ID,
			DiscountPercent: saleDiscounts[len(in.Items)%len(saleDiscounts)],
		})
	}
	return in
}

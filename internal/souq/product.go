package souq

import "time"

// Product is an item for sale. Prices are VAT-inclusive shelf prices in
// minor units of each market's currency; a product without a price for a
// market is not sold there.
type Product struct {
	ID          ID                   `json:"id"`
	SKU         string               `json:"sku"`
	Slug        string               `json:"slug"`
	Brand       string               `json:"brand"`
	Category    string               `json:"category"`
	Name        Localized            `json:"name"`
	Description Localized            `json:"description"`
	Image       string               `json:"image"`
	Images      []Image              `json:"images"`
	Prices      map[MarketCode]int64 `json:"prices"`
	Stock       int                  `json:"stock"`
	CreatedAt   time.Time            `json:"created_at"`
	UpdatedAt   time.Time            `json:"updated_at"`
}

// Image is an uploaded product photo, stored as JPEG renditions of
// several widths under Key (package media names them Key-{width}.jpg).
type Image struct {
	Key    string `json:"key"`    // e.g. "products/prd_…/3f9a…": content-addressed
	Width  int    `json:"width"`  // of the largest rendition, in pixels
	Height int    `json:"height"` //
	Widths []int  `json:"widths"` // the renditions' widths, ascending
}

// Price returns the product's regular VAT-inclusive price in a market and
// whether it is sold there.
func (p Product) Price(m Market) (Money, bool) {
	amount, ok := p.Prices[m.Code]
	return M(amount, m.Currency), ok
}

// Sale is a flash sale: between StartsAt (inclusive) and EndsAt (exclusive),
// by server time, the listed products sell at the sale prices.
type Sale struct {
	ID       ID        `json:"id"`
	Name     Localized `json:"name"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	// Prices holds the VAT-inclusive sale price per product and market.
	Prices map[ID]map[MarketCode]int64 `json:"prices"`
	// Units holds the units each product is offered with in the sale (the
	// stock it started from), for its sell-through ("70% sold"); nil in
	// a sale stored before units were recorded.
	Units map[ID]int `json:"units,omitempty"`
	// Protected puts checkout behind the waiting room while the sale runs:
	// shoppers queue and are admitted at the rate checkout can serve
	// (package waitroom).
	Protected bool      `json:"protected"`
	CreatedAt time.Time `json:"created_at"`
}

// SaleUnits gathers the units of several sales as a store reads them, row
// by row: sale → product → units.
type SaleUnits map[ID]map[ID]int

// Add records product's units in sale.
func (u SaleUnits) Add(sale, product ID, n int) {
	if u[sale] == nil {
		u[sale] = map[ID]int{}
	}
	u[sale][product] = n
}

// Fill sets each sale's Units (nil for a sale with none recorded).
func (u SaleUnits) Fill(sales []Sale) {
	for i := range sales {
		sales[i].Units = u[sales[i].ID]
	}
}

// ActiveAt reports whether the sale is running at t.
func (s Sale) ActiveAt(t time.Time) bool {
	return !t.Before(s.StartsAt) && t.Before(s.EndsAt)
}

// Cart is a shopper's basket in one market. Its ID is a capability.
type Cart struct {
	ID        ID         `json:"id"`
	Market    MarketCode `json:"market"`
	Items     []CartItem `json:"items"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// CartItem is a quantity of one product in a cart.
type CartItem struct {
	ProductID ID  `json:"product_id"`
	Quantity  int `json:"quantity"`
}

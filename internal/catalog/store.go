// Package catalog owns products, prices, stock levels as the shop shows them,
// search, and flash sales: which products exist, what they cost in each
// market at a given moment, and how shoppers find them.
package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Store is the persistence the catalog needs. Implementations: sqlite (and
// the PostgreSQL adapter); storetest holds the contract suite both pass.
type Store interface {
	// ListProducts returns one page of the products matching q, in q.Sort
	// order, from q.After when it is set, else from q.Offset. Its cost
	// follows the page (and, for a deep offset, the offset), not the
	// catalogue: see the adapter's documentation for how.
	ListProducts(ctx context.Context, q Query) ([]souq.Product, error)
	// CountProducts counts the products matching q (its sort and paging
	// aside), up to limit: it returns min(count, limit), and the count
	// itself when limit is 0 or less. With search terms its cost follows
	// limit rather than the catalogue.
	CountProducts(ctx context.Context, q Query, limit int) (int, error)
	// ProductCounts counts products per category and brand pair; with
	// market set, only products priced in that market. Facets and the
	// totals of listings without search terms are sums of these.
	ProductCounts(ctx context.Context, market souq.MarketCode) ([]GroupCount, error)
	// Product returns a product by id; ErrNotFound if there is none.
	Product(ctx context.Context, id souq.ID) (souq.Product, error)
	// ProductBySlug returns a product by slug; ErrNotFound if there is none.
	ProductBySlug(ctx context.Context, slug string) (souq.Product, error)
	// CreateProduct stores a new product with its search text. A duplicate
	// id, SKU or slug is an ErrConflict.
	CreateProduct(ctx context.Context, p souq.Product, searchText string) error
	// CreateProducts stores new products in one transaction: all of them
	// or, on a duplicate id, SKU or slug (an ErrConflict), none.
	CreateProducts(ctx context.Context, ps []NewProduct) error
	// UpdateProduct replaces every field of an existing product except its
	// stock and creation time; ErrNotFound if there is none, ErrConflict on
	// a duplicate SKU or slug.
	UpdateProduct(ctx context.Context, p souq.Product, searchText string) error
	// Stocks returns the stock levels of the products with the given ids
	// that exist (one query, however many ids).
	Stocks(ctx context.Context, ids []souq.ID) (map[souq.ID]int, error)
	// ProductsByID returns the products with the given ids that exist,
	// with their prices, in id order (one query, however many ids).
	ProductsByID(ctx context.Context, ids []souq.ID) ([]souq.Product, error)
	// SetProductImages replaces a product's images (none: nil or empty);
	// ErrNotFound if there is no such product. UpdateProduct leaves them.
	SetProductImages(ctx context.Context, id souq.ID, images []souq.Image, at time.Time) error
	// AddProductImage appends img to a product's images in one
	// transaction (concurrent additions all land) unless an image with its
	// key is there already, and returns the images. ErrNotFound if there is
	// no such product; ErrConflict, with nothing written, when it has limit
	// images already.
	AddProductImage(ctx context.Context, id souq.ID, img souq.Image, limit int, at time.Time) ([]souq.Image, error)
	// LowStock returns up to limit products (limit > 0) whose stock is at
	// most atMost, by stock then id, ascending.
	LowStock(ctx context.Context, atMost, limit int) ([]StockLevel, error)
	// SetStock sets a product's stock level; ErrNotFound if there is none.
	SetStock(ctx context.Context, id souq.ID, quantity int, at time.Time) error
	// CreateSale stores a sale with its prices, unless it overlaps in time
	// a sale already stored: then nothing is written and the error is a
	// *SaleOverlapError naming that sale. The check and the write are one
	// transaction, so sales created at once cannot overlap either.
	CreateSale(ctx context.Context, s souq.Sale) error
	// SalesEndingAfter returns the sales whose end is after t (running or
	// scheduled), ordered by start time, with their prices.
	SalesEndingAfter(ctx context.Context, t time.Time) ([]souq.Sale, error)
	// DeleteSale removes a sale; ErrNotFound if there is none.
	DeleteSale(ctx context.Context, id souq.ID) error
}

// NewProduct is a product to create with the text it is searched by.
type NewProduct struct {
	Product    souq.Product
	SearchText string
}

// Query selects products. Terms are normalised search terms (see
// SearchTerms): a product matches when each term is a prefix of a word of its
// search text. Empty fields do not filter.
type Query struct {
	Category string
	Brand    string
	Terms    []string
	// Market, when set, keeps only products priced in that market.
	Market souq.MarketCode
	Sort   Sort
	// After, when set, starts the page just after this position in Sort
	// order (keyset paging: as fast at any depth); Offset is then ignored.
	After  *Position
	Offset int
	Limit  int
}

// Position is a product's place in a listing's order: its id and the key
// its Sort orders by (Created for the featured and newest orders, Name for
// name, Amount, its price in Query.Market, for the price orders).
type Position struct {
	ID      souq.ID
	Created time.Time
	Name    string
	Amount  int64
}

// ProductClashError is the error of CreateProduct(s) and UpdateProduct
// when another product already has the id, SKU or slug: Field is "id",
// "sku" or "slug", Value the value. It is an ErrConflict.
type ProductClashError struct {
	Field, Value string
}

func (e *ProductClashError) Error() string {
	return fmt.Sprintf("another product has %s %q", e.Field, e.Value)
}

// Is makes a clash an ErrConflict.
func (e *ProductClashError) Is(target error) bool { return target == souq.ErrConflict }

// SaleOverlapError is CreateSale's error for a sale that overlaps Other
// in time (Other without its prices). Sales may not overlap: at any
// moment at most one runs.
type SaleOverlapError struct {
	Other souq.Sale
}

func (e *SaleOverlapError) Error() string {
	return fmt.Sprintf("the sale overlaps sale %s", e.Other.ID)
}

// GroupCount is how many products have one category and brand.
type GroupCount struct {
	Category string
	Brand    string
	Count    int
}

// Sort orders a product listing.
type Sort string

// Sort orders. Every order breaks ties by product id so pages are stable.
const (
	SortFeatured Sort = ""           // curated order: newest first
	SortName     Sort = "name"       // English name A–Z
	SortNewest   Sort = "newest"     // creation time, newest first
	SortPriceAsc Sort = "price_asc"  // regular price in Query.Market, low to high
	SortPriceDsc Sort = "price_desc" // regular price in Query.Market, high to low; ties by id descending
)

// Facets are the categories and brands with their product counts.
type Facets struct {
	Categories []Facet `json:"categories"`
	Brands     []Facet `json:"brands"`
}

// Facet is one value and how many products have it.
type Facet struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

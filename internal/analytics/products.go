package analytics

import (
	"context"
	"time"
)

// ProductQuery selects the per-product figures of a period.
type ProductQuery struct {
	// From and To bound the period: minute buckets starting in [From, To)
	// while they are retained, else the hour buckets starting in it.
	From, To time.Time
	// Market, when not empty, keeps only events of that market (a market
	// code or "unknown").
	Market string
	// City, when not empty, keeps only order lines and cancellations from
	// that city: browser events carry no city, so views and adds are 0.
	City string
	// IDs, when not nil, keeps only these products.
	IDs []string
}

// ProductRow is one product's counters over a period.
type ProductRow struct {
	ProductID string `json:"product_id"`
	Counters
	NetRevenueAED int64 `json:"net_revenue_aed"`
}

// Products returns the counters of every product with an event in the
// period q selects, by revenue in AED, then views (both descending), then
// product id.
func (r *Reader) Products(ctx context.Context, q ProductQuery) ([]ProductRow, error) {
	return nil, errTODO
}

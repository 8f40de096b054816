// Package outcomes counts how the shop answered checkouts and adds to
// cart, per minute, over every API replica: the signals the dashboard's
// alerts need that the event stream does not carry (a refused checkout
// produces no event). Counts are kept in the hot store: in process on
// the embedded default, in Redis when it is configured.
package outcomes

import (
	"context"
	"errors"
	"time"
)

// Counts are the answers of one period.
type Counts struct {
	// Checkouts counts order attempts answered (POST /api/v1/orders and
	// the storefront's checkout form), replays of an Idempotency-Key not
	// included.
	Checkouts int64 `json:"checkouts"`
	// Orders counts the attempts that placed an order.
	Orders int64 `json:"orders"`
	// OutOfStock counts attempts refused because stock ran short.
	OutOfStock int64 `json:"out_of_stock"`
	// Declined counts attempts whose payment was declined.
	Declined int64 `json:"declined"`
	// Rejected counts attempts refused for any other client error
	// (invalid input, waiting room).
	Rejected int64 `json:"rejected"`
	// Errors counts attempts that failed on the server's side (5xx).
	Errors int64 `json:"errors"`
	// CartOutOfStock counts adds to cart refused for stock.
	CartOutOfStock int64 `json:"cart_out_of_stock"`
}

// ErrorRate is Errors / Checkouts (0 without checkouts).
func (c Counts) ErrorRate() float64 {
	if c.Checkouts == 0 {
		return 0
	}
	return float64(c.Errors) / float64(c.Checkouts)
}

// Minute is the Counts of one minute bucket.
type Minute struct {
	Start time.Time `json:"start"`
	Counts
}

var errTODO = errors.New("outcomes: not yet implemented")

// Reader reads the counts of every replica.
type Reader interface {
	// Minutes returns the counts of the minute buckets starting in
	// [from, to), oldest first, one per minute (zero counts included).
	Minutes(ctx context.Context, from, to time.Time) ([]Minute, error)
}

var _ = errTODO

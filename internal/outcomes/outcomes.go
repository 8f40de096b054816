// Package outcomes counts how the shop answered checkouts and adds to
// cart, per minute, over every API replica: the signals the dashboard's
// alerts need that the event stream does not carry (a refused checkout
// produces no event). Counts are kept in the hot store: in process on
// the embedded default, in Redis when it is configured.
package outcomes

import (
	"context"
	"fmt"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
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
	// (invalid input, waiting room); they are not in ErrorRate.
	Rejected int64 `json:"rejected"`
	// Errors counts attempts that failed on the server's side (5xx).
	Errors int64 `json:"errors"`
	// CartOutOfStock counts adds to cart refused for stock.
	CartOutOfStock int64 `json:"cart_out_of_stock"`
}

// Attempted counts the order attempts checkout itself answered: orders,
// refusals for stock, declined payments and errors. Rejected attempts
// (invalid input, the waiting room's refusals) are left out: thousands
// of queued shoppers must not dilute the error rate.
func (c Counts) Attempted() int64 {
	return c.Orders + c.OutOfStock + c.Declined + c.Errors
}

// ErrorRate is Errors / Attempted (0 without attempts).
func (c Counts) ErrorRate() float64 {
	n := c.Attempted()
	if n == 0 {
		return 0
	}
	return float64(c.Errors) / float64(n)
}

// Minute is the Counts of one minute bucket.
type Minute struct {
	Start time.Time `json:"start"`
	Counts
}

// Reader reads the counts of every replica.
type Reader interface {
	// Minutes returns the counts of the minute buckets starting in
	// [from, to), oldest first, one per minute (zero counts included).
	Minutes(ctx context.Context, from, to time.Time) ([]Minute, error)
}

// Add adds o's counts to c's.
func (c *Counts) Add(o Counts) {
	c.Checkouts += o.Checkouts
	c.Orders += o.Orders
	c.OutOfStock += o.OutOfStock
	c.Declined += o.Declined
	c.Rejected += o.Rejected
	c.Errors += o.Errors
	c.CartOutOfStock += o.CartOutOfStock
}

// IsZero reports whether every count is 0.
func (c Counts) IsZero() bool { return c == Counts{} }

// Kind is how the shop answered one order attempt or add to cart.
type Kind int

// The kinds Record counts. Each of the first five is an order attempt
// and counts in Counts.Checkouts as well as in its own count.
const (
	KindOrder          Kind = iota // an order placed: Counts.Orders
	KindOutOfStock                 // refused for stock: Counts.OutOfStock
	KindDeclined                   // payment declined: Counts.Declined
	KindRejected                   // another client error: Counts.Rejected
	KindError                      // failed on the server's side: Counts.Errors
	KindCartOutOfStock             // an add to cart refused for stock: Counts.CartOutOfStock
	numKinds
)

var kindNames = [numKinds]string{"order", "out_of_stock", "declined", "rejected", "error", "cart_out_of_stock"}

// String returns the kind's name, as in logs.
func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// add adds n of kind k to c.
func (c *Counts) add(k Kind, n int64) {
	switch k {
	case KindOrder:
		c.Orders += n
	case KindOutOfStock:
		c.OutOfStock += n
	case KindDeclined:
		c.Declined += n
	case KindRejected:
		c.Rejected += n
	case KindError:
		c.Errors += n
	case KindCartOutOfStock:
		c.CartOutOfStock += n
		return
	default:
		return
	}
	c.Checkouts += n
}

// Store keeps the counts of every replica: MemStore in process, and
// redisstore.Outcomes in Redis. outcomestest is the contract both pass.
type Store interface {
	// Add adds each Minute's counts to those stored for the minute its
	// Start falls in, all of them or, with an error, possibly none. A
	// minute older than Retention may be dropped.
	Add(ctx context.Context, minutes []Minute) error
	Reader
}

// Retention is how long a store keeps a minute's counts.
const Retention = 3 * time.Hour

// MaxRange is the longest range Minutes reads at once.
const MaxRange = 24 * time.Hour

// Starts returns the starts of the minutes starting in [from, to), in
// UTC, oldest first: the Minutes a Reader returns. A range that ends
// before it starts, or is longer than MaxRange, is an ErrInvalid.
func Starts(from, to time.Time) ([]time.Time, error) {
	if to.Before(from) {
		return nil, souq.Errorf(souq.ErrInvalid, "the range ends (%s) before it starts (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	if to.Sub(from) > MaxRange {
		return nil, souq.Errorf(souq.ErrInvalid, "the range is longer than %s", MaxRange)
	}
	first := from.UTC().Truncate(time.Minute)
	if first.Before(from) {
		first = first.Add(time.Minute)
	}
	starts := []time.Time{}
	for t := first; t.Before(to); t = t.Add(time.Minute) {
		starts = append(starts, t)
	}
	return starts, nil
}

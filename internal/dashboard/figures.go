package dashboard

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// Refresh periods of what changes slowly or costs a store query: one
// read per period for every stream and request of this replica.
const (
	// salesTTL: the sale schedule, read from the shop's store.
	salesTTL = 5 * time.Second
	// lowStockTTL: the low- and out-of-stock lists, one store query.
	lowStockTTL = 5 * time.Second
	// lastSaleLookback is how far back an ended sale is still shown.
	lastSaleLookback = 7 * 24 * time.Hour
	// lowStockLimit bounds the low- and out-of-stock lists.
	lowStockLimit = 200
)

// panelCaches keep the slow-changing figures between pushes, by the
// dashboard's clock. Their mutex is taken alone, never with another.
type panelCaches struct {
	mu      sync.Mutex
	sales   []souq.Sale
	salesAt time.Time
	low     stockLists
	lowAt   time.Time
	unknown map[string]time.Time // ids the catalogue did not know, and when
	before  spanCache            // the figures before the sale (sale.go)
	during  spanCache            // the figures of the sale's complete minutes
}

// fresh reports whether a value read at at is still fresh at now.
func fresh(at, now time.Time, ttl time.Duration) bool {
	return !at.IsZero() && !now.Before(at) && now.Sub(at) < ttl
}

func (d *Dashboard) audienceFigures(ctx context.Context, now time.Time) *analytics.AudienceFigures {
	if d.audience == nil {
		return nil
	}
	a, err := d.audience.Audience(ctx, now)
	d.noteFailure(&d.audienceFailing, "audience figures", err)
	if err != nil {
		return nil
	}
	return &a
}

// comparisons returns today against yesterday and last week, read at
// every push: the Reader caches the past spans and reads today afresh, so
// caching here would only hold today's figures back.
func (d *Dashboard) comparisons(ctx context.Context, now time.Time) *analytics.Comparisons {
	if d.compare == nil {
		return nil
	}
	cmp, err := d.compare.Compare(ctx, now)
	d.noteFailure(&d.compareFailing, "comparisons", err)
	if err != nil {
		return nil
	}
	return &cmp
}

// sales returns the sales that ended in the last week, run or are
// scheduled, read at most once per salesTTL.
func (d *Dashboard) sales(ctx context.Context, now time.Time) ([]souq.Sale, bool) {
	c := &d.caches
	c.mu.Lock()
	if fresh(c.salesAt, now, salesTTL) {
		defer c.mu.Unlock()
		return c.sales, true
	}
	c.mu.Unlock()
	sales, err := d.catalog.SalesEndingAfter(ctx, now.Add(-lastSaleLookback))
	d.noteFailure(&d.catalogFailing, "sales", err)
	if err != nil {
		return nil, false
	}
	c.mu.Lock()
	c.sales, c.salesAt = sales, now
	c.mu.Unlock()
	return sales, true
}

// stockLists are the out- and low-stock lists as read from the store.
type stockLists struct {
	out, low                   []catalog.StockLevel
	outTruncated, lowTruncated bool
}

// lowStock returns the products out of stock and those with 1 to the
// threshold units left, each list up to lowStockLimit, read at most once
// per lowStockTTL (see readStockLists).
func (d *Dashboard) lowStock(ctx context.Context, now time.Time) (stockLists, bool) {
	c := &d.caches
	c.mu.Lock()
	if fresh(c.lowAt, now, lowStockTTL) {
		defer c.mu.Unlock()
		return c.low, true
	}
	c.mu.Unlock()
	l, err := d.readStockLists(ctx)
	d.noteFailure(&d.catalogFailing, "low stock", err)
	if err != nil {
		return stockLists{}, false
	}
	c.mu.Lock()
	c.low, c.lowAt = l, now
	c.mu.Unlock()
	return l, true
}

// readStockLists reads the out- and low-stock lists in two reads, so
// that the out-of-stock products, first in the store's order, cannot hide
// the low ones: the products with no stock (one more than the limit, to
// know whether there are more), then the products up to the threshold
// past them. The store lists from stock 0 up: with more out of stock than
// the second read can skip (catalog.MaxLowStock in all), the low list
// holds those that fit and is marked truncated.
func (d *Dashboard) readStockLists(ctx context.Context) (stockLists, error) {
	var l stockLists
	out, err := d.catalog.LowStock(ctx, 0, lowStockLimit+1)
	if err != nil {
		return l, err
	}
	l.out, l.outTruncated = out[:min(len(out), lowStockLimit)], len(out) > lowStockLimit
	limit := len(out) + lowStockLimit + 1
	if l.outTruncated {
		limit = catalog.MaxLowStock
	}
	levels, err := d.catalog.LowStock(ctx, d.alertCfg.LowStock, limit)
	if err != nil {
		return l, err
	}
	for _, s := range levels {
		if s.Stock > 0 {
			l.low = append(l.low, s)
		}
	}
	// Past every out-of-stock product, a read of limit + 1 low ones tells
	// whether there are more; behind too many, a full read may have left
	// some out.
	l.lowTruncated = len(l.low) > lowStockLimit || (l.outTruncated && len(levels) == limit)
	l.low = l.low[:min(len(l.low), lowStockLimit)]
	return l, nil
}

// hourFigures are the per-product counters of the last 60 minute
// buckets (the one filling included), as Snapshot.LastHour counts them.
type hourFigures struct {
	rows []analytics.ProductRow
	byID map[string]analytics.Counters
}

// lastHour returns the span of the last 60 minute buckets at now, the one
// filling included: whole minutes, an hour long, so that the analytics
// Reader answers it from the sums it keeps between pushes rather than by
// reading every bucket of every product again (to is the end of the
// filling minute, after now: no bucket starts between now and to).
func lastHour(now time.Time) (from, to time.Time) {
	to = now.UTC().Truncate(time.Minute).Add(time.Minute)
	return to.Add(-time.Hour), to
}

// hourRows reads the per-product counters of the last hour, in every
// market; nil without ProductFigures or when they fail.
func (d *Dashboard) hourRows(ctx context.Context, now time.Time) *hourFigures {
	if d.figures == nil {
		return nil
	}
	from, to := lastHour(now)
	rows, err := d.figures.Products(ctx, analytics.ProductQuery{From: from, To: to})
	d.noteFailure(&d.figuresFailing, "product figures", err)
	if err != nil {
		return nil
	}
	h := &hourFigures{rows: rows, byID: make(map[string]analytics.Counters, len(rows))}
	for _, r := range rows {
		h.byID[r.ProductID] = r.Counters
	}
	return h
}

// Products the catalogue does not know are remembered for a while: the
// catalogue caches the products it finds, not the ids it does not, and
// events may name products deleted or never created.
const (
	unknownTTL = 30 * time.Second
	maxUnknown = 10_000
)

// product looks a product up in the catalogue by id; ok is false without
// a catalogue, for an id that is not a product id (the catalogue would
// look it up as a slug, and so show another product), or for an unknown
// product, which is not looked up again for unknownTTL.
func (d *Dashboard) product(ctx context.Context, id string) (souq.Product, bool) {
	if d.catalog == nil || !strings.HasPrefix(id, souq.ProductPrefix) {
		return souq.Product{}, false
	}
	now := d.now()
	c := &d.caches
	c.mu.Lock()
	at, unknown := c.unknown[id]
	c.mu.Unlock()
	if unknown && fresh(at, now, unknownTTL) {
		return souq.Product{}, false
	}
	p, err := d.catalog.Product(ctx, id)
	if errors.Is(err, souq.ErrNotFound) {
		c.mu.Lock()
		if c.unknown == nil || len(c.unknown) >= maxUnknown {
			c.unknown = map[string]time.Time{}
		}
		c.unknown[id] = now
		c.mu.Unlock()
	}
	return p, err == nil
}

// stocks reads the live stock of ids from the shop's store; nil when it
// fails.
func (d *Dashboard) stocks(ctx context.Context, ids []souq.ID) map[souq.ID]int {
	if d.catalog == nil || len(ids) == 0 {
		return nil
	}
	s, err := d.catalog.Stocks(ctx, ids)
	d.noteFailure(&d.catalogFailing, "stock", err)
	if err != nil {
		return nil
	}
	return s
}

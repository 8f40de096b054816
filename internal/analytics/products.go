package analytics

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
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

// maxMemberReads is how many products of ProductQuery.IDs are read one
// by one; more are read with the rest and filtered.
const maxMemberReads = 32

// Products returns the counters of every product with an event in the
// period q selects, by revenue in AED, then views (both descending), then
// product id. A period that does not end after it starts is an error of
// kind souq.ErrInvalid.
//
// Unfiltered by market and city, a period of the last 5, 15 or 60 minute
// buckets (From and To on whole minutes, To − From one of those) is
// answered from the sums the Reader keeps for the trending lists: the
// Aggregator's own Reader reads again only the minutes that changed since
// its last call, as Snapshot does.
func (r *Reader) Products(ctx context.Context, q ProductQuery) ([]ProductRow, error) {
	q.From, q.To = q.From.UTC(), q.To.UTC()
	if !q.To.After(q.From) {
		return nil, souq.Errorf(souq.ErrInvalid, "products: the period must end after it starts")
	}
	p, err := r.store.Progress(ctx)
	if err != nil {
		return nil, fmt.Errorf("analytics: products: %w", err)
	}
	res := Minute
	if !p.Watermark.IsZero() && q.From.Before(r.cfg.floors(p.Watermark).Minutes) {
		res = Hour
	}
	var keep map[string]bool
	if q.IDs != nil {
		keep = make(map[string]bool, len(q.IDs))
		for _, id := range q.IDs {
			keep[id] = true
		}
	}
	sums := map[string]*Counters{}
	add := func(product string, c *Counters) {
		if keep != nil && !keep[product] {
			return
		}
		acc, ok := sums[product]
		if !ok {
			acc = &Counters{}
			sums[product] = acc
		}
		acc.Add(c)
	}

	switch {
	case res == Minute && q.Market == "" && q.City == "" && r.kept(q.From, q.To):
		err = r.products.with(ctx, r.store, q.To, func(ws []map[string]*windowSum[Counters]) {
			i := slices.Index(trendWindows, q.To.Sub(q.From))
			for id, s := range ws[i] {
				add(id, &s.v)
			}
		})
	default:
		err = r.readProducts(ctx, res, q, keep, add)
	}
	if err != nil {
		return nil, fmt.Errorf("analytics: products: %w", err)
	}
	// Sort small keys, not the rows (a row is over 200 bytes).
	type key struct {
		id string
		c  *Counters
	}
	keys := make([]key, 0, len(sums))
	for id, c := range sums {
		keys = append(keys, key{id, c})
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(b.c.RevenueAED, a.c.RevenueAED), cmp.Compare(b.c.Views, a.c.Views), strings.Compare(a.id, b.id))
	})
	rows := make([]ProductRow, len(keys))
	for i, k := range keys {
		rows[i] = ProductRow{ProductID: k.id, Counters: *k.c, NetRevenueAED: k.c.NetAED()}
	}
	return rows, nil
}

// kept reports whether [from, to) is one of the trend windows the Reader
// keeps sums of.
func (r *Reader) kept(from, to time.Time) bool {
	return from.Equal(from.Truncate(time.Minute)) && to.Equal(to.Truncate(time.Minute)) &&
		slices.Contains(trendWindows, to.Sub(from))
}

// readProducts reads the cells of q from the store's buckets of res and
// adds each product's to add: from Product, ProductMarket or ProductCity,
// one member at a time when q names a few products and the members can be
// spelled out.
func (r *Reader) readProducts(ctx context.Context, res Resolution, q ProductQuery, keep map[string]bool, add func(string, *Counters)) error {
	dim, member := Product, func(id string) string { return id }
	switch {
	case q.City != "" && q.Market != "":
		dim, member = ProductCity, func(id string) string { return ProductCityMember(q.Market, q.City, id) }
	case q.City != "":
		dim, member = ProductCity, nil // the market is not known: read all
	case q.Market != "":
		dim, member = ProductMarket, func(id string) string { return ProductMarketMember(q.Market, id) }
	}
	visit := func(_ time.Time, m string, c *Counters) {
		parts := SplitMember(m)
		switch {
		case dim == ProductMarket && (len(parts) != 2 || parts[0] != q.Market):
			return
		case dim == ProductCity && (len(parts) != 3 || parts[1] != q.City || (q.Market != "" && parts[0] != q.Market)):
			return
		}
		add(parts[len(parts)-1], c)
	}
	rg := Range{Res: res, Dim: dim, From: q.From, To: q.To}
	if keep == nil || member == nil || len(keep) > maxMemberReads {
		return r.store.Read(ctx, rg, visit)
	}
	for id := range keep {
		rg.Member = member(id)
		if err := r.store.Read(ctx, rg, visit); err != nil {
			return err
		}
	}
	return nil
}

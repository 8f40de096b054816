package analytics

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// ProductQuery selects the per-product figures of a period.
type ProductQuery struct {
	// From and To bound the period (see ProductsIn for the buckets read).
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

// maxMemberReads is how many products of ProductQuery.IDs are read by
// name, all in one store read (Range.Members); more are read with the
// rest and filtered.
const maxMemberReads = 256

// ProductsResult is what ProductsIn returns: the rows and the span they
// cover.
type ProductsResult struct {
	Rows []ProductRow `json:"rows"`
	// Span is the period read (Source "hot"); Approximate, with a Note,
	// when an edge of the period cuts an hour whose minute buckets are
	// gone and its share was prorated from the hour bucket.
	Span Span `json:"span"`
}

// Products returns the rows of ProductsIn, without the span.
func (r *Reader) Products(ctx context.Context, q ProductQuery) ([]ProductRow, error) {
	res, err := r.ProductsIn(ctx, q)
	return res.Rows, err
}

// ProductsIn returns the counters of every product with an event in the
// period q selects, by revenue in AED, then views (both descending), then
// product id, and the span read. A period that does not end after it
// starts is an error of kind souq.ErrInvalid.
//
// The period is covered as Compare covers a day: minute buckets where they
// are retained, hour buckets for the whole hours before, and the part of
// the hour the minute floor falls in that has no minute buckets is that
// hour's bucket less its retained minutes. Only an edge of the period that
// cuts an hour with no minute buckets is estimated: its share of the hour
// bucket, prorated by time and rounded to the nearest (Span.Approximate).
//
// Unfiltered by market and city, a period of the last 5, 15 or 60 minute
// buckets (From and To on whole minutes, To − From one of those) is
// answered from the sums the Reader keeps for the trending lists: the
// Aggregator's own Reader reads again only the minutes that changed since
// its last call, as Snapshot does.
func (r *Reader) ProductsIn(ctx context.Context, q ProductQuery) (ProductsResult, error) {
	q.From, q.To = q.From.UTC(), q.To.UTC()
	if !q.To.After(q.From) {
		return ProductsResult{}, souq.Errorf(souq.ErrInvalid, "products: the period must end after it starts")
	}
	p, err := r.store.Progress(ctx)
	if err != nil {
		return ProductsResult{}, fmt.Errorf("analytics: products: %w", err)
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
	span := Span{From: q.From, To: q.To, Source: "hot"}
	floor := q.From
	if !p.Watermark.IsZero() {
		floor = r.cfg.floors(p.Watermark).Minutes
	}
	switch {
	case !q.From.Before(floor) && q.Market == "" && q.City == "" && r.kept(q.From, q.To):
		err = r.products.with(ctx, r.store, q.To, func(ws []map[string]*windowSum[Counters]) {
			i := slices.Index(trendWindows, q.To.Sub(q.From))
			for id, s := range ws[i] {
				add(id, &s.v)
			}
		})
	case !q.From.Before(floor):
		err = r.readProducts(ctx, Minute, q, q.From, q.To, keep, add)
	default:
		err = r.coverProducts(ctx, q, floor, keep, add, &span)
	}
	if err != nil {
		return ProductsResult{}, fmt.Errorf("analytics: products: %w", err)
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
	return ProductsResult{Rows: rows, Span: span}, nil
}

// coverProducts adds the cells of q, which starts before floor (the oldest
// minute bucket retained), as ProductsIn describes, and marks span
// approximate when an edge was prorated.
func (r *Reader) coverProducts(ctx context.Context, q ProductQuery, floor time.Time, keep map[string]bool,
	add func(string, *Counters), span *Span) error {
	end := q.To // [q.From, end) has no minute buckets
	if q.To.After(floor) {
		end = floor
		if err := r.readProducts(ctx, Minute, q, floor, q.To, keep, add); err != nil {
			return err
		}
	}
	first, last := q.From.Truncate(time.Hour), end.Truncate(time.Hour)
	if first.Before(q.From) {
		first = first.Add(time.Hour)
	}
	if first.After(last) { // [q.From, end) inside one hour, cut on both sides
		return r.edgeProducts(ctx, q, q.From, end, floor, keep, add, span)
	}
	if q.From.Before(first) {
		if err := r.edgeProducts(ctx, q, q.From, first, floor, keep, add, span); err != nil {
			return err
		}
	}
	if first.Before(last) {
		if err := r.readProducts(ctx, Hour, q, first, last, keep, add); err != nil {
			return err
		}
	}
	if last.Before(end) {
		return r.edgeProducts(ctx, q, last, end, floor, keep, add, span)
	}
	return nil
}

// edgeProducts adds the cells of [lo, hi), a part of one hour with no
// minute buckets: the hour bucket less the minutes of the hour at or after
// floor, which is exact when [lo, hi) is the whole of the hour's part
// before floor and else prorated by time (span becomes Approximate).
func (r *Reader) edgeProducts(ctx context.Context, q ProductQuery, lo, hi, floor time.Time, keep map[string]bool,
	add func(string, *Counters), span *Span) error {
	h := lo.Truncate(time.Hour)
	next := h.Add(time.Hour)
	part := map[string]*Counters{}
	collect := func(k int64) func(string, *Counters) {
		return func(id string, c *Counters) {
			acc, ok := part[id]
			if !ok {
				acc = &Counters{}
				part[id] = acc
			}
			acc.add(c, k)
		}
	}
	if err := r.readProducts(ctx, Hour, q, h, next, keep, collect(1)); err != nil {
		return err
	}
	without := next // the end of the hour's part with no minute buckets
	if floor.Before(next) {
		without = floor
		if err := r.readProducts(ctx, Minute, q, floor, next, keep, collect(-1)); err != nil {
			return err
		}
	}
	if lo.Equal(h) && hi.Equal(without) {
		for id, c := range part {
			add(id, c)
		}
		return nil
	}
	frac := float64(hi.Sub(lo)) / float64(without.Sub(h))
	for id, c := range part {
		for _, f := range counterFields {
			p := f(c)
			*p = int64(math.Round(float64(*p) * frac))
		}
		add(id, c)
	}
	span.Approximate = true
	note := fmt.Sprintf("%s–%s UTC prorated from the %s hour bucket (%d of %d minutes): the hot store no longer holds its minute buckets",
		lo.Format("15:04"), hi.Format("15:04"), h.Format("15:04"), int(hi.Sub(lo)/time.Minute), int(without.Sub(h)/time.Minute))
	if span.Note != "" {
		note = span.Note + "; " + note
	}
	span.Note = note
	return nil
}

// kept reports whether [from, to) is one of the trend windows the Reader
// keeps sums of.
func (r *Reader) kept(from, to time.Time) bool {
	return from.Equal(from.Truncate(time.Minute)) && to.Equal(to.Truncate(time.Minute)) &&
		slices.Contains(trendWindows, to.Sub(from))
}

// readProducts reads the cells of q in [from, to) from the store's buckets of res and
// adds each product's to add: from Product, ProductMarket or ProductCity,
// only the members of q's products (in one read) when q names a few and
// the members can be spelled out.
func (r *Reader) readProducts(ctx context.Context, res Resolution, q ProductQuery, from, to time.Time, keep map[string]bool, add func(string, *Counters)) error {
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
	if keep != nil && len(keep) == 0 {
		return nil
	}
	rg := Range{Res: res, Dim: dim, From: from, To: to}
	if keep != nil && member != nil && len(keep) <= maxMemberReads {
		rg.Members = make([]string, 0, len(keep))
		for id := range keep {
			rg.Members = append(rg.Members, member(id))
		}
		slices.Sort(rg.Members)
	}
	return r.store.Read(ctx, rg, visit)
}

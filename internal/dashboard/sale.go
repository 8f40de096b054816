package dashboard

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/souq"
)

// rateWindow is the stretch of the sale the units-per-minute rate is taken
// over: its last 15 minutes (or all of it when it is shorter).
const rateWindow = 15 * time.Minute

// pickSale returns the sale running at now, else the last one to have
// ended by now; ok is false when there is neither (scheduled sales are
// not shown).
func pickSale(sales []souq.Sale, now time.Time) (souq.Sale, bool) {
	var last souq.Sale
	found := false
	for _, s := range sales {
		if s.ActiveAt(now) {
			return s, true
		}
		if !s.EndsAt.After(now) && (!found || s.EndsAt.After(last.EndsAt)) {
			last, found = s, true
		}
	}
	return last, found
}

// saleIDs lists the sale's products: those with units or prices, sorted.
func saleIDs(s souq.Sale) []souq.ID {
	seen := map[souq.ID]bool{}
	var ids []souq.ID
	for id := range s.Units {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for id := range s.Prices {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// salePanel computes the sale panel at now; nil without a sale, without
// the catalogue or the product figures, or when one of them fails.
func (d *Dashboard) salePanel(ctx context.Context, now time.Time) *SalePanel {
	if d.catalog == nil || d.figures == nil {
		return nil
	}
	sales, ok := d.sales(ctx, now)
	if !ok {
		return nil
	}
	sale, ok := pickSale(sales, now)
	if !ok {
		return nil
	}
	ids := saleIDs(sale)
	stock := d.stocks(ctx, ids)
	if stock == nil && len(ids) > 0 {
		return nil
	}
	p, err := buildSalePanel(ctx, sale, now, ids, stock, d.figures,
		d.pastFigures(&d.caches.before, sale.ID), d.pastFigures(&d.caches.during, sale.ID), d.product)
	d.noteFailure(&d.figuresFailing, "sale figures", err)
	if err != nil {
		return nil
	}
	return &p
}

// buildSalePanel computes a sale's panel at now from the live stock and
// the product figures; lookup gives names and brands.
// before, when not nil, reads the figures of the span before the sale,
// and past those of the sale's complete minutes (else figures does): both
// are of the past, which the Dashboard caches (pastFigures).
func buildSalePanel(ctx context.Context, sale souq.Sale, now time.Time, ids []souq.ID, stock map[souq.ID]int,
	figures ProductSource, before, past figuresFunc, lookup func(context.Context, string) (souq.Product, bool)) (SalePanel, error) {
	running := sale.ActiveAt(now)
	end := sale.EndsAt
	if running {
		end = now
	}
	p := SalePanel{
		ID: sale.ID, Name: sale.Name, StartsAt: sale.StartsAt, EndsAt: sale.EndsAt,
		Running: running, Protected: sale.Protected, Items: []SaleItem{},
	}
	if running {
		p.SecondsLeft = int64(sale.EndsAt.Sub(now).Seconds())
	}
	strIDs := make([]string, len(ids))
	for i, id := range ids {
		strIDs[i] = string(id)
	}
	span := end.Sub(sale.StartsAt)
	read := func(ctx context.Context, ids []string, from, to time.Time) (SaleFigures, error) {
		f, _, err := saleFigures(ctx, figures, ids, from, to)
		return f, err
	}
	if before == nil {
		before = read
	}
	if past == nil {
		past = read
	}
	var err error
	if p.During, err = duringFigures(ctx, figures, past, strIDs, sale.StartsAt, end); err != nil {
		return SalePanel{}, err
	}
	if p.Before, err = before(ctx, strIDs, sale.StartsAt.Add(-span), sale.StartsAt); err != nil {
		return SalePanel{}, err
	}
	rateFrom, rateTo := rateSpan(sale, end, running)
	_, recent, err := saleFigures(ctx, figures, strIDs, rateFrom, rateTo)
	if err != nil {
		return SalePanel{}, err
	}
	minutes := end.Sub(rateFrom).Minutes()
	for _, id := range ids {
		it := SaleItem{ProductID: id, Offered: sale.Units[id], Stock: stock[id]}
		if prod, ok := lookup(ctx, string(id)); ok {
			it.Name, it.Brand = prod.Name, prod.Brand
		}
		it.Sold = max(it.Offered-it.Stock, 0)
		if it.Offered > 0 {
			it.SellThrough = float64(it.Sold) / float64(it.Offered)
		}
		if minutes > 0 {
			it.UnitsPerMinute = float64(recent[string(id)].Units) / minutes
		}
		it.SoldOut = it.Stock <= 0
		if running && !it.SoldOut && it.UnitsPerMinute > 0 {
			at := now.Add(time.Duration(float64(it.Stock) / it.UnitsPerMinute * float64(time.Minute))).UTC().Truncate(time.Second)
			it.SoldOutAt = &at
		}
		p.Items = append(p.Items, it)
	}
	slices.SortStableFunc(p.Items, func(a, b SaleItem) int {
		if a.SoldOut != b.SoldOut {
			if a.SoldOut {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(b.SellThrough, a.SellThrough); c != 0 {
			return c
		}
		return cmp.Compare(a.ProductID, b.ProductID)
	})
	return p, nil
}

// saleFigures sums the sale items' orders, units and revenue over
// [from, to), and returns each item's counters too. Orders add up per
// item: an order with two sale items counts twice.
func saleFigures(ctx context.Context, figures ProductSource, ids []string, from, to time.Time) (SaleFigures, map[string]analytics.Counters, error) {
	f := SaleFigures{From: from, To: to}
	if len(ids) == 0 || !to.After(from) {
		return f, map[string]analytics.Counters{}, nil
	}
	rows, err := figures.Products(ctx, analytics.ProductQuery{From: from, To: to, IDs: ids})
	if err != nil {
		return SaleFigures{}, nil, err
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	by := make(map[string]analytics.Counters, len(rows))
	for _, r := range rows {
		if !want[r.ProductID] {
			continue
		}
		f.Orders += r.Orders
		f.Units += r.Units
		f.RevenueAED += r.RevenueAED
		by[r.ProductID] = r.Counters
	}
	return f, by, nil
}

// duringFigures returns the sale items' figures over [from, to): the
// complete minutes [from, to truncated to the minute) through past, which
// may cache them, and the minute still filling, read afresh.
func duringFigures(ctx context.Context, figures ProductSource, past figuresFunc, ids []string, from, to time.Time) (SaleFigures, error) {
	whole := to.Truncate(time.Minute)
	if !whole.After(from) {
		f, _, err := saleFigures(ctx, figures, ids, from, to)
		return f, err
	}
	f, err := past(ctx, ids, from, whole)
	if err != nil {
		return SaleFigures{}, err
	}
	filling, _, err := saleFigures(ctx, figures, ids, whole, to)
	if err != nil {
		return SaleFigures{}, err
	}
	f.Orders += filling.Orders
	f.Units += filling.Units
	f.RevenueAED += filling.RevenueAED
	f.From, f.To = from, to
	return f, nil
}

// rateSpan returns the span the items' units per minute are read over,
// [from, to), and the rate is taken over [from, end). While the sale runs
// and has run for rateWindow of minute buckets, it is the last rateWindow
// of them, the filling one included: whole minutes, so the analytics
// Reader answers it from the sums it keeps between pushes. Else it is
// the last rateWindow before end, or the whole sale when shorter.
func rateSpan(sale souq.Sale, end time.Time, running bool) (from, to time.Time) {
	if running {
		to = end.UTC().Truncate(time.Minute).Add(time.Minute)
		if from = to.Add(-rateWindow); !from.Before(sale.StartsAt) {
			return from, to
		}
	}
	from = end.Add(-rateWindow)
	if from.Before(sale.StartsAt) {
		from = sale.StartsAt
	}
	return from, end
}

// figuresFunc reads the sale items' figures over [from, to).
type figuresFunc func(ctx context.Context, ids []string, from, to time.Time) (SaleFigures, error)

// pastTTL bounds how long the figures of a past span are reused: they
// are changed only by late events.
const pastTTL = time.Minute

// spanCache holds the figures of one past span of a sale.
type spanCache struct {
	figures SaleFigures
	key     spanKey
	at      time.Time
}

// pastFigures returns a figuresFunc for sale that reuses its last answer,
// kept in slot (under d.caches.mu), for pastTTL while the span's first
// minute bucket and its end are the same: the span before a running sale
// grows by a second a push, but the buckets starting in it change once a
// minute; the sale's complete minutes change once a minute.
func (d *Dashboard) pastFigures(slot *spanCache, sale souq.ID) figuresFunc {
	return func(ctx context.Context, ids []string, from, to time.Time) (SaleFigures, error) {
		first := from.Truncate(time.Minute)
		if first.Before(from) {
			first = first.Add(time.Minute)
		}
		key := spanKey{sale: sale, first: first, to: to, items: len(ids)}
		now := d.now()
		c := &d.caches
		c.mu.Lock()
		if slot.key == key && fresh(slot.at, now, pastTTL) {
			f := slot.figures
			c.mu.Unlock()
			f.From, f.To = from, to
			return f, nil
		}
		c.mu.Unlock()
		f, _, err := saleFigures(ctx, d.figures, ids, from, to)
		if err != nil {
			return SaleFigures{}, err
		}
		c.mu.Lock()
		slot.figures, slot.key, slot.at = f, key, now
		c.mu.Unlock()
		return f, nil
	}
}

// spanKey identifies the figures of a sale's past span: its first minute
// bucket, its end and how many items the sale has.
type spanKey struct {
	sale      souq.ID
	first, to time.Time
	items     int
}

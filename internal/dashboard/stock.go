package dashboard

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/souq"
)

// watchTop is how many of the last hour's top sellers the watch list
// holds (the running sale's items come on top of them).
const watchTop = 10

// stockPanel computes the stock panel at now: the watch list (the last
// hour's top sellers by units, and the running sale's items) with their
// live stock, and the low- and out-of-stock lists. It is nil without the
// catalogue or when the store cannot be read.
func (d *Dashboard) stockPanel(ctx context.Context, now time.Time, hour *hourFigures, sale *SalePanel) *StockPanel {
	if d.catalog == nil {
		return nil
	}
	low, ok := d.lowStock(ctx, now)
	if !ok {
		return nil
	}
	onSale := map[souq.ID]bool{}
	if sale != nil && sale.Running {
		for _, it := range sale.Items {
			onSale[it.ProductID] = true
		}
	}
	ids := watchIDs(hour, onSale)
	stock := d.stocks(ctx, ids)
	if stock == nil && len(ids) > 0 {
		return nil
	}
	p := buildStockPanel(ctx, d.alertCfg.LowStock, ids, stock, low, hour, onSale, d.product)
	return &p
}

// watchIDs are the top sellers of the last hour by units (then revenue,
// then id), and the sale's items.
func watchIDs(hour *hourFigures, onSale map[souq.ID]bool) []souq.ID {
	var ids []souq.ID
	seen := map[souq.ID]bool{}
	if hour != nil {
		rows := slices.Clone(hour.rows)
		slices.SortFunc(rows, func(a, b analytics.ProductRow) int {
			return cmp.Or(cmp.Compare(b.Units, a.Units), cmp.Compare(b.RevenueAED, a.RevenueAED), cmp.Compare(a.ProductID, b.ProductID))
		})
		for _, r := range rows {
			if len(ids) == watchTop || r.Units == 0 {
				break
			}
			ids = append(ids, souq.ID(r.ProductID))
			seen[souq.ID(r.ProductID)] = true
		}
	}
	for _, id := range slices.Sorted(maps.Keys(onSale)) {
		if !seen[id] {
			ids = append(ids, id)
		}
	}
	return ids
}

// buildStockPanel assembles the panel from the store's figures.
func buildStockPanel(ctx context.Context, threshold int, watch []souq.ID, stock map[souq.ID]int, lists stockLists,
	hour *hourFigures, onSale map[souq.ID]bool, lookup func(context.Context, string) (souq.Product, bool)) StockPanel {
	row := func(id souq.ID, n int) StockRow {
		r := StockRow{ProductID: id, Stock: n, OnSale: onSale[id]}
		if p, ok := lookup(ctx, string(id)); ok {
			r.Name, r.Brand = p.Name, p.Brand
		}
		if hour != nil {
			r.UnitsLastHour = hour.byID[string(id)].Units
		}
		return r
	}
	p := StockPanel{Threshold: threshold, Watch: []StockRow{}, Low: []StockRow{}, Out: []StockRow{},
		LowTruncated: lists.lowTruncated, OutTruncated: lists.outTruncated}
	for _, id := range watch {
		p.Watch = append(p.Watch, row(id, stock[id]))
	}
	slices.SortStableFunc(p.Watch, func(a, b StockRow) int {
		return cmp.Or(cmp.Compare(b.UnitsLastHour, a.UnitsLastHour), cmp.Compare(a.ProductID, b.ProductID))
	})
	for _, l := range lists.out {
		p.Out = append(p.Out, row(l.ProductID, l.Stock))
	}
	for _, l := range lists.low {
		p.Low = append(p.Low, row(l.ProductID, l.Stock))
	}
	byStock := func(a, b StockRow) int {
		return cmp.Or(cmp.Compare(a.Stock, b.Stock), cmp.Compare(a.ProductID, b.ProductID))
	}
	slices.SortStableFunc(p.Low, byStock)
	slices.SortStableFunc(p.Out, byStock)
	return p
}

package dashboard

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/sqlite"
)

// noFigures is a product source with no events: the sale panel's stock
// figures come from the store alone.
type noFigures struct{}

func (noFigures) Products(context.Context, analytics.ProductQuery) ([]analytics.ProductRow, error) {
	return nil, nil
}

// TestSalePanelOverSQLiteCatalog reads the sale and its stock through the
// real catalogue on SQLite: units offered as scheduled, stock as the
// store holds it after sales, and the sale still shown after it ends.
func TestSalePanelOverSQLiteCatalog(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "souq.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cat := catalog.New(db, clock, slog.New(slog.DiscardHandler))
	create := func(sku string, stock int) souq.Product {
		p, err := cat.Create(ctx, catalog.ProductInput{SKU: sku, Slug: "p-" + strings.ToLower(sku), Brand: "Brand", Category: "skincare",
			Name: souq.Localized{EN: "Product " + sku, AR: "منتج " + sku}, Prices: map[souq.MarketCode]int64{"AE": 5000}, Stock: &stock})
		if err != nil {
			t.Fatalf("create %s: %v", sku, err)
		}
		return p
	}
	a, b := create("AAA", 10), create("BBB", 4)
	start, end := now.Add(time.Hour), now.Add(2*time.Hour)
	if _, err := cat.ScheduleSale(ctx, catalog.SaleInput{Name: souq.Localized{EN: "Flash", AR: "عرض"}, StartsAt: start, EndsAt: end,
		Items: []catalog.SaleItem{{ProductID: a.ID, DiscountPercent: 20, Units: 8}, {ProductID: b.ID, DiscountPercent: 10}}}); err != nil {
		t.Fatalf("schedule: %v", err)
	}
	d := New(Deps{Source: &fakeSource{snap: sampleSnapshot()}, Catalog: cat, ProductFigures: noFigures{}, Now: clock})
	t.Cleanup(d.Close)

	if p := d.salePanel(ctx, now); p != nil {
		t.Fatalf("before the sale: got %+v, want no panel (a scheduled sale is not shown)", p)
	}
	now = start.Add(10 * time.Minute)
	d.caches = panelCaches{} // a new schedule read
	for id, n := range map[souq.ID]int{a.ID: 3, b.ID: 0} {
		if _, err := cat.SetStock(ctx, id, n); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string, running bool) {
		t.Helper()
		p := d.salePanel(ctx, now)
		if p == nil {
			t.Fatalf("%s: got no panel", when)
		}
		got := map[souq.ID]SaleItem{}
		for _, it := range p.Items {
			got[it.ProductID] = it
		}
		// AAA: 8 units offered (given), 3 left: 5 sold; BBB: its stock of 4
		// when scheduled, none left.
		if ia := got[a.ID]; ia.Offered != 8 || ia.Stock != 3 || ia.Sold != 5 || ia.SellThrough != 0.625 || ia.SoldOut || ia.Name.EN != "Product AAA" {
			t.Errorf("%s: AAA got %+v", when, ia)
		}
		if ib := got[b.ID]; ib.Offered != 4 || ib.Stock != 0 || ib.Sold != 4 || !ib.SoldOut {
			t.Errorf("%s: BBB got %+v", when, ib)
		}
		if p.Running != running || p.Items[len(p.Items)-1].ProductID != b.ID {
			t.Errorf("%s: got running %v, last item %s; want %v, BBB (sold out) last", when, p.Running, p.Items[len(p.Items)-1].ProductID, running)
		}
	}
	check("during the sale", true)
	now = end.Add(3 * time.Hour)
	d.caches = panelCaches{}
	check("after the sale", false)
}

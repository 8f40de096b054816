package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Limits on sales.
const (
	MaxSaleItems    = 5000
	MaxSaleDuration = 31 * 24 * time.Hour
)

// SaleInput is what an admin sends to schedule a flash sale. Each item gives
// either explicit VAT-inclusive sale prices per market or a discount in
// percent off the regular price in every market the product is sold in.
type SaleInput struct {
	Name     souq.Localized `json:"name"`
	StartsAt time.Time      `json:"starts_at"`
	EndsAt   time.Time      `json:"ends_at"`
	Items    []SaleItem     `json:"items"`
	// Protected puts checkout behind the waiting room while the sale runs.
	Protected bool `json:"protected,omitempty"`
}

// SaleItem is one product in a sale.
type SaleItem struct {
	ProductID       souq.ID                   `json:"product_id"`
	Prices          map[souq.MarketCode]int64 `json:"prices,omitempty"`
	DiscountPercent int                       `json:"discount_percent,omitempty"`
	// Units is how many units the sale offers, for its sell-through; 0
	// takes the product's stock when the sale is scheduled.
	Units int `json:"units,omitempty"`
}

// MaxSaleUnits bounds an item's units.
const MaxSaleUnits = 1_000_000_000

// ScheduleSale validates and stores a sale. Sales may not overlap in time:
// at any moment at most one sale runs, so a shopper never wonders which of
// two banners applies.
func (s *Service) ScheduleSale(ctx context.Context, in SaleInput) (souq.Sale, error) {
	now := s.now().UTC()
	var p souq.Problems
	checkText(&p, "name.en", in.Name.EN, 1, 120)
	checkText(&p, "name.ar", in.Name.AR, 1, 120)
	switch {
	case in.StartsAt.IsZero() || in.EndsAt.IsZero():
		p.Add("starts_at", "starts_at and ends_at are required (RFC 3339 times)")
	case !in.EndsAt.After(in.StartsAt):
		p.Add("ends_at", "must be after starts_at")
	case in.EndsAt.Sub(in.StartsAt) > MaxSaleDuration:
		p.Add("ends_at", "a sale lasts at most %d days", int(MaxSaleDuration.Hours()/24))
	case !in.EndsAt.After(now):
		p.Add("ends_at", "is in the past")
	}
	if len(in.Items) == 0 || len(in.Items) > MaxSaleItems {
		p.Add("items", "must list between 1 and %d products", MaxSaleItems)
	}
	if err := p.Err(); err != nil {
		return souq.Sale{}, err
	}
	sale := souq.Sale{
		ID: souq.NewID(souq.SalePrefix), Name: in.Name, StartsAt: in.StartsAt.UTC(), EndsAt: in.EndsAt.UTC(),
		Protected: in.Protected, Prices: make(map[souq.ID]map[souq.MarketCode]int64, len(in.Items)),
		Units: make(map[souq.ID]int, len(in.Items)), CreatedAt: now,
	}
	for i, item := range in.Items {
		field := fmt.Sprintf("items[%d]", i)
		prod, err := s.store.Product(ctx, item.ProductID)
		if errors.Is(err, souq.ErrNotFound) {
			p.Add(field+".product_id", "product %q not found", item.ProductID)
			continue
		}
		if err != nil {
			return souq.Sale{}, fmt.Errorf("schedule sale: %w", err)
		}
		if _, dup := sale.Prices[prod.ID]; dup {
			p.Add(field+".product_id", "product %q is listed twice", item.ProductID)
			continue
		}
		prices, ok := salePrices(&p, field, prod, item)
		if ok {
			sale.Prices[prod.ID] = prices
		}
		switch {
		case item.Units < 0 || item.Units > MaxSaleUnits:
			p.Add(field+".units", "must be between 0 (the product's stock) and %d", MaxSaleUnits)
		case item.Units > 0:
			sale.Units[prod.ID] = item.Units
		default:
			sale.Units[prod.ID] = max(0, prod.Stock)
		}
	}
	if err := p.Err(); err != nil {
		return souq.Sale{}, err
	}
	// The store refuses an overlap in the same transaction as the write,
	// so two sales scheduled at once cannot both be stored.
	var overlap *SaleOverlapError
	err := s.store.CreateSale(ctx, sale)
	if errors.As(err, &overlap) {
		e := overlap.Other
		return souq.Sale{}, souq.Errorf(souq.ErrConflict, "sale overlaps %s (%s, %s to %s); sales may not overlap",
			e.ID, e.Name.EN, e.StartsAt.Format(time.RFC3339), e.EndsAt.Format(time.RFC3339))
	}
	if err != nil {
		return souq.Sale{}, fmt.Errorf("schedule sale: %w", err)
	}
	s.forgetSales()
	return sale, nil
}

// salePrices works out an item's sale prices, recording problems.
func salePrices(p *souq.Problems, field string, prod souq.Product, item SaleItem) (map[souq.MarketCode]int64, bool) {
	switch {
	case len(item.Prices) > 0 && item.DiscountPercent != 0:
		p.Add(field, "give either prices or discount_percent, not both")
		return nil, false
	case len(item.Prices) == 0 && (item.DiscountPercent < 1 || item.DiscountPercent > 90):
		p.Add(field+".discount_percent", "must be between 1 and 90 (or give prices)")
		return nil, false
	}
	out := make(map[souq.MarketCode]int64)
	if item.DiscountPercent != 0 {
		for code, regular := range prod.Prices {
			m := souq.MustMarket(code)
			out[code] = DiscountedPrice(regular, item.DiscountPercent, m.Currency)
		}
		return out, true
	}
	ok := true
	for code, amount := range item.Prices {
		regular, sold := prod.Prices[code]
		switch {
		case !code.Valid():
			p.Add(field+".prices."+string(code), "is not a market code")
			ok = false
		case !sold:
			p.Add(field+".prices."+string(code), "product %s is not sold in %s", prod.SKU, code)
			ok = false
		case amount < 1 || amount >= regular:
			p.Add(field+".prices."+string(code), "must be at least 1 and below the regular price %d", regular)
			ok = false
		default:
			out[code] = amount
		}
	}
	return out, ok
}

// DiscountedPrice takes percent off a VAT-inclusive regular price and rounds
// the result down to a whole unit of the currency (down to 0.050 for the
// three-decimal currencies), never below one unit: sale prices read like
// retail prices and a discount never shrinks by rounding.
func DiscountedPrice(regular int64, percent int, c souq.Currency) int64 {
	raw := regular * int64(100-percent) / 100
	step := int64(100)
	if c.Exponent() == 3 {
		step = 50
	}
	rounded := raw / step * step
	if rounded < step {
		rounded = min(step, raw)
	}
	if rounded < 1 {
		rounded = 1
	}
	return rounded
}

// Sales returns the running and scheduled sales.
func (s *Service) Sales(ctx context.Context) ([]souq.Sale, error) {
	sales, err := s.store.SalesEndingAfter(ctx, s.now())
	if err != nil {
		return nil, fmt.Errorf("list sales: %w", err)
	}
	return sales, nil
}

// SalesEndingAfter returns the sales whose end is after t, ordered by
// start: with t in the past, the sales that ended since then as well as
// the running and scheduled ones (the dashboard shows the last sale to
// end).
func (s *Service) SalesEndingAfter(ctx context.Context, t time.Time) ([]souq.Sale, error) {
	sales, err := s.store.SalesEndingAfter(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("list sales ending after %s: %w", t.Format(time.RFC3339), err)
	}
	return sales, nil
}

// CurrentSale returns the running sale, or else the next scheduled one, and
// whether there is either.
func (s *Service) CurrentSale(ctx context.Context) (souq.Sale, bool, error) {
	sales, err := s.activeSales(ctx)
	if err != nil {
		return souq.Sale{}, false, err
	}
	now := s.now()
	for _, sale := range sales {
		if now.Before(sale.EndsAt) {
			return sale, true, nil
		}
	}
	return souq.Sale{}, false, nil
}

// CancelSale deletes a sale.
func (s *Service) CancelSale(ctx context.Context, id souq.ID) error {
	err := s.store.DeleteSale(ctx, id)
	if errors.Is(err, souq.ErrNotFound) {
		return souq.Errorf(souq.ErrNotFound, "sale %q not found", id)
	}
	if err != nil {
		return fmt.Errorf("cancel sale %s: %w", id, err)
	}
	s.forgetSales()
	return nil
}

// Category keys the shop knows, with their names for shoppers.
var categoryNames = map[string]souq.Localized{
	"skincare":  {EN: "Skincare", AR: "العناية بالبشرة"},
	"makeup":    {EN: "Make-up", AR: "المكياج"},
	"haircare":  {EN: "Hair care", AR: "العناية بالشعر"},
	"bodycare":  {EN: "Body care", AR: "العناية بالجسم"},
	"suncare":   {EN: "Sun care", AR: "الحماية من الشمس"},
	"masks":     {EN: "Sheet masks", AR: "الأقنعة"},
	"fragrance": {EN: "Fragrance", AR: "العطور"},
}

// CategoryName returns a category's name for shoppers; unknown keys are shown
// as they are.
func CategoryName(key string) souq.Localized {
	if n, ok := categoryNames[key]; ok {
		return n
	}
	return souq.Localized{EN: strings.ReplaceAll(key, "-", " "), AR: key}
}

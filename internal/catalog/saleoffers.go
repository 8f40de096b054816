package catalog

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/souq-commerce/souq/internal/souq"
)

// SaleOffer is a product of a sale as a shopper sees it in one market: its
// price in the sale (also before the sale starts: the price it will have),
// the saving against the regular price and how much of the units the sale
// offered are sold.
type SaleOffer struct {
	Offer
	SalePrice       souq.Money
	Saving          souq.Money
	DiscountPercent int // the saving in whole percent of the regular price, rounded down
	// Units is how many units the sale offered (0: not recorded), and
	// SoldPercent how many of them are gone, 0–100 (-1: not known).
	Units       int
	SoldPercent int
}

// SaleOffers is the current sale with its products priced in one market.
type SaleOffers struct {
	Sale    souq.Sale
	Running bool
	Items   []SaleOffer
	// MaxDiscount is the largest DiscountPercent of the items ("up to
	// −30%").
	MaxDiscount int
}

// SaleFilter narrows the products of a sale.
type SaleFilter struct {
	Category, Brand string
}

// CurrentSaleOffers returns the running sale (or else the next scheduled
// one) with those of its products priced in m that match f: the items in
// stock first, each group by discount, largest first, then by name. ok is
// false when no sale runs or is scheduled.
func (s *Service) CurrentSaleOffers(ctx context.Context, m souq.Market, f SaleFilter) (SaleOffers, bool, error) {
	sale, ok, err := s.CurrentSale(ctx)
	if err != nil || !ok {
		return SaleOffers{}, false, err
	}
	products, err := s.saleProducts(ctx, sale)
	if err != nil {
		return SaleOffers{}, false, err
	}
	sales, err := s.activeSales(ctx)
	if err != nil {
		return SaleOffers{}, false, err
	}
	now := s.now()
	out := SaleOffers{Sale: sale, Running: sale.ActiveAt(now), Items: make([]SaleOffer, 0, len(products))}
	for _, p := range products {
		if (f.Category != "" && p.Category != f.Category) || (f.Brand != "" && !strings.EqualFold(p.Brand, f.Brand)) {
			continue
		}
		o := offer(p, m, sales, now)
		amount, priced := sale.Prices[p.ID][m.Code]
		if !o.Sold || !priced || amount >= o.RegularPrice.Amount {
			continue
		}
		it := SaleOffer{Offer: o, SalePrice: souq.M(amount, m.Currency), Units: sale.Units[p.ID], SoldPercent: -1}
		it.Saving = souq.M(o.RegularPrice.Amount-amount, m.Currency)
		it.DiscountPercent = int(it.Saving.Amount * 100 / o.RegularPrice.Amount)
		switch {
		case now.Before(sale.StartsAt):
			it.SoldPercent = 0
		case it.Units > 0:
			sold := min(it.Units, max(0, it.Units-p.Stock))
			it.SoldPercent = sold * 100 / it.Units
		}
		out.MaxDiscount = max(out.MaxDiscount, it.DiscountPercent)
		out.Items = append(out.Items, it)
	}
	slices.SortFunc(out.Items, func(a, b SaleOffer) int {
		if a.InStock() != b.InStock() {
			if a.InStock() {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.DiscountPercent, a.DiscountPercent), cmp.Compare(a.Name.EN, b.Name.EN), cmp.Compare(a.ID, b.ID))
	})
	return out, true, nil
}

// listSale is List of the products on sale now (in.Sale): the running
// sale's items matching q's category, brand and search terms, sorted by
// q.Sort and paged by q.Offset and q.Limit.
func (s *Service) listSale(ctx context.Context, in ListInput, q Query) (Page, error) {
	page := Page{Items: []Offer{}, Page: in.Page, PageSize: q.Limit, TotalExact: true}
	offers, ok, err := s.CurrentSaleOffers(ctx, in.Market, SaleFilter{Category: q.Category, Brand: q.Brand})
	if err != nil || !ok || !offers.Running {
		return page, err
	}
	var items []Offer
	for _, it := range offers.Items {
		if it.OnSale && matchesTerms(SearchText(it.Product), q.Terms) {
			items = append(items, it.Offer)
		}
	}
	switch q.Sort {
	case SortName:
		slices.SortStableFunc(items, func(a, b Offer) int { return cmp.Or(cmp.Compare(a.Name.EN, b.Name.EN), cmp.Compare(a.ID, b.ID)) })
	case SortNewest:
		slices.SortStableFunc(items, func(a, b Offer) int { return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID)) })
	case SortPriceAsc:
		slices.SortStableFunc(items, func(a, b Offer) int {
			return cmp.Or(cmp.Compare(a.Price.Amount, b.Price.Amount), cmp.Compare(a.ID, b.ID))
		})
	case SortPriceDsc:
		slices.SortStableFunc(items, func(a, b Offer) int {
			return cmp.Or(cmp.Compare(b.Price.Amount, a.Price.Amount), cmp.Compare(b.ID, a.ID))
		})
	}
	page.Total = len(items)
	if q.Offset < len(items) {
		page.Items = items[q.Offset:min(len(items), q.Offset+q.Limit)]
	}
	return page, nil
}

// matchesTerms reports whether every term is the prefix of a word of text
// (normalised search text), as the stores' search matches.
func matchesTerms(text string, terms []string) bool {
	words := strings.Fields(text)
	for _, t := range terms {
		if !slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, t) }) {
			return false
		}
	}
	return true
}

// saleProducts returns the products of sale, through the listings' cache:
// a listing's lifetime (the stock they show may lag as a listing's does),
// and unusable at once after a product change made through the Service.
func (s *Service) saleProducts(ctx context.Context, sale souq.Sale) ([]souq.Product, error) {
	return s.listings.sales.fetch(ctx, sale.ID, s.listings.generation(), func(ctx context.Context) ([]souq.Product, error) {
		ids := make([]souq.ID, 0, len(sale.Prices))
		for id := range sale.Prices {
			ids = append(ids, id)
		}
		products, err := s.store.ProductsByID(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("sale products: %w", err)
		}
		return products, nil
	})
}

package storefront

import (
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storefront/i18n"
)

// homeSaleItems is how many of a running sale's products the home page
// shows above the featured ones.
const homeSaleItems = 8

// saleCard is a product card of the sale page: a card with its badge
// ("−30%"), the saving and the sell-through bar.
type saleCard struct {
	card
	Discount    int // percent
	Saving      souq.Money
	SoldPercent int // 0–100
	SoldKnown   bool
	// Coming is the sale price of a sale not started yet: the card shows
	// the price to pay now and this one as what the sale will bring.
	Coming souq.Money
}

type salePage struct {
	base
	Sale       *saleBanner
	Heading    string
	Items      []saleCard
	Categories []option // the filter: "" for all, then the categories with sale items
	Filter     bool     // the sale spans two categories or more
	Empty      string
}

// salePageOf renders /{lang}/sale: the current sale's products in the
// visitor's market, narrowed by ?category=.
func (s *Storefront) salePageOf(v *visit) error {
	banner, err := s.sale(v)
	if err != nil {
		return err
	}
	if banner == nil {
		return souq.Errorf(souq.ErrNotFound, "no sale is running or scheduled")
	}
	all := banner.offers
	category := v.r.URL.Query().Get("category")
	p := salePage{base: s.base(v, banner.Name), Sale: banner, Heading: banner.Name}
	p.Categories = append(p.Categories, option{Value: "", Label: i18n.T(v.lang, "sale.all"), Selected: category == ""})
	seen := map[string]bool{}
	for _, it := range all.Items {
		if !seen[it.Category] {
			seen[it.Category] = true
			p.Categories = append(p.Categories, option{Value: it.Category, Label: catalog.CategoryName(it.Category).In(v.lang), Selected: it.Category == category})
		}
		if category == "" || it.Category == category {
			p.Items = append(p.Items, s.saleCard(v, it))
		}
	}
	p.Filter = len(p.Categories) > 2
	if len(p.Items) == 0 {
		p.Empty = i18n.T(v.lang, "sale.empty")
	}
	s.render(v, 200, "sale", p)
	return nil
}

// saleCard is it as a card. Before the sale starts its card shows the
// coming price beside the regular one.
func (s *Storefront) saleCard(v *visit, it catalog.SaleOffer) saleCard {
	c := saleCard{card: s.cards(v, []catalog.Offer{it.Offer})[0], Discount: it.DiscountPercent, Saving: it.Saving,
		SoldPercent: it.SoldPercent, SoldKnown: it.SoldPercent >= 0}
	if it.OnSale {
		c.Price = it.SalePrice
	} else {
		c.Coming = it.SalePrice
	}
	return c
}

// saleItems returns the first homeSaleItems products in stock of the sale
// of banner for the home page (none when no sale runs).
func (s *Storefront) saleItems(v *visit, banner *saleBanner) []saleCard {
	if banner == nil || !banner.Running {
		return nil
	}
	var out []saleCard
	for _, it := range banner.offers.Items {
		if len(out) == homeSaleItems || !it.InStock() {
			break
		}
		out = append(out, s.saleCard(v, it))
	}
	return out
}

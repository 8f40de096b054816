package storefront

import (
	"github.com/souq-commerce/souq/internal/delivery"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storefront/i18n"
)

// shipping is what delivery costs a basket and when it arrives, as pages
// show it.
type shipping struct {
	// Fee is the delivery fee the basket pays (zero when Free).
	Fee  souq.Money
	Free bool
	// FreeOver is the free-delivery threshold; zero amount: never free.
	FreeOver souq.Money
	// CODFee is added when paying cash on delivery; zero amount: none.
	CODFee souq.Money
	// Estimate is "Arrives tomorrow in Riyadh" or "Arrives in 2–3 days in
	// Tabuk", in the page's language.
	Estimate string
}

// shipping quotes a basket worth subtotal delivered to city (the market's
// main city when empty) in the visit's market; nil when the shop has no
// delivery settings for it (delivery is free).
func (s *Storefront) shipping(v *visit, subtotal int64, city string) (*shipping, error) {
	if s.Delivery == nil {
		return nil, nil
	}
	st, ok, err := s.Delivery.For(v.ctx(), v.market.Code)
	if err != nil || !ok {
		return nil, err
	}
	if city == "" && len(v.market.Cities) > 0 {
		city = v.market.Cities[0] // the capital
	}
	q, err := delivery.Quote(st, subtotal, souq.PayCard, city, s.Catalog.Now())
	if err != nil {
		return nil, err
	}
	c := v.market.Currency
	sh := &shipping{Fee: souq.M(q.Fee, c), Free: q.Free, FreeOver: souq.M(st.FreeOver, c), CODFee: souq.M(st.CODFee, c)}
	sh.Estimate = i18n.T(v.lang, "delivery.in_city", arrival(v.lang, q.DaysFromToday), cityName(v.lang, city))
	return sh, nil
}

// arrival says when an order arrives, min to max days from today.
func arrival(lang souq.Lang, d delivery.Days) string {
	switch {
	case d.MaxDays == 0:
		return i18n.T(lang, "delivery.today")
	case d.MinDays == 1 && d.MaxDays == 1:
		return i18n.T(lang, "delivery.tomorrow")
	case d.MinDays == d.MaxDays:
		return i18n.T(lang, "delivery.days", i18n.Number(lang, d.MaxDays))
	}
	return i18n.T(lang, "delivery.days_range", i18n.Number(lang, d.MinDays), i18n.Number(lang, d.MaxDays))
}

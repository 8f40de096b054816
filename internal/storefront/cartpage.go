package storefront

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/bidi"
	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storefront/i18n"
)

// maxQuantity is the most units of one product a cart line holds.
const maxQuantity = cart.MaxLineQuantity

// cartLifetime is how long the cart cookie lasts: as long as an idle cart.
const cartLifetime = cart.IdleLifetime

// cartID reads the cart cookie; "" when there is none or it is malformed.
func cartID(r *http.Request) souq.ID {
	c, err := r.Cookie(cookieCart)
	if err != nil || !strings.HasPrefix(c.Value, souq.CartPrefix) || len(c.Value) > 100 {
		return ""
	}
	return souq.ID(c.Value)
}

// currentCart returns the shopper's cart priced in the visit's market
// (moving it there if the shopper changed market); ok is false when there
// is no cart.
func (s *Storefront) currentCart(v *visit) (view cart.View, ok bool, err error) {
	id := cartID(v.r)
	if id == "" {
		return cart.View{}, false, nil
	}
	view, err = s.Carts.Get(v.ctx(), id)
	if errors.Is(err, souq.ErrNotFound) {
		v.setCookie(cookieCart, "", -1)
		return cart.View{}, false, nil
	}
	if err == nil && view.Market.Code != v.market.Code {
		view, err = s.Carts.SetMarket(v.ctx(), id, string(v.market.Code))
	}
	return view, err == nil, err
}

// ensureCart returns the shopper's cart id, creating a cart in the visit's
// market when there is none.
func (s *Storefront) ensureCart(v *visit) (souq.ID, error) {
	if _, ok, err := s.currentCart(v); err != nil || ok {
		return cartID(v.r), err
	}
	view, err := s.Carts.Create(v.ctx(), string(v.market.Code))
	if err != nil {
		return "", err
	}
	v.setCookie(cookieCart, string(view.ID), cartLifetime)
	return view.ID, nil
}

// parseQuantity reads a quantity field (Arabic-Indic digits allowed); ok is
// false unless it is a whole number from min to maxQuantity.
func parseQuantity(s string, min int) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(i18n.ASCIIDigits(s)))
	if err != nil || n < min || n > maxQuantity {
		return 0, false
	}
	return n, true
}

// cartLine is one line of the cart page.
type cartLine struct {
	ProductID         souq.ID
	URL, Image, Name  string
	SKU               string
	Quantity          int
	Unit, Regular     souq.Money
	Total             souq.Money
	OnSale, Available bool
	Shortfall         bool
	Stock             int
}

type cartPage struct {
	base
	Lines      []cartLine
	Total, VAT souq.Money
	Items      int
	// Shipping is the cart's delivery (nil: none configured) and ToPay
	// the total with its delivery fee.
	Shipping    *shipping
	ToPay       souq.Money
	Attention   bool // a line is unavailable or short of stock
	SetAction   string
	CheckoutURL string
}

func (s *Storefront) lines(v *visit, view cart.View) ([]cartLine, bool) {
	attention := false
	out := make([]cartLine, 0, len(view.Lines))
	for _, l := range view.Lines {
		cl := cartLine{ProductID: l.ProductID, Quantity: l.Quantity, Available: l.Available, Shortfall: l.Shortfall,
			Unit: l.Offer.Price, Regular: l.Offer.RegularPrice, OnSale: l.Offer.OnSale, Total: l.LineTotal, Stock: l.Offer.Stock}
		if l.Offer.ID != "" {
			cl.URL, cl.Image, cl.Name, cl.SKU = v.url("/p/"+l.Offer.Slug), l.Offer.Image, l.Offer.Name.In(v.lang), l.Offer.SKU
		} else {
			cl.Name = i18n.T(v.lang, "cart.gone")
		}
		attention = attention || !l.Available || l.Shortfall
		out = append(out, cl)
	}
	return out, attention
}

func (s *Storefront) cartPage(v *visit) error {
	view, ok, err := s.currentCart(v)
	if err != nil {
		return err
	}
	s.renderCart(v, view, ok, http.StatusOK, "")
	return nil
}

func (s *Storefront) renderCart(v *visit, view cart.View, ok bool, status int, alert string) {
	p := cartPage{base: s.base(v, i18n.T(v.lang, "cart.title")), SetAction: v.url("/cart/set"), CheckoutURL: v.url("/checkout"),
		Total: souq.M(0, v.market.Currency), VAT: souq.M(0, v.market.Currency)}
	if ok {
		p.Lines, p.Attention = s.lines(v, view)
		p.Total, p.VAT, p.Items = view.Total, view.VAT, view.Items
		if sh, err := s.shipping(v, view.Total.Amount, ""); err != nil {
			s.log.Error("quote the cart's delivery", "err", err)
		} else if sh != nil {
			p.Shipping = sh
			p.ToPay = souq.M(view.Total.Amount+sh.Fee.Amount, view.Total.Currency)
			p.VAT.Amount += souq.VATIncluded(sh.Fee.Amount, v.market.VATBasisPoints)
		}
	}
	p.Alert = alert
	if p.Alert == "" && p.Attention {
		p.Alert = i18n.T(v.lang, "cart.attention")
	}
	if p.Track != nil && status == http.StatusOK {
		if ev, ok := s.cartChange(v); ok {
			p.Track.Events = append(p.Track.Events, ev)
		}
		p.Track.Events = append(p.Track.Events, trackEvent{Event: "Cart Viewed", Properties: cartEventProps(view, ok, v.market)})
	}
	s.render(v, status, "cart", p)
}

// cartEventProps are the properties of "Cart Viewed" and "Checkout Started".
func cartEventProps(view cart.View, ok bool, m souq.Market) cartProps {
	p := cartProps{Value: json.Number(souq.M(0, m.Currency).Decimal()), Currency: m.Currency, Products: []trackProduct{}}
	if !ok {
		return p
	}
	p.Value = json.Number(view.Total.Decimal())
	for _, l := range view.Lines {
		if !l.Available {
			continue
		}
		tp := productProps(l.Offer)
		tp.Currency, tp.Quantity = "", l.Quantity
		p.Products = append(p.Products, tp)
	}
	return p
}

// cartAdd adds a product to the cart from the product page's form. Only
// product_id and quantity are read: the price is always the catalog's.
func (s *Storefront) cartAdd(v *visit) error {
	pid := v.r.PostFormValue("product_id")
	if !strings.HasPrefix(pid, souq.ProductPrefix) {
		return souq.Errorf(souq.ErrNotFound, "no product %q", pid)
	}
	o, err := s.Catalog.Get(v.ctx(), pid, v.market)
	if err != nil {
		return err
	}
	raw := v.r.PostFormValue("quantity")
	qty, ok := parseQuantity(raw, 1)
	switch {
	case !o.Sold:
		s.renderProduct(v, o, http.StatusUnprocessableEntity, "1", i18n.T(v.lang, "product.not_sold", v.market.Name.In(v.lang)))
		return nil
	case !o.InStock():
		s.renderProduct(v, o, http.StatusConflict, "1", i18n.T(v.lang, "product.sold_out_message"))
		return nil
	case !ok:
		s.renderProduct(v, o, http.StatusUnprocessableEntity, clipField(raw), i18n.T(v.lang, "quantity.range", i18n.Number(v.lang, min(o.Stock, maxQuantity))))
		return nil
	case qty > o.Stock:
		s.renderProduct(v, o, http.StatusConflict, strconv.Itoa(qty), i18n.T(v.lang, "product.only_left", i18n.Number(v.lang, o.Stock)))
		return nil
	}
	id, err := s.ensureCart(v)
	if err != nil {
		return err
	}
	_, err = s.Carts.AddItem(v.ctx(), id, o.ID, qty)
	switch {
	case errors.Is(err, souq.ErrOutOfStock):
		s.renderProduct(v, o, http.StatusConflict, strconv.Itoa(qty), i18n.T(v.lang, "product.in_cart_limit", i18n.Number(v.lang, o.Stock)))
		return nil
	case errors.Is(err, souq.ErrInvalid):
		s.renderProduct(v, o, http.StatusUnprocessableEntity, strconv.Itoa(qty), i18n.T(v.lang, "cart.limit", i18n.Number(v.lang, maxQuantity), i18n.Number(v.lang, cart.MaxLines)))
		return nil
	case err != nil:
		return err
	}
	s.noteCartChange(v, o.ID, qty)
	return v.redirect(v.url("/cart"))
}

// cartSet changes a line's quantity; 0 removes it.
func (s *Storefront) cartSet(v *visit) error {
	view, ok, err := s.currentCart(v)
	if err != nil {
		return err
	}
	if !ok {
		return v.redirect(v.url("/cart"))
	}
	pid := souq.ID(v.r.PostFormValue("product_id"))
	var line *cart.Line
	for i := range view.Lines {
		if view.Lines[i].ProductID == pid {
			line = &view.Lines[i]
		}
	}
	if line == nil { // already removed, or a tampered field: nothing to change
		return v.redirect(v.url("/cart"))
	}
	qty, ok := parseQuantity(v.r.PostFormValue("quantity"), 0)
	if !ok {
		s.renderCart(v, view, true, http.StatusUnprocessableEntity, i18n.T(v.lang, "quantity.range_cart", i18n.Number(v.lang, maxQuantity)))
		return nil
	}
	_, err = s.Carts.SetItem(v.ctx(), view.ID, pid, qty)
	switch {
	case errors.Is(err, souq.ErrOutOfStock):
		s.renderCart(v, view, true, http.StatusConflict, i18n.T(v.lang, "cart.only_left", offerName(v, line.Offer), i18n.Number(v.lang, line.Offer.Stock)))
		return nil
	case errors.Is(err, souq.ErrInvalid):
		s.renderCart(v, view, true, http.StatusUnprocessableEntity, i18n.T(v.lang, "quantity.range_cart", i18n.Number(v.lang, maxQuantity)))
		return nil
	case err != nil:
		return err
	}
	s.noteCartChange(v, pid, qty-line.Quantity)
	return v.redirect(v.url("/cart"))
}

// noteCartChange remembers, for the cart page the shopper is sent to next,
// a change of delta units of a product that the server accepted: that
// page sends "Product Added" or "Product Removed". Nothing is kept without
// analytics consent.
func (s *Storefront) noteCartChange(v *visit, pid souq.ID, delta int) {
	if v.visitor == "" || delta == 0 {
		return
	}
	kind := "a"
	if delta < 0 {
		kind, delta = "r", -delta
	}
	v.setCookie(cookieCartEvent, kind+"."+string(pid)+"."+strconv.Itoa(delta), cartEventLifetime)
}

// cartEventLifetime bounds the cookie of a cart change not yet reported.
const cartEventLifetime = 10 * time.Minute

// cartChange reads and clears the change noteCartChange kept: the event
// the cart page sends. ok is false when there is none or it cannot be read
// (a product since deleted).
func (s *Storefront) cartChange(v *visit) (trackEvent, bool) {
	c, err := v.r.Cookie(cookieCartEvent)
	if err != nil {
		return trackEvent{}, false
	}
	v.setCookie(cookieCartEvent, "", -1)
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 || !strings.HasPrefix(parts[1], souq.ProductPrefix) {
		return trackEvent{}, false
	}
	qty, err := strconv.Atoi(parts[2])
	if err != nil || qty < 1 || qty > maxQuantity {
		return trackEvent{}, false
	}
	name := map[string]string{"a": "Product Added", "r": "Product Removed"}[parts[0]]
	if name == "" {
		return trackEvent{}, false
	}
	o, err := s.Catalog.Get(v.ctx(), parts[1], v.market)
	if err != nil {
		return trackEvent{}, false
	}
	tp := productProps(o)
	tp.Quantity = qty
	return trackEvent{Event: name, Properties: tp}, true
}

func offerName(v *visit, o catalog.Offer) string {
	if o.ID == "" {
		return i18n.T(v.lang, "cart.gone")
	}
	return bidi.Marks(langDir(v.lang), o.Name.In(v.lang))
}

// clipField shortens a value echoed back into a form field.
func clipField(s string) string {
	if r := []rune(s); len(r) > 20 {
		return string(r[:20])
	}
	return s
}

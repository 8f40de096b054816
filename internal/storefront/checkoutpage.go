package storefront

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/delivery"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storefront/i18n"
)

// checkoutForm holds the checkout fields as the shopper typed them.
type checkoutForm struct {
	Name, Phone, Email, City, Area, Address, Notes, Payment string
	// Key makes a double-submitted form place one order: it is the
	// Idempotency key of the order, random per rendered form.
	Key string
}

type checkoutPage struct {
	base
	Lines       []cartLine
	Total, VAT  souq.Money
	Form        checkoutForm
	Errors      map[string]string // field name → message
	Cities      []option
	PhonePrefix string
	PhoneDigits int
	Action      string
	CartURL     string
	// Card is true when the shop takes cards, CardTest when through the
	// built-in test provider.
	Card, CardTest bool
	// Shipping is the delivery to the chosen city (the capital before one
	// is chosen; nil: none configured). ToPay is the total with the
	// delivery fee and, for cash on delivery, its fee.
	Shipping *shipping
	ToPay    souq.Money
	COD      bool // cash on delivery is the chosen method
}

func (s *Storefront) checkoutPage(v *visit) error {
	view, ok, err := s.currentCart(v)
	if err != nil {
		return err
	}
	if !ok || len(view.Lines) == 0 {
		return v.redirect(v.url("/cart"))
	}
	if s.Room != nil {
		// During a protected sale checkout is reached through the queue.
		if err := s.Room.Valid(v.ctx(), admissionCookie(v.r), view.ID); err != nil {
			if s.requeue(v, err) {
				return v.redirect(v.url("/queue"))
			}
			return err
		}
	}
	p := s.checkoutView(v, view, checkoutForm{Payment: string(souq.PayCashOnDelivery)}, nil)
	if p.Track != nil {
		p.Track.Events = append(p.Track.Events, trackEvent{Event: "Checkout Started", Properties: cartEventProps(view, true, v.market)})
	}
	s.render(v, http.StatusOK, "checkout", p)
	return nil
}

func (s *Storefront) checkoutView(v *visit, view cart.View, f checkoutForm, errs map[string]string) checkoutPage {
	f.Key = souq.NewToken()
	p := checkoutPage{base: s.base(v, i18n.T(v.lang, "checkout.title")), Form: f, Errors: errs,
		PhonePrefix: v.market.PhonePrefix, PhoneDigits: v.market.PhoneDigits, Action: v.url("/checkout"), CartURL: v.url("/cart")}
	p.Card, p.CardTest = s.cardPayments()
	v.toProvider = p.Card && !p.CardTest // placing the order may redirect to the provider's page
	p.Lines, _ = s.lines(v, view)
	p.Total, p.VAT, p.ToPay = view.Total, view.VAT, view.Total
	p.COD = !p.Card || f.Payment != string(souq.PayCard)
	city := ""
	if v.market.HasCity(f.City) {
		city = f.City
	}
	if sh, err := s.shipping(v, view.Total.Amount, city); err != nil {
		s.log.Error("quote the checkout's delivery", "err", err)
	} else if sh != nil {
		p.Shipping = sh
		fees := sh.Fee.Amount
		if p.COD {
			fees += sh.CODFee.Amount
		}
		p.ToPay.Amount += fees
		p.VAT.Amount += souq.VATIncluded(fees, v.market.VATBasisPoints)
	}
	for _, c := range v.market.Cities {
		p.Cities = append(p.Cities, option{Value: c, Label: cityName(v.lang, c), Selected: strings.EqualFold(c, f.City)})
	}
	return p
}

// checkoutPlace validates the checkout form, places the order from the
// cart and redirects to the order's page, or for a card order waiting for
// its payment to the payment provider's page. On any problem before the
// order is placed it shows the form again with the shopper's values and
// messages, and orders nothing; the cart is left as it is. A card declined
// when the order is placed shows the form again too (cardDeclined).
func (s *Storefront) checkoutPlace(v *visit) error {
	view, ok, err := s.currentCart(v)
	if err != nil {
		return err
	}
	f := readCheckoutForm(v.r)
	// An empty cart with a form key may be the second post of a form that
	// already placed its order: PlaceOrder replays that order.
	if !ok || (len(view.Lines) == 0 && !validToken(f.Key)) {
		return v.redirect(v.url("/cart"))
	}
	cards, _ := s.cardPayments()
	phone, errs := validateCheckout(v.lang, v.market, f, cards)
	if len(errs) > 0 {
		s.checkoutAgain(v, view, f, errs, http.StatusUnprocessableEntity, i18n.T(v.lang, "checkout.error.summary"))
		return nil
	}
	req := checkout.OrderRequest{
		Market: string(v.market.Code), CartID: view.ID,
		Customer:        souq.Customer{Name: strings.TrimSpace(f.Name), Email: strings.TrimSpace(f.Email), Phone: phone},
		ShippingAddress: souq.Address{Line1: f.Address, Line2: f.Notes, Area: f.Area, City: f.City, Country: v.market.Code},
		Payment:         checkout.PaymentRequest{Method: souq.PayCashOnDelivery},
		Language:        v.lang, // the order's e-mails speak the page's language
	}
	if f.Payment == string(souq.PayCard) {
		req.Payment = s.cardRequest(v)
	}
	if v.visitor != "" { // "Order Completed" joins the visit
		req.Context = &souq.Visitor{AnonymousID: v.visitor}
	}
	var idem *checkout.Idempotency
	if validToken(f.Key) {
		body, err := json.Marshal(req)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		idem = &checkout.Idempotency{Key: "storefront:" + f.Key, Hash: hex.EncodeToString(sum[:]), Render: renderPlaced}
	}
	res, queued, err := s.placeOrder(v, req, idem)
	switch {
	case queued:
		return v.redirect(v.url("/queue"))
	case err != nil && res.Placed.Order.ID != "":
		// The order committed; its card payment could not be started.
		return s.paymentNotStarted(v, f, res.Placed, err)
	case err != nil:
		return s.checkoutFailed(v, f, err)
	case res.Replay != nil:
		var ref placedRef
		if err := json.Unmarshal(res.Replay.Body, &ref); err != nil {
			return err
		}
		return s.placedAgain(v, f, ref)
	}
	o, token := res.Placed.Order, res.Placed.AccessToken
	v.setCookie(cookieCart, "", -1) // the cart became the order
	if to, ok := s.providerPage(o, res.Action); ok {
		return v.toProviderPage(to, o.ID, token)
	}
	return v.redirect(v.orderURL(o.ID, token))
}

// placedAgain answers a form posted again after it placed its order (a
// double click, a reload): the order's page, or, if the order's card was
// declined, the form again as the first answer showed it.
func (s *Storefront) placedAgain(v *visit, f checkoutForm, ref placedRef) error {
	if o, err := s.Checkout.Order(v.ctx(), ref.ID, ref.Token); err == nil && declined(o) {
		return s.cardDeclined(v, f, o)
	}
	v.setCookie(cookieCart, "", -1) // the cart became the order
	return v.redirect(v.orderURL(ref.ID, ref.Token))
}

// paymentNotStarted answers a card order that committed but whose payment
// could not be started. A card declined at once (or refused by the
// provider) released the order: the form is shown again. Otherwise (the
// provider could not be reached, or its answer not recorded) the order
// waits for its payment, and its page offers to pay again.
func (s *Storefront) paymentNotStarted(v *visit, f checkoutForm, placed checkout.Placed, err error) error {
	if errors.Is(err, souq.ErrPayment) || errors.Is(err, souq.ErrInvalid) {
		return s.cardDeclined(v, f, placed.Order)
	}
	if !errors.Is(err, souq.ErrUnavailable) {
		s.log.Error("start the payment of a card order", "order", placed.Order.ID, "err", err)
	}
	v.setCookie(cookieCart, "", -1) // the cart became the order
	return v.redirect(v.orderURL(placed.Order.ID, placed.AccessToken))
}

// cardDeclined shows the checkout form again after the card of order o was
// declined when it was placed. The order was released, but placing it
// emptied the cart: its products are put back first (refill), so the
// shopper can try another card or cash on delivery. Should none go back,
// a page says so instead.
func (s *Storefront) cardDeclined(v *visit, f checkoutForm, o souq.Order) error {
	view, ok := s.refill(v, o)
	if !ok {
		title := i18n.T(v.lang, "checkout.declined.title")
		p := errorPage{base: s.base(v, title), Status: http.StatusPaymentRequired, Heading: title}
		p.Alert = i18n.T(v.lang, "checkout.error.declined_cart_gone")
		s.render(v, http.StatusPaymentRequired, "error", p)
		return nil
	}
	s.checkoutAgain(v, view, f, nil, http.StatusPaymentRequired, i18n.T(v.lang, "checkout.error.declined"))
	return nil
}

// refill puts the products of released order o back in the shopper's
// cart, creating one if it is gone. It sets each line's quantity, so
// refilling twice (a form posted twice) changes nothing. ok is false when
// the cart is left empty.
func (s *Storefront) refill(v *visit, o souq.Order) (cart.View, bool) {
	id, err := s.ensureCart(v)
	if err != nil {
		s.log.Error("put a declined order's products back in the cart", "order", o.ID, "err", err)
		return cart.View{}, false
	}
	for _, l := range o.Lines {
		if _, err := s.Carts.SetItem(v.ctx(), id, l.ProductID, l.Quantity); err != nil {
			s.log.Warn("put a declined order's product back in the cart", "order", o.ID, "product", l.ProductID, "err", err)
		}
	}
	view, err := s.Carts.Get(v.ctx(), id)
	if err != nil || len(view.Lines) == 0 {
		return cart.View{}, false
	}
	return view, true
}

// placedRef is what a checkout form's idempotency key stores: where the
// order it placed can be read.
type placedRef struct {
	ID    souq.ID `json:"id"`
	Token string  `json:"token"`
}

func renderPlaced(p checkout.Placed) (int, []byte, error) {
	body, err := json.Marshal(placedRef{ID: p.Order.ID, Token: p.AccessToken})
	return http.StatusSeeOther, body, err
}

// checkoutFailed shows the form again after the checkout refused the
// order: out of stock (naming the product), a field the service rejected,
// or a cart that changed.
func (s *Storefront) checkoutFailed(v *visit, f checkoutForm, err error) error {
	view, ok, verr := s.currentCart(v)
	if verr != nil {
		return verr
	}
	if !ok || len(view.Lines) == 0 {
		return v.redirect(v.url("/cart"))
	}
	var e *souq.Error
	switch {
	case errors.Is(err, souq.ErrOutOfStock):
		name, left := i18n.T(v.lang, "cart.gone"), 0
		if errors.As(err, &e) {
			if pid, ok := e.Extra["product_id"].(souq.ID); ok {
				if p, perr := s.Catalog.Product(v.ctx(), string(pid)); perr == nil {
					name = p.Name.In(v.lang)
				}
			}
			left, _ = e.Extra["available"].(int)
		}
		s.checkoutAgain(v, view, f, nil, http.StatusConflict, i18n.T(v.lang, "checkout.error.out_of_stock", name, i18n.Number(v.lang, left)))
	case errors.Is(err, souq.ErrKeyInFlight):
		v.w.Header().Set("Retry-After", "1")
		s.checkoutAgain(v, view, f, nil, http.StatusConflict, i18n.T(v.lang, "checkout.error.in_flight"))
	case errors.Is(err, souq.ErrKeyReused):
		s.checkoutAgain(v, view, f, nil, http.StatusConflict, i18n.T(v.lang, "checkout.error.resubmit"))
	case errors.Is(err, souq.ErrInvalid) && errors.As(err, &e) && e.Extra[delivery.CODLimitExtra] != nil:
		limit, _ := e.Extra[delivery.CODLimitExtra].(souq.Money)
		msg := i18n.T(v.lang, "checkout.error.cod_limit", limit.Format(v.lang))
		s.checkoutAgain(v, view, f, map[string]string{"payment": msg}, http.StatusUnprocessableEntity, msg)
	case errors.Is(err, souq.ErrInvalid) && errors.As(err, &e):
		errs := map[string]string{}
		for _, fe := range e.Fields {
			if field, ok := serviceFields[fe.Field]; ok {
				errs[field] = i18n.T(v.lang, "checkout.error."+field, v.market.PhonePrefix, i18n.Number(v.lang, v.market.PhoneDigits))
			}
		}
		msg := i18n.T(v.lang, "checkout.error.summary")
		if len(errs) == 0 { // the cart's contents: a product gone or not sold here
			msg = i18n.T(v.lang, "checkout.error.cart_changed")
		}
		s.checkoutAgain(v, view, f, errs, http.StatusUnprocessableEntity, msg)
	default:
		return err
	}
	return nil
}

// serviceFields maps the checkout service's field names to the form's.
var serviceFields = map[string]string{
	"customer.name": "name", "customer.phone": "phone", "customer.email": "email",
	"shipping_address.city": "city", "shipping_address.area": "area",
	"shipping_address.line1": "address", "shipping_address.line2": "notes",
}

func (s *Storefront) checkoutAgain(v *visit, view cart.View, f checkoutForm, errs map[string]string, status int, alert string) {
	p := s.checkoutView(v, view, f, errs)
	p.Alert = alert
	s.render(v, status, "checkout", p)
}

func readCheckoutForm(r *http.Request) checkoutForm {
	get := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return checkoutForm{Name: get("name"), Phone: get("phone"), Email: get("email"), City: get("city"), Area: get("area"),
		Address: get("address"), Notes: get("notes"), Payment: get("payment"), Key: get("key")}
}

// validateCheckout checks the form as the checkout service will, with
// messages in the shopper's language, and returns the full phone number;
// cards says whether the shop takes cards.
func validateCheckout(lang souq.Lang, m souq.Market, f checkoutForm, cards bool) (string, map[string]string) {
	errs := map[string]string{}
	bad := func(field string, args ...any) { errs[field] = i18n.T(lang, "checkout.error."+field, args...) }
	if n := utf8.RuneCountInString(f.Name); n < 2 || n > 100 {
		bad("name")
	}
	digits, ok := localPhone(f.Phone, m)
	if !ok {
		bad("phone", m.PhonePrefix, i18n.Number(lang, m.PhoneDigits))
	}
	if f.Email != "" && !checkout.ValidEmail(f.Email) {
		bad("email")
	}
	if !m.HasCity(f.City) {
		bad("city")
	}
	if n := utf8.RuneCountInString(f.Area); n < 2 || n > 100 {
		bad("area")
	}
	if n := utf8.RuneCountInString(f.Address); n < 3 || n > 200 {
		bad("address")
	}
	if utf8.RuneCountInString(f.Notes) > 200 {
		bad("notes")
	}
	switch f.Payment {
	case string(souq.PayCashOnDelivery):
	case string(souq.PayCard):
		if !cards {
			errs["payment"] = i18n.T(lang, "checkout.error.card_unavailable")
		}
	default:
		bad("payment")
	}
	return m.PhonePrefix + digits, errs
}

// localPhone reads the local part of a phone number: the market's number
// of digits (Arabic-Indic digits, spaces and dashes allowed). A leading
// trunk 0 or the country code typed out of habit is dropped.
func localPhone(s string, m souq.Market) (string, bool) {
	var b strings.Builder
	for _, r := range i18n.ASCIIDigits(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '+':
		default:
			return "", false
		}
	}
	d := b.String()
	cc := strings.TrimPrefix(m.PhonePrefix, "+")
	switch {
	case len(d) == m.PhoneDigits+len(cc)+2 && strings.HasPrefix(d, "00"+cc):
		d = d[2+len(cc):]
	case len(d) == m.PhoneDigits+len(cc) && strings.HasPrefix(d, cc):
		d = d[len(cc):]
	case len(d) == m.PhoneDigits+1 && d[0] == '0':
		d = d[1:]
	}
	if len(d) != m.PhoneDigits || d[0] == '0' {
		return "", false
	}
	return d, true
}

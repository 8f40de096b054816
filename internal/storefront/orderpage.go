package storefront

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/payment"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storefront/i18n"
)

// Card payments in the storefront
//
// A card order is placed from the checkout form like any other; the
// checkout service commits it pending payment (its stock held) and starts
// the payment. With a real provider the storefront sends no token: the
// shopper is redirected to the provider's page, and the provider sends the
// shopper back to the order's return page. The access token never goes to
// the provider: the pay cookie carries it from the redirect to the return
// page, which reads the payment back from the provider (Refresh) and
// redirects to the order page. An order still waiting for its payment
// reloads itself every few seconds and offers to pay again. The built-in
// test provider is paid at once with its test token.

const (
	// testProvider is the name of payment.TestProvider, paid at once with
	// payment.TokenOK and never redirecting.
	testProvider = "test"
	// payCookieLifetime bounds the pay cookie: longer than an order is held
	// unpaid (checkout.DefaultPaymentTimeout unless configured).
	payCookieLifetime = time.Hour
	// pendingRefresh is how often, in seconds, the page of an order waiting
	// for its payment reloads itself.
	pendingRefresh = 10
)

// cardPayments reports whether the shop takes cards, and whether through the
// built-in test provider.
func (s *Storefront) cardPayments() (ok, test bool) {
	name, ok := s.Checkout.CardPayments()
	return ok, ok && name == testProvider
}

// cardRequest is the payment of a card order placed or paid from a page in
// v's language. A real provider gets no token: the shopper pays on its
// page. ReturnURL is left to the service's default, the order's return
// page.
func (s *Storefront) cardRequest(v *visit) checkout.PaymentRequest {
	req := checkout.PaymentRequest{Method: souq.PayCard, Language: string(v.lang)}
	if _, test := s.cardPayments(); test {
		req.Token = payment.TokenOK
	}
	return req
}

// providerPage returns where the checkout service sends the shopper to pay
// an order still pending: an absolute https address, from the service
// only, never from the request.
func (s *Storefront) providerPage(o souq.Order, a *checkout.PaymentAction) (string, bool) {
	if o.Status != souq.StatusPendingPayment || a == nil || a.RedirectURL == "" {
		return "", false
	}
	u, err := url.Parse(a.RedirectURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		s.log.Error("the payment provider's page is not an https address: not redirecting to it", "order", o.ID)
		return "", false
	}
	return a.RedirectURL, true
}

// toProviderPage sends the shopper to the provider's page, remembering the
// order's access for the return page.
func (v *visit) toProviderPage(to string, id souq.ID, token string) error {
	v.setCookie(cookiePay, string(id)+"."+token, payCookieLifetime)
	return v.redirect(to)
}

// payCookie returns the access token the pay cookie holds for order id.
func payCookie(r *http.Request, id souq.ID) (string, bool) {
	c, err := r.Cookie(cookiePay)
	if err != nil {
		return "", false
	}
	oid, token, ok := strings.Cut(c.Value, ".")
	if !ok || souq.ID(oid) != id || !validToken(token) {
		return "", false
	}
	return token, true
}

// orderURL is the address of an order's page, with its access token.
func (v *visit) orderURL(id souq.ID, token string) string {
	return v.url("/orders/" + url.PathEscape(string(id)) + "?token=" + url.QueryEscape(token))
}

type orderLine struct {
	Name, SKU   string
	Quantity    int
	Unit, Total souq.Money
	OnSale      bool
}

type orderPage struct {
	base
	Order   souq.Order
	Heading string
	Lines   []orderLine
	Total   souq.Money
	VAT     souq.Money
	VATRate int64
	// DeliveryFee and CODFee are the fees the order paid (zero: none).
	DeliveryFee, CODFee souq.Money
	Placed              string
	Status              string
	Country             string
	// Payment says where a card payment stands; empty for cash on
	// delivery.
	Payment string
	// While the order waits for its payment: until when it is held, and
	// the address of the "Pay now" form (empty when the shop cannot take
	// the payment any more).
	HeldUntil, HeldUntilISO string
	PayAction               string
	Retry                   bool // the last attempt failed
}

// orderPage shows an order to whoever holds its access link.
func (s *Storefront) orderPage(v *visit) error {
	token := v.r.URL.Query().Get("token")
	o, err := s.Checkout.Order(v.ctx(), souq.ID(v.r.PathValue("id")), token)
	if err != nil {
		return err
	}
	s.showOrder(v, o, token, http.StatusOK, "")
	return nil
}

func (s *Storefront) showOrder(v *visit, o souq.Order, token string, status int, alert string) {
	m := souq.MustMarket(o.Market)
	zone := o.Market.Zone()
	p := orderPage{base: s.base(v, i18n.T(v.lang, "order.title")), Order: o, Total: souq.M(o.Total, o.Currency),
		VAT: souq.M(o.VAT, o.Currency), VATRate: m.VATBasisPoints, Status: i18n.T(v.lang, "order.status."+string(o.Status)),
		Placed: i18n.DateTime(v.lang, o.CreatedAt.In(zone)), Country: m.Name.In(v.lang),
		Heading: i18n.T(v.lang, "order.confirmed"), Payment: paymentNote(v.lang, o),
		DeliveryFee: souq.M(o.DeliveryFee, o.Currency), CODFee: souq.M(o.CODFee, o.Currency)}
	p.Alert = alert
	for _, l := range o.Lines {
		p.Lines = append(p.Lines, orderLine{Name: l.Name.In(v.lang), SKU: l.SKU, Quantity: l.Quantity,
			Unit: souq.M(l.UnitPrice, o.Currency), Total: souq.M(l.LineTotal, o.Currency), OnSale: l.OnSale})
	}
	switch o.Status {
	case souq.StatusCancelled:
		p.Heading = i18n.T(v.lang, "order.cancelled_heading")
	case souq.StatusPendingPayment:
		p.Heading = i18n.T(v.lang, "order.pending_heading")
		p.Refresh = pendingRefresh
		p.Retry = o.Payment.Failure != ""
		if due := o.Payment.DueAt; due != nil {
			p.HeldUntil = i18n.T(v.lang, "format.datetime_zone", i18n.DateTime(v.lang, due.In(zone)),
				i18n.T(v.lang, "zone."+strings.ToLower(string(o.Market))))
			p.HeldUntilISO = due.UTC().Format(time.RFC3339)
		}
		if name, ok := s.Checkout.CardPayments(); ok && name == o.Payment.Provider {
			p.PayAction = v.url("/orders/" + url.PathEscape(string(o.ID)) + "/pay?token=" + url.QueryEscape(token))
			v.toProvider = name != testProvider
		}
	}
	p.Track = nil // the server records "Order Completed" itself
	p.TrackJS = ""
	v.w.Header().Set("Referrer-Policy", "no-referrer") // the address holds the access token
	s.render(v, status, "order", p)
}

// paymentNote says where an order's card payment stands.
func paymentNote(lang souq.Lang, o souq.Order) string {
	if o.Payment.Method != souq.PayCard {
		return ""
	}
	key := ""
	switch p := o.Payment; {
	case o.Status == souq.StatusPaid && p.Status == souq.PaymentCaptured:
		key = "order.payment.captured"
	case o.Status == souq.StatusPaid && p.Status == souq.PaymentAuthorized:
		key = "order.payment.authorized"
	case o.Status != souq.StatusCancelled:
	case p.Status == souq.PaymentRefunded:
		key = "order.payment.refunded"
	case p.Status == souq.PaymentRefundPending:
		key = "order.payment.refund_pending"
	case p.Status == souq.PaymentFailed:
		key = "order.payment.declined"
	case p.Status == souq.PaymentCanceled && o.CompletedAt == nil:
		key = "order.payment.expired"
	case p.Status == souq.PaymentCanceled:
		key = "order.payment.released"
	}
	if key == "" {
		return ""
	}
	return i18n.T(lang, key)
}

// declined reports whether o is a card order released because its card
// was declined when it was placed.
func declined(o souq.Order) bool {
	return o.Status == souq.StatusCancelled && o.Payment.Method == souq.PayCard &&
		o.Payment.Status == souq.PaymentFailed && o.CompletedAt == nil
}

// orderPay starts, or resumes, the payment of an order waiting for it:
// to the provider's page when it has one, else back to the order's page,
// which says what happened.
func (s *Storefront) orderPay(v *visit) error {
	id, token := souq.ID(v.r.PathValue("id")), v.r.URL.Query().Get("token")
	o, action, err := s.Checkout.Pay(v.ctx(), id, token, s.cardRequest(v))
	var e *souq.Error
	switch {
	case errors.Is(err, souq.ErrUnavailable):
		// The order still waits for its payment: show it, saying why.
		o, oerr := s.Checkout.Order(v.ctx(), id, token)
		if oerr != nil {
			return oerr
		}
		v.w.Header().Set("Retry-After", "5")
		s.showOrder(v, o, token, http.StatusServiceUnavailable, i18n.T(v.lang, "order.pay_unavailable"))
		return nil
	case errors.As(err, &e) && e.Extra["order_id"] != nil:
		// Declined at once: the order was released, and its page says so.
		return v.redirect(v.orderURL(id, token))
	case err != nil:
		return err
	}
	if to, ok := s.providerPage(o, action); ok {
		return v.toProviderPage(to, o.ID, token)
	}
	return v.redirect(v.orderURL(o.ID, token))
}

type payReturnPage struct {
	base
}

// paymentReturn is where the provider sends the shopper back to, with no
// access token in the address. In the browser that went to the provider,
// the pay cookie holds the order's token: the payment is read back from
// the provider and the shopper sent on to the order's page. Elsewhere the
// page says the payment is being confirmed (its webhook will record it).
func (s *Storefront) paymentReturn(v *visit) error {
	id := souq.ID(v.r.PathValue("id"))
	token, ok := payCookie(v.r, id)
	if !ok {
		title := i18n.T(v.lang, "order.return.title")
		p := payReturnPage{base: s.base(v, title)}
		s.render(v, http.StatusOK, "payreturn", p)
		return nil
	}
	v.setCookie(cookiePay, "", -1)
	if _, err := s.Checkout.Refresh(v.ctx(), id, token); err != nil {
		if errors.Is(err, souq.ErrNotFound) {
			return err
		}
		// The order page shows the order as it stands; the webhook or the
		// sweeper records the payment.
		s.log.Warn("read the payment back on the shopper's return", "order", id, "err", err)
	}
	return v.redirect(v.orderURL(id, token))
}

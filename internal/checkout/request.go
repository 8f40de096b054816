package checkout

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"github.com/souq-commerce/souq/internal/souq"
)

// Limits on an order request.
const (
	MaxLines        = 50
	MaxLineQuantity = 100
)

// OrderRequest is a guest checkout as the API receives it. Prices are never
// part of it: the server prices every line.
type OrderRequest struct {
	Market          string         `json:"market"`
	CartID          souq.ID        `json:"cart_id,omitempty"`
	Items           []ItemRequest  `json:"items,omitempty"`
	Customer        souq.Customer  `json:"customer"`
	ShippingAddress souq.Address   `json:"shipping_address"`
	Payment         PaymentRequest `json:"payment"`
	// Context, optional, names the shopper for analytics: the storefront's
	// visitor id and the shop's user id. Kept with the order, they are the
	// anonymousId and userId of every event of it.
	Context *souq.Visitor `json:"context,omitempty"`
	// Language is the shopper's, "ar" or "en": the order's e-mails are
	// written in it. Default: the payment's language, else English.
	Language souq.Lang `json:"language,omitempty"`
}

// maxVisitorID caps a context id, as the collector caps anonymousId.
const maxVisitorID = 255

// ItemRequest is one product and quantity to order.
type ItemRequest struct {
	ProductID souq.ID `json:"product_id"`
	Quantity  int     `json:"quantity"`
}

// PaymentRequest says how the shopper pays: "cod", or "card". A card
// payment either carries a token the payment provider's own front-end
// library made from the card (it is confirmed at once, 3-D Secure
// permitting), or none: the shopper is then sent to the provider's hosted
// page. ReturnURL is the page the provider sends the shopper back to
// (default: the shop's order page); Language the provider's pages' ("ar"
// or "en").
type PaymentRequest struct {
	Method    souq.PaymentMethod `json:"method"`
	Token     string             `json:"token,omitempty"`
	ReturnURL string             `json:"return_url,omitempty"`
	Language  string             `json:"language,omitempty"`
}

var (
	emailLocal      = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	cardNumberShape = regexp.MustCompile(`^[0-9 -]{12,23}$`)
	tokenShape      = regexp.MustCompile(`^[A-Za-z0-9_-]{3,200}$`)
)

// validate checks the request's shape and returns its market. Cart contents
// and products are checked when the order is priced.
func (r *OrderRequest) validate() (souq.Market, error) {
	var p souq.Problems
	m, err := souq.LookupMarket(r.Market)
	if err != nil {
		p.Add("market", "%s", err.Error())
	}
	switch {
	case r.CartID != "" && len(r.Items) > 0:
		p.Add("items", "give either cart_id or items, not both")
	case r.CartID == "" && len(r.Items) == 0:
		p.Add("items", "give the items to order, or a cart_id")
	case len(r.Items) > MaxLines:
		p.Add("items", "at most %d lines per order", MaxLines)
	}
	for i, it := range r.Items {
		if it.ProductID == "" {
			p.Add(fieldf("items", i, "product_id"), "is required")
		}
		if it.Quantity < 1 || it.Quantity > MaxLineQuantity {
			p.Add(fieldf("items", i, "quantity"), "must be between 1 and %d, got %d", MaxLineQuantity, it.Quantity)
		}
	}
	r.Customer.Name = strings.TrimSpace(r.Customer.Name)
	r.Customer.Email = strings.TrimSpace(r.Customer.Email)
	checkLen(&p, "customer.name", r.Customer.Name, 2, 100)
	if r.Customer.Email != "" && !ValidEmail(r.Customer.Email) {
		p.Add("customer.email", "must be an email address such as name@example.com, or left out")
	}
	if err == nil {
		phone, ok := normalisePhone(r.Customer.Phone, m)
		if !ok {
			p.Add("customer.phone", "must be a %s number: %s followed by %d digits", m.Name.EN, m.PhonePrefix, m.PhoneDigits)
		}
		r.Customer.Phone = phone
	}
	a := &r.ShippingAddress
	a.Line1, a.Line2, a.Area, a.City = strings.TrimSpace(a.Line1), strings.TrimSpace(a.Line2), strings.TrimSpace(a.Area), strings.TrimSpace(a.City)
	checkLen(&p, "shipping_address.line1", a.Line1, 3, 200)
	checkLen(&p, "shipping_address.line2", a.Line2, 0, 200)
	checkLen(&p, "shipping_address.area", a.Area, 2, 100)
	if err == nil {
		switch {
		case a.Country == "":
			a.Country = m.Code
		case a.Country != m.Code:
			p.Add("shipping_address.country", "must be the order's market %s; Souq ships within the market", m.Code)
		}
		if !m.HasCity(a.City) {
			p.Add("shipping_address.city", "must be one of %s", strings.Join(m.Cities, ", "))
		}
	}
	if r.Context != nil {
		checkVisitorID(&p, "context.anonymous_id", r.Context.AnonymousID)
		checkVisitorID(&p, "context.user_id", r.Context.UserID)
	}
	switch r.Payment.Method {
	case souq.PayCashOnDelivery:
		for field, v := range map[string]string{"token": r.Payment.Token, "return_url": r.Payment.ReturnURL} {
			if v != "" {
				p.Add("payment."+field, "is only for card payments")
			}
		}
		if l := souq.Lang(r.Payment.Language); l != "" && l != souq.Arabic && l != souq.English {
			p.Add("payment.language", "must be \"ar\" or \"en\"") // checkCard checks a card's
		}
	case souq.PayCard:
		r.Payment.checkCard(&p, "payment.")
	default:
		p.Add("payment.method", "must be \"cod\" (cash on delivery) or \"card\"")
	}
	switch {
	case r.Language == "" && r.Payment.Language != "":
		r.Language = souq.Lang(r.Payment.Language)
	case r.Language == "":
		r.Language = souq.English
	case r.Language != souq.Arabic && r.Language != souq.English:
		p.Add("language", "must be \"ar\" or \"en\"")
	}
	return m, p.Err()
}

// normalisePhone strips spaces, dashes and brackets, accepts a leading 00
// for +, and checks the market's prefix and number length.
func normalisePhone(s string, m souq.Market) (string, bool) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r == '+' && i == 0:
			b.WriteRune(r)
		case unicode.IsDigit(r) && r < 128:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	phone := b.String()
	if strings.HasPrefix(phone, "00") {
		phone = "+" + phone[2:]
	}
	national, ok := strings.CutPrefix(phone, m.PhonePrefix)
	if !ok || len(national) != m.PhoneDigits {
		return "", false
	}
	return phone, true
}

func checkLen(p *souq.Problems, field, s string, min, max int) {
	n := len([]rune(s))
	switch {
	case n == 0 && min > 0:
		p.Add(field, "is required")
	case n < min:
		p.Add(field, "must be at least %d characters", min)
	case n > max:
		p.Add(field, "must be at most %d characters", max)
	}
}

// checkVisitorID checks an optional analytics id: at most maxVisitorID
// characters, none of them a control character.
func checkVisitorID(p *souq.Problems, field, s string) {
	checkLen(p, field, s, 0, maxVisitorID)
	if strings.ContainsFunc(s, unicode.IsControl) {
		p.Add(field, "must not contain control characters")
	}
}

func fieldf(list string, i int, name string) string {
	return fmt.Sprintf("%s[%d].%s", list, i, name)
}

// ValidEmail reports whether s is a bare email address (no display name)
// with a dot in its domain, at most 254 bytes. An order's email is
// optional: cash-on-delivery shoppers in the Gulf often give only a phone.
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && emailLocal.MatchString(s) && len(s) <= 254
}

// checkCard checks a card payment's token, return address and language,
// naming the fields with prefix. A token shaped like a card number is
// dropped, so that no error repeats it.
func (r *PaymentRequest) checkCard(p *souq.Problems, prefix string) {
	switch {
	case cardNumberShape.MatchString(r.Token):
		p.Add(prefix+"token", "looks like a card number: send the payment provider's token, never card details")
		r.Token = ""
	case r.Token != "" && !tokenShape.MatchString(r.Token):
		p.Add(prefix+"token", "must be a payment provider token (letters, digits, _ and -), such as pm_… or tok_ok; leave it out to pay on the provider's page")
	}
	if r.ReturnURL != "" {
		if err := checkReturnURL(r.ReturnURL); err != nil {
			p.Add(prefix+"return_url", "%s", err.Error())
		}
	}
	if r.Language != "" && r.Language != "ar" && r.Language != "en" {
		p.Add(prefix+"language", "must be \"ar\" or \"en\"")
	}
}

// checkReturnURL checks a payment return address: an absolute https URL
// (http only on a loopback host, for development), at most 2,000 bytes.
func checkReturnURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case len(raw) > 2000:
		return errors.New("must be at most 2000 bytes")
	case err != nil || !u.IsAbs() || u.Host == "" || u.User != nil:
		return errors.New("must be an absolute https:// URL")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return errors.New("must be an https:// URL (http:// only on a loopback host)")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

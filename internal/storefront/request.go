package storefront

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/souq-commerce/souq/internal/forwarded"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storefront/i18n"
)

// Cookies the storefront sets. All are HttpOnly and SameSite=Lax, Secure
// over TLS.
const (
	cookieLang    = "lang"    // the last language used, for /
	cookieMarket  = "market"  // the shopper's market code
	cookieCSRF    = "csrf"    // the per-session CSRF token
	cookieCart    = "cart"    // the cart id (a capability)
	cookieConsent = "consent" // "yes" or "no": analytics consent
	// cookiePay is "<order id>.<access token>" of the order whose payment
	// the shopper went to the provider's page for: it lets the return page
	// show the order without the provider ever seeing the token.
	cookiePay = "souq_pay"
	// cookieVisitor is the visitor id, the analytics anonymousId, set
	// only with consent (see visit.visitor).
	cookieVisitor = "souq_vid"
	// cookieCartEvent carries a cart change the server accepted to the
	// cart page the shopper is sent to (see noteCartChange).
	cookieCartEvent = "souq_cart_event"
)

const (
	defaultMarket = souq.AE
	year          = 365 * 24 * time.Hour
	maxFormBytes  = 16 << 10
	// contentSecurityPolicy allows nothing inline and nothing from other
	// origins.
	contentSecurityPolicy = cspFetch + "form-action 'self'; " + cspRest
	// paymentSecurityPolicy is that of a page whose form may be answered
	// with a redirect to the payment provider's page (checkout, an order
	// waiting for payment): browsers such as Chrome apply form-action to
	// the redirects that follow a form's submission too, and the
	// provider's address is known only from its answer, so any https
	// address is allowed.
	paymentSecurityPolicy = cspFetch + "form-action 'self' https:; " + cspRest
	cspFetch              = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
	cspRest               = "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

// errForbidden is a POST without a valid CSRF token (or from another
// origin).
var errForbidden = errors.New("forbidden")

// visit is one request's shopper state: language, market, tokens.
type visit struct {
	w       http.ResponseWriter
	r       *http.Request
	lang    souq.Lang
	market  souq.Market
	csrf    string
	consent bool
	// visitor is the visitor id: with analytics on and consent, the
	// tracking script's anonymousId and the order's, else "".
	visitor string
	// toProvider marks a page whose form may redirect to the payment
	// provider: it is served with paymentSecurityPolicy.
	toProvider bool
}

func (v *visit) ctx() context.Context { return v.r.Context() }

// newVisit reads the shopper's cookies, setting the CSRF and lang cookies
// when they are missing or stale.
func (s *Storefront) newVisit(w http.ResponseWriter, r *http.Request, lang souq.Lang) *visit {
	v := &visit{w: w, r: r, lang: lang, market: souq.MustMarket(defaultMarket)}
	if c, err := r.Cookie(cookieMarket); err == nil {
		if m, err := souq.LookupMarket(c.Value); err == nil {
			v.market = m
		}
	}
	if c, err := r.Cookie(cookieCSRF); err == nil && validToken(c.Value) {
		v.csrf = c.Value
	} else {
		v.csrf = souq.NewToken()
		v.setCookie(cookieCSRF, v.csrf, 0)
	}
	if c, err := r.Cookie(cookieLang); err != nil || c.Value != string(lang) {
		v.setCookie(cookieLang, string(lang), year)
	}
	v.consent = s.ConsentByDefault
	if c, err := r.Cookie(cookieConsent); err == nil {
		v.consent = c.Value == "yes"
	}
	if r.Header.Get("DNT") == "1" || r.Header.Get("Sec-GPC") == "1" {
		v.consent = false
	}
	c, err := r.Cookie(cookieVisitor)
	switch {
	case s.WriteKey == "" || !v.consent:
		if err == nil { // consent withdrawn: the id goes with it
			v.setCookie(cookieVisitor, "", -1)
		}
	case err == nil && validToken(c.Value):
		v.visitor = c.Value
	default:
		v.visitor = souq.NewToken()
		v.setCookie(cookieVisitor, v.visitor, year)
	}
	return v
}

// validToken reports whether s has the shape of a souq.NewToken value.
func validToken(s string) bool {
	if len(s) != 43 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// setCookie sets a cookie for the whole site; maxAge 0 makes it last for
// the browser session, a negative one deletes it.
func (v *visit) setCookie(name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: forwarded.HTTPS(v.r)}
	switch {
	case maxAge > 0:
		c.MaxAge = int(maxAge.Seconds())
	case maxAge < 0:
		c.MaxAge = -1
	}
	http.SetCookie(v.w, c)
}

// url is the address of a storefront path in the visit's language.
func (v *visit) url(path string) string { return "/" + string(v.lang) + path }

// redirect answers a form POST with 303 See Other.
func (v *visit) redirect(to string) error {
	http.Redirect(v.w, v.r, to, http.StatusSeeOther)
	return nil
}

// page wraps a GET handler: it sets the visit up and renders errors as
// pages.
func (s *Storefront) page(lang souq.Lang, h func(v *visit) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := s.newVisit(w, r, lang)
		if err := h(v); err != nil {
			s.fail(v, err)
		}
	})
}

// form wraps a POST handler: it reads the form (at most maxFormBytes) and
// refuses it with a 403 page, changing nothing, unless its csrf field
// equals the csrf cookie and the request comes from this site.
func (s *Storefront) form(lang souq.Lang, h func(v *visit) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		parseErr := r.ParseForm()
		v := s.newVisit(w, r, lang)
		if parseErr != nil {
			s.fail(v, souq.Errorf(souq.ErrInvalid, "unreadable form"))
			return
		}
		if field, ok := invalidUTF8(r.PostForm); ok {
			s.fail(v, souq.Errorf(souq.ErrInvalid, "the form field %q is not valid UTF-8 text", field))
			return
		}
		if !sameOrigin(r) || !csrfMatches(r) {
			s.fail(v, errForbidden)
			return
		}
		if err := h(v); err != nil {
			s.fail(v, err)
		}
	})
}

// invalidUTF8 returns the name of the first form field whose name or value
// is not UTF-8, which Go would otherwise pass on as it is.
func invalidUTF8(form url.Values) (string, bool) {
	for k, vs := range form {
		if !utf8.ValidString(k) {
			return strings.ToValidUTF8(k, "\uFFFD"), true
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return k, true
			}
		}
	}
	return "", false
}

// csrfMatches compares the form's csrf field with the csrf cookie in
// constant time.
func csrfMatches(r *http.Request) bool {
	c, err := r.Cookie(cookieCSRF)
	if err != nil || !validToken(c.Value) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) == 1
}

// sameOrigin rejects a request whose Origin header names another host.
// Browsers send Origin with every form POST; its absence (older browsers,
// tests) leaves the decision to the CSRF token.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// back returns the local storefront address in the form's "back" field, or
// the home page of lang: redirects never leave the site.
func back(r *http.Request, lang souq.Lang) string {
	b := r.PostFormValue("back")
	home := "/" + string(lang) + "/"
	if !strings.HasPrefix(b, "/ar/") && !strings.HasPrefix(b, "/en/") {
		return home
	}
	if strings.ContainsAny(b, "\\\r\n") || strings.Contains(b, "//") || len(b) > 2000 {
		return home
	}
	return b
}

// handleRoot sends / to the home page of the shopper's language: the lang
// cookie, else Accept-Language, else i18n.Fallback.
func (s *Storefront) handleRoot() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := i18n.Fallback
		if c, err := r.Cookie(cookieLang); err == nil {
			if l, ok := i18n.Valid(c.Value); ok {
				lang = l
			} else if l, ok := fromAcceptLanguage(r.Header.Get("Accept-Language")); ok {
				lang = l
			}
		} else if l, ok := fromAcceptLanguage(r.Header.Get("Accept-Language")); ok {
			lang = l
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Vary", "Cookie, Accept-Language")
		http.Redirect(w, r, "/"+string(lang)+"/", http.StatusFound)
	})
}

// setMarket stores the chosen market in the market cookie, moves the cart
// to it, and goes back to the page the shopper was on.
func (s *Storefront) setMarket(v *visit) error {
	m, err := souq.LookupMarket(v.r.PostFormValue("market"))
	if err != nil {
		return err
	}
	v.market = m
	v.setCookie(cookieMarket, string(m.Code), year)
	if id := cartID(v.r); id != "" {
		if _, err := s.Carts.SetMarket(v.ctx(), id, string(m.Code)); err != nil && !errors.Is(err, souq.ErrNotFound) {
			return err
		}
	}
	return v.redirect(back(v.r, v.lang))
}

// setConsent records the shopper's analytics choice.
func (s *Storefront) setConsent(v *visit) error {
	choice := "no"
	if v.r.PostFormValue("consent") == "yes" {
		choice = "yes"
	}
	v.setCookie(cookieConsent, choice, year)
	return v.redirect(back(v.r, v.lang))
}

// fromAcceptLanguage picks Arabic or English from an Accept-Language header
// by its q-values (RFC 9110 §12.5.4): the range with the highest weight
// naming one of them wins, an earlier range winning a tie; "*" stands for
// i18n.Fallback. ok is false when the header names neither.
func fromAcceptLanguage(header string) (lang souq.Lang, ok bool) {
	best := 0.0
	for _, part := range strings.Split(header, ",") {
		tag, q := parseQ(part)
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		var l souq.Lang
		switch primary {
		case "ar":
			l = souq.Arabic
		case "en":
			l = souq.English
		case "*":
			l = i18n.Fallback
		default:
			continue
		}
		if q > best {
			best, lang, ok = q, l, true
		}
	}
	return lang, ok
}

// parseQ splits one member of a comma-separated header such as
// Accept-Language or Accept-Encoding into its value and q-value (1 when
// absent, 0 when unreadable).
func parseQ(part string) (value string, q float64) {
	value, params, _ := strings.Cut(part, ";")
	value = strings.TrimSpace(value)
	q = 1
	for _, p := range strings.Split(params, ";") {
		k, val, found := strings.Cut(strings.TrimSpace(p), "=")
		if !found || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || f < 0 || f > 1 {
			return value, 0
		}
		q = f
	}
	return value, q
}

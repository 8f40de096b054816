package storefront

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/souq-commerce/souq/internal/bidi"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storefront/i18n"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageNames are the page templates; each is parsed with layout.html and
// parts.html, once per language.
var pageNames = []string{"home", "list", "sale", "policy", "product", "cart", "checkout", "order", "payreturn", "queue", "error"}

type pageTemplate = *template.Template

func parseTemplates() (map[string]map[string]pageTemplate, error) {
	out := map[string]map[string]pageTemplate{}
	for _, lang := range i18n.Langs {
		out[string(lang)] = map[string]pageTemplate{}
		for _, name := range pageNames {
			t, err := template.New("layout.html").Funcs(funcs(lang)).
				ParseFS(templateFS, "templates/layout.html", "templates/parts.html", "templates/"+name+".html")
			if err != nil {
				return nil, err
			}
			out[string(lang)][name] = t
		}
	}
	return out, nil
}

// funcs are the template functions, bound to one language: t looks a
// message up, the others format values for that language.
func funcs(lang souq.Lang) template.FuncMap {
	return template.FuncMap{
		"t":     func(key string, args ...any) string { return i18n.T(lang, key, args...) },
		"money": func(m souq.Money) string { return m.Format(lang) },
		"num":   func(n int) string { return i18n.Number(lang, n) },
		"pct":   func(bp int64) string { return i18n.Percent(lang, bp) },
		"cat":   func(key string) string { return catalog.CategoryName(key).In(lang) },
		"city":  func(name string) string { return cityName(lang, name) },
		"loc":   func(l souq.Localized) string { return l.In(lang) },
		// ltr isolates a left-to-right value (a phone prefix, a SKU) inside
		// a message with Unicode isolate marks, where no <bdi> can go.
		"ltr": func(s string) string { return "\u2066" + s + "\u2069" },
		// bidi is user text (a product name, an address) with the runs of
		// the other direction isolated: "واقي شمس SPF50+" keeps its "+" at
		// the end. bidiMarks does the same with Unicode isolate marks, for
		// a value inside a message.
		"bidi":      func(s string) template.HTML { return bidi.HTML(langDir(lang), s) },
		"bidiMarks": func(s string) string { return bidi.Marks(langDir(lang), s) },
	}
}

// langDir is the direction of lang's pages: "rtl" or "ltr".
func langDir(lang souq.Lang) string {
	if lang == souq.Arabic {
		return "rtl"
	}
	return "ltr"
}

// cityName is a market city's name in lang; the English name is the value
// the checkout stores.
func cityName(lang souq.Lang, name string) string {
	if s, ok := i18n.Lookup(lang, cityKey(name)); ok {
		return s
	}
	return name
}

// cityKey is the message key of a city: "Ras Al Khaimah" → "city.ras_al_khaimah".
func cityKey(name string) string {
	return "city." + strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(name))
}

// base is what every page shows: the header, the switchers, the footer.
type base struct {
	Lang      souq.Lang
	Dir       string
	Title     string
	Here      string // this page's path and query: the forms' "back" field
	CSRF      string
	Market    souq.Market
	Markets   []marketOption
	Other     langLink
	CartItems int
	Query     string // the header search box
	CSS       string
	SiteJS    string
	TrackJS   string // empty when tracking is off
	Track     *trackConfig
	Consent   bool
	Chosen    bool   // the shopper has answered the consent question
	Alert     string // a page-level message
	VATNote   string // "Prices include 5% VAT" or "No VAT in Qatar"
	// Refresh, when above zero, reloads the page after that many seconds
	// (a page waiting for something, without JavaScript).
	Refresh int
	// RefreshURL is where the refresh goes (this page when empty).
	RefreshURL string
	// Menu is the header menu's categories (and the sale page while a
	// sale runs or is coming: SaleURL).
	Menu    []categoryLink
	SaleURL string
	Info    *infoView // the footer's company, contacts and policy links
	// For search engines and link previews (seo.go): the meta
	// description, this page's absolute address, its language versions'
	// (and x-default), the Open Graph type and image, the icon.
	Description string
	Canonical   string
	Alternates  []langLink
	OGType      string
	OGImage     string
	OGLocale    string
	Icon        string
}

type marketOption struct {
	Code     souq.MarketCode
	Name     string
	Selected bool
}

type langLink struct {
	Lang souq.Lang
	Name string
	URL  string
}

// base fills in what every page shows.
func (s *Storefront) base(v *visit, title string) base {
	b := base{
		Lang: v.lang, Dir: langDir(v.lang), Title: title, CSRF: v.csrf, Market: v.market,
		Here: v.r.URL.RequestURI(), CSS: s.assets.url("site.css"), SiteJS: s.assets.url("site.js"),
		Consent: v.consent,
	}
	b.VATNote = i18n.T(v.lang, "vat.included", i18n.Percent(v.lang, v.market.VATBasisPoints))
	if v.market.VATBasisPoints == 0 {
		b.VATNote = i18n.T(v.lang, "vat.none", v.market.Name.In(v.lang))
	}
	for _, m := range souq.Markets() {
		b.Markets = append(b.Markets, marketOption{Code: m.Code, Name: m.Name.In(v.lang), Selected: m.Code == v.market.Code})
	}
	other := souq.English
	if v.lang == souq.English {
		other = souq.Arabic
	}
	rest := strings.TrimPrefix(v.r.URL.RequestURI(), "/"+string(v.lang))
	b.Other = langLink{Lang: other, Name: i18n.T(other, "lang.name"), URL: "/" + string(other) + rest}
	site := origin(v.r)
	// The canonical address (and the language versions') keeps only what
	// makes a different page: the search and the page number, not a sort,
	// a filter or a campaign's utm_ parameters.
	page := canonicalPath(v.r.URL)
	b.Canonical, b.Icon, b.OGType = site+page, s.assets.url("favicon.svg"), "website"
	b.Description = describe(i18n.T(v.lang, "site.description"))
	b.OGLocale = "en_AE"
	if v.lang == souq.Arabic {
		b.OGLocale = "ar_AE"
	}
	for _, l := range alternates(site, strings.TrimPrefix(page, "/"+string(v.lang))) {
		b.Alternates = append(b.Alternates, langLink{Lang: souq.Lang(l.Hreflang), URL: l.Href})
	}
	if _, err := v.r.Cookie(cookieConsent); err == nil {
		b.Chosen = true
	}
	if id := cartID(v.r); id != "" {
		if c, err := s.Carts.Raw(v.ctx(), id); err == nil {
			for _, it := range c.Items {
				b.CartItems += it.Quantity
			}
		}
	}
	b.Info = s.infoView(v)
	// The menu is a convenience: a store error leaves it empty rather
	// than failing the page (the facets and sales are cached).
	if f, err := s.facets.get(v.ctx(), v.market); err == nil {
		for _, c := range f.Categories {
			b.Menu = append(b.Menu, categoryLink{Key: c.Value, URL: v.url("/c/" + c.Value), Count: c.Count})
		}
	}
	if _, ok, err := s.Catalog.CurrentSale(v.ctx()); err == nil && ok {
		b.SaleURL = v.url("/sale")
	}
	if s.WriteKey != "" {
		b.TrackJS = s.assets.url("track.js")
		b.Track = &trackConfig{WriteKey: s.WriteKey, URL: s.CollectorURL, Market: v.market.Code, Lang: v.lang,
			Consent: v.consent, AnonymousID: v.visitor, Events: []trackEvent{}}
	}
	return b
}

// render executes a page template and writes it: never cached, as pages
// carry the CSRF token and cart.
func (s *Storefront) render(v *visit, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages[string(v.lang)][name].Execute(&buf, data); err != nil {
		s.log.Error("render page", "page", name, "err", err)
		v.w.Header().Set("Cache-Control", "no-store")
		http.Error(v.w, "the page could not be shown; the error has been logged", http.StatusInternalServerError)
		return
	}
	h := v.w.Header()
	h.Set("Cache-Control", "no-store")
	if v.toProvider {
		h.Set("Content-Security-Policy", paymentSecurityPolicy)
	} else {
		h.Set("Content-Security-Policy", contentSecurityPolicy)
	}
	h.Add("Vary", "Cookie")
	writeBody(v.w, v.r, status, "text/html; charset=utf-8", buf.Bytes())
}

type errorPage struct {
	base
	Status  int
	Heading string
}

// fail answers err with an error page in the visit's language: its kind
// picks the status and the message; details of unexpected errors are
// logged, never shown.
func (s *Storefront) fail(v *visit, err error) {
	status, heading, msg := http.StatusInternalServerError, "error.internal.title", "error.internal"
	switch {
	case errors.Is(err, errForbidden):
		status, heading, msg = http.StatusForbidden, "error.csrf.title", "error.csrf"
	case errors.Is(err, souq.ErrNotFound):
		status, heading, msg = http.StatusNotFound, "error.not_found.title", "error.not_found"
	case errors.Is(err, souq.ErrInvalid):
		status, heading, msg = http.StatusUnprocessableEntity, "error.invalid.title", "error.invalid"
	case errors.Is(err, souq.ErrUnavailable):
		status, heading, msg = http.StatusServiceUnavailable, "error.busy.title", "error.busy"
		v.w.Header().Set("Retry-After", "1")
		s.log.Warn("storefront request failed: a store is unavailable", "method", v.r.Method, "path", v.r.URL.Path, "err", err)
	case errors.Is(err, souq.ErrOutOfStock), errors.Is(err, souq.ErrConflict), errors.Is(err, souq.ErrKeyInFlight):
		status, heading, msg = http.StatusConflict, "error.conflict.title", "error.conflict"
		if errors.Is(err, souq.ErrKeyInFlight) {
			v.w.Header().Set("Retry-After", "1")
		}
	default:
		s.log.Error("storefront request failed", "method", v.r.Method, "path", v.r.URL.Path, "err", err)
	}
	p := errorPage{base: s.base(v, i18n.T(v.lang, heading)), Status: status, Heading: i18n.T(v.lang, heading)}
	p.Alert = i18n.T(v.lang, msg)
	s.render(v, status, "error", p)
}

// notFound is the page for an unknown address under /ar/ or /en/.
func (s *Storefront) notFound(v *visit) error {
	return souq.Errorf(souq.ErrNotFound, "no such page")
}

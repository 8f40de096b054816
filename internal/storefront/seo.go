package storefront

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/forwarded"
	"github.com/souq-commerce/souq/internal/media"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storefront/i18n"
)

// What search engines and link previews read: each page's description,
// canonical address, language alternates and Open Graph tags (in base),
// a product page's schema.org JSON-LD, /robots.txt and /sitemap.xml.
// Absolute addresses are built from the request's host and scheme; the
// scheme is https only when the request came over TLS or through a
// trusted proxy that said so (package forwarded), never on a client's
// word.

const (
	// maxDescription is the most characters of a meta description (what
	// search results show).
	maxDescription = 160
	// sitemapTTL is how long the sitemap's list of addresses is kept.
	sitemapTTL = 10 * time.Minute
	// maxSitemapProducts keeps the sitemap within the protocol's 50,000
	// addresses (two per product, one per language).
	maxSitemapProducts = 24000
)

// origin is the site's scheme and host as the request names them:
// "https://shop.example".
func origin(r *http.Request) string {
	scheme := "http"
	if forwarded.HTTPS(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// describe clips s to maxDescription characters at a word boundary.
func describe(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= maxDescription {
		return s
	}
	cut := string(r[:maxDescription-1])
	if i := strings.LastIndex(cut, " "); i > maxDescription/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.،:;") + "…"
}

// productLD is a product page's schema.org Product, as JSON-LD.
type productLD struct {
	Context     string  `json:"@context"`
	Type        string  `json:"@type"`
	Name        string  `json:"name"`
	SKU         string  `json:"sku"`
	Image       string  `json:"image"`
	Description string  `json:"description,omitempty"`
	Category    string  `json:"category,omitempty"`
	Brand       ldBrand `json:"brand"`
	Offers      ldOffer `json:"offers"`
}

type ldBrand struct {
	Type string `json:"@type"`
	Name string `json:"name"`
}

type ldOffer struct {
	Type          string        `json:"@type"`
	URL           string        `json:"url"`
	Price         string        `json:"price"`
	PriceCurrency souq.Currency `json:"priceCurrency"`
	Availability  string        `json:"availability"`
	// PriceValidUntil is the end of the sale that sets Price.
	PriceValidUntil string `json:"priceValidUntil,omitempty"`
}

func newProductLD(v *visit, o catalog.Offer, pageURL string) productLD {
	ld := productLD{Context: "https://schema.org", Type: "Product", Name: o.Name.In(v.lang), SKU: o.SKU,
		Image: origin(v.r) + productImage(o.Product), Description: o.Description.In(v.lang), Category: catalog.CategoryName(o.Category).In(v.lang),
		Brand: ldBrand{Type: "Brand", Name: o.Brand},
		Offers: ldOffer{Type: "Offer", URL: pageURL, Price: o.Price.Decimal(), PriceCurrency: o.Price.Currency,
			Availability: "https://schema.org/InStock"}}
	if !o.InStock() || !o.Sold {
		ld.Offers.Availability = "https://schema.org/OutOfStock"
	}
	if o.OnSale {
		ld.Offers.PriceValidUntil = o.SaleEndsAt.UTC().Format("2006-01-02")
	}
	return ld
}

// handleFavicon sends browsers that ask for /favicon.ico to the SVG icon
// every page links.
func (s *Storefront) handleFavicon() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		http.Redirect(w, r, s.assets.url("favicon.svg"), http.StatusMovedPermanently)
	})
}

// handleRobots serves /robots.txt: the shop's pages may be crawled, not
// the shopper's own (cart, checkout, orders) nor the APIs.
func (s *Storefront) handleRobots() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString("User-agent: *\n")
		for _, lang := range i18n.Langs {
			for _, p := range []string{"/cart", "/checkout", "/orders/", "/queue", "/search"} {
				b.WriteString("Disallow: /" + string(lang) + p + "\n")
			}
		}
		b.WriteString("Disallow: /api/\nDisallow: /v1/\nDisallow: /dashboard\n\n")
		b.WriteString("Sitemap: " + origin(r) + "/sitemap.xml\n")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Vary", "Host")
		writeBody(w, r, http.StatusOK, "text/plain; charset=utf-8", []byte(b.String()))
	})
}

// sitemapCache keeps the sitemap's paths (without language) for
// sitemapTTL; concurrent misses may build it more than once.
type sitemapCache struct {
	mu    sync.Mutex
	paths []string
	at    time.Time
}

// sitemapPaths lists the home page, each category with products and each
// product sold in any market, as paths under a language: "/", "/c/x",
// "/p/y".
func (s *Storefront) sitemapPaths(ctx context.Context) ([]string, error) {
	s.sitemap.mu.Lock()
	paths, at := s.sitemap.paths, s.sitemap.at
	s.sitemap.mu.Unlock()
	if paths != nil && time.Since(at) < sitemapTTL {
		return paths, nil
	}
	paths = []string{"/"}
	seen := map[string]bool{}
	var products []string
	for _, m := range souq.Markets() {
		f, err := s.Catalog.Facets(ctx, m)
		if err != nil {
			return nil, err
		}
		for _, c := range f.Categories {
			if p := "/c/" + c.Value; !seen[p] {
				seen[p] = true
				paths = append(paths, p)
			}
		}
		in := catalog.ListInput{Market: m, Sort: catalog.SortNewest, PageSize: catalog.MaxPageSize}
		for len(products) < maxSitemapProducts {
			page, err := s.Catalog.List(ctx, in)
			if err != nil {
				return nil, err
			}
			for _, o := range page.Items {
				if p := "/p/" + o.Slug; !seen[p] && len(products) < maxSitemapProducts {
					seen[p] = true
					products = append(products, p)
				}
			}
			if page.NextCursor == "" {
				break
			}
			in.Cursor, in.Page = page.NextCursor, 0
		}
	}
	paths = append(paths, products...)
	s.sitemap.mu.Lock()
	s.sitemap.paths, s.sitemap.at = paths, time.Now()
	s.sitemap.mu.Unlock()
	return paths, nil
}

type (
	sitemapURLSet struct {
		XMLName xml.Name     `xml:"urlset"`
		NS      string       `xml:"xmlns,attr"`
		XHTML   string       `xml:"xmlns:xhtml,attr"`
		URLs    []sitemapURL `xml:"url"`
	}
	sitemapURL struct {
		Loc   string        `xml:"loc"`
		Links []sitemapLink `xml:"xhtml:link"`
	}
	sitemapLink struct {
		Rel      string `xml:"rel,attr"`
		Hreflang string `xml:"hreflang,attr"`
		Href     string `xml:"href,attr"`
	}
)

// handleSitemap serves /sitemap.xml: every path in both languages, each
// with its language alternates.
func (s *Storefront) handleSitemap() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths, err := s.sitemapPaths(r.Context())
		if err != nil {
			s.log.Error("sitemap", "err", err)
			w.Header().Set("Retry-After", "60")
			http.Error(w, "the sitemap is unavailable; try again later", http.StatusServiceUnavailable)
			return
		}
		base := origin(r)
		set := sitemapURLSet{NS: "http://www.sitemaps.org/schemas/sitemap/0.9", XHTML: "http://www.w3.org/1999/xhtml"}
		for _, p := range paths {
			links := alternates(base, p)
			for _, lang := range i18n.Langs {
				set.URLs = append(set.URLs, sitemapURL{Loc: base + "/" + string(lang) + p, Links: links})
			}
		}
		body, err := xml.MarshalIndent(set, "", " ")
		if err != nil {
			s.log.Error("sitemap", "err", err)
			http.Error(w, "the sitemap could not be made", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Vary", "Host")
		writeBody(w, r, http.StatusOK, "application/xml; charset=utf-8", append([]byte(xml.Header), body...))
	})
}

// alternates are the language versions of a path (after the language:
// "/p/x"), and x-default, the fallback language's, all absolute.
func alternates(base, rest string) []sitemapLink {
	var out []sitemapLink
	for _, lang := range i18n.Langs {
		out = append(out, sitemapLink{Rel: "alternate", Hreflang: string(lang), Href: base + "/" + string(lang) + rest})
	}
	return append(out, sitemapLink{Rel: "alternate", Hreflang: "x-default", Href: base + "/" + string(i18n.Fallback) + rest})
}

// productImage is the address of a product's main picture: its first
// photo's largest rendition, else its generated packshot.
func productImage(p souq.Product) string {
	if len(p.Images) > 0 {
		return media.URL(p.Images[0], p.Images[0].Width)
	}
	return p.Image
}

// canonicalPath is u's path with only the query parameters that make a
// different page: q (a search) and page.
func canonicalPath(u *url.URL) string {
	q := u.Query()
	keep := url.Values{}
	for _, k := range []string{"q", "page"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	if len(keep) == 0 {
		return u.EscapedPath()
	}
	return u.EscapedPath() + "?" + keep.Encode()
}

package storefront

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/delivery"
	"github.com/souq-commerce/souq/internal/media"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storefront/i18n"
	"github.com/souq-commerce/souq/internal/waitroom"
)

// DefaultCollectorURL is where the tracking script sends its batches.
const DefaultCollectorURL = "/v1/batch"

// Deps are what the storefront serves from.
type Deps struct {
	Catalog  *catalog.Service
	Carts    *cart.Service
	Checkout *checkout.Service
	// Room, when set, is the waiting room: during a protected sale
	// checkout is reached through /{lang}/queue.
	Room *waitroom.Room
	// WriteKey is the event collector's write key, put in the tracking
	// script's configuration (a write key is public, as in Segment's
	// model). Empty leaves the tracking script out of every page.
	WriteKey string
	// CollectorURL is where the script posts batches (DefaultCollectorURL
	// when empty).
	CollectorURL string
	// ConsentByDefault turns analytics on for shoppers who have not chosen
	// (the demo); otherwise no event is sent until a shopper allows it.
	ConsentByDefault bool
	// Media, when set, serves uploaded product photos at /media/.
	Media *media.Library
	// Info is the shop's company, contacts and policies (nil: none shown).
	Info *ShopInfo
	// Delivery, when set, gives the markets' delivery fees and estimates
	// shown on product, cart and checkout pages (nil: none shown).
	Delivery *delivery.Service
	Log      *slog.Logger
}

// Storefront is the shop's web site.
type Storefront struct {
	Deps
	log    *slog.Logger
	pages  map[string]map[string]pageTemplate // language → page name → template
	assets *assetSet
	// Catalogue reads cached per market for the busiest pages.
	facets   *marketCache[catalog.Facets]
	featured *marketCache[catalog.Page]
	sitemap  sitemapCache
}

// New builds the storefront: it parses the templates for both languages
// and fingerprints and precompresses the static files.
func New(d Deps) (*Storefront, error) {
	if d.Catalog == nil || d.Carts == nil || d.Checkout == nil {
		return nil, fmt.Errorf("storefront: Catalog, Carts and Checkout are required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.CollectorURL == "" {
		d.CollectorURL = DefaultCollectorURL
	}
	assets, err := loadAssets()
	if err != nil {
		return nil, err
	}
	s := &Storefront{Deps: d, log: d.Log.With("component", "storefront"), assets: assets,
		facets: newMarketCache(facetTTL, d.Catalog.Facets),
		featured: newMarketCache(featuredTTL, func(ctx context.Context, m souq.Market) (catalog.Page, error) {
			return d.Catalog.List(ctx, catalog.ListInput{Market: m, PageSize: featuredCount})
		}),
	}
	if s.pages, err = parseTemplates(); err != nil {
		return nil, err
	}
	return s, nil
}

// Route is one endpoint: a net/http pattern and its handler.
type Route struct {
	Pattern string
	Handler http.Handler
}

// Routes lists the whole web site, to be mounted on the API server's mux.
// Each language has its own patterns (/ar/…, /en/…) so that none overlaps
// another component's paths.
func (s *Storefront) Routes() []Route {
	rs := []Route{
		{"GET /{$}", s.handleRoot()},
		{"GET /assets/{file}", s.handleAsset()},
		{"GET /images/products/{file}", s.handleImage()},
		{"GET /favicon.ico", s.handleFavicon()},
		{"GET /robots.txt", s.handleRobots()},
		{"GET /sitemap.xml", s.handleSitemap()},
	}
	if s.Media != nil {
		rs = append(rs, Route{"GET /media/{path...}", s.Media.Handler()})
	}
	for _, lang := range i18n.Langs {
		p := "/" + string(lang)
		rs = append(rs,
			Route{"GET " + p + "/{$}", s.page(lang, s.home)},
			Route{"GET " + p + "/search", s.page(lang, s.search)},
			Route{"GET " + p + "/sale", s.page(lang, s.salePageOf)},
			Route{"GET " + p + "/returns", s.page(lang, s.policy("returns"))},
			Route{"GET " + p + "/delivery", s.page(lang, s.policy("delivery"))},
			Route{"GET " + p + "/c/{category}", s.page(lang, s.category)},
			Route{"GET " + p + "/p/{slug}", s.page(lang, s.product)},
			Route{"GET " + p + "/cart", s.page(lang, s.cartPage)},
			Route{"POST " + p + "/cart/items", s.form(lang, s.cartAdd)},
			Route{"POST " + p + "/cart/set", s.form(lang, s.cartSet)},
			Route{"GET " + p + "/checkout", s.page(lang, s.checkoutPage)},
			Route{"POST " + p + "/checkout", s.form(lang, s.checkoutPlace)},
			Route{"GET " + p + "/queue", s.page(lang, s.queuePage)},
			Route{"GET " + p + "/orders/{id}", s.page(lang, s.orderPage)},
			Route{"POST " + p + "/orders/{id}/pay", s.form(lang, s.orderPay)},
			Route{"GET " + p + "/orders/{id}/return", s.page(lang, s.paymentReturn)},
			Route{"POST " + p + "/market", s.form(lang, s.setMarket)},
			Route{"POST " + p + "/consent", s.form(lang, s.setConsent)},
			Route{"GET " + p + "/", s.page(lang, s.notFound)},
		)
	}
	return rs
}

package storefront

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/souq-commerce/souq/internal/bidi"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/media"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storefront/i18n"
)

const (
	featuredCount = 8
	listPageSize  = 24
	// lowStock is the level at and below which a product page says
	// "only N left".
	lowStock = 5
	// facetTTL is how long category and brand counts are cached.
	facetTTL = 30 * time.Second
	// featuredTTL is how long the home page's products are cached: as long
	// as the catalogue caches a product, so stock shown lags by no more.
	featuredTTL = time.Second
)

// card is a product in a list.
type card struct {
	URL, Image, Name, Brand string
	SrcSet                  string // uploaded photos' renditions; empty for a generated picture
	Price, Regular          souq.Money
	OnSale, SoldOut         bool
	// Eager loads the image at once: the first card of the home page, its
	// largest image (the Largest Contentful Paint).
	Eager bool
}

func (s *Storefront) cards(v *visit, items []catalog.Offer) []card {
	out := make([]card, 0, len(items))
	for _, o := range items {
		c := card{URL: v.url("/p/" + o.Slug), Image: o.Image, Name: o.Name.In(v.lang), Brand: o.Brand,
			Price: o.Price, Regular: o.RegularPrice, OnSale: o.OnSale, SoldOut: !o.InStock()}
		if len(o.Images) > 0 {
			c.Image, c.SrcSet = cardImage(o.Images[0])
		}
		out = append(out, c)
	}
	return out
}

// photos are a product's uploaded photos for its page: each at its largest
// rendition with every width in srcset.
func photos(images []souq.Image) []photo {
	var out []photo
	for _, img := range images {
		out = append(out, photo{Src: media.URL(img, img.Width), SrcSet: media.SrcSet(img), Width: img.Width, Height: img.Height})
	}
	return out
}

// cardImage is a card's picture of an uploaded photo: the rendition
// nearest 640 px wide (a 2× phone's half screen) and every width.
func cardImage(img souq.Image) (src, srcset string) {
	w := img.Widths[0]
	for _, x := range img.Widths {
		if x <= 640 {
			w = x
		}
	}
	return media.URL(img, w), media.SrcSet(img)
}

// saleBanner is the flash sale running or coming next.
type saleBanner struct {
	URL         string // the sale page
	MaxDiscount int    // percent: "up to −30%"
	Name        string
	Running     bool
	At          time.Time          // the end of a running sale, the start of a coming one
	ISO         string             // At for <time datetime>
	Text        string             // At in the market's time zone, for shoppers without JS
	offers      catalog.SaleOffers // the sale's products in the visitor's market, for the pages that list them
}

func (s *Storefront) sale(v *visit) (*saleBanner, error) {
	offers, ok, err := s.Catalog.CurrentSaleOffers(v.ctx(), v.market, catalog.SaleFilter{})
	if err != nil || !ok {
		return nil, err
	}
	sale := offers.Sale
	b := &saleBanner{URL: v.url("/sale"), Name: sale.Name.In(v.lang), Running: offers.Running, At: sale.StartsAt,
		MaxDiscount: offers.MaxDiscount, offers: offers}
	if b.Running {
		b.At = sale.EndsAt
	}
	b.ISO = b.At.UTC().Format(time.RFC3339)
	local := b.At.In(v.market.Code.Zone())
	b.Text = i18n.T(v.lang, "format.datetime_zone", i18n.DateTime(v.lang, local), i18n.T(v.lang, "zone."+strings.ToLower(string(v.market.Code))))
	return b, nil
}

type categoryLink struct {
	Key, URL string
	Count    int
}

type homePage struct {
	base
	Sale       *saleBanner
	SaleItems  []saleCard // a running sale's first products
	Featured   []card
	Categories []categoryLink
}

func (s *Storefront) home(v *visit) error {
	page, err := s.featured.get(v.ctx(), v.market)
	if err != nil {
		return err
	}
	f, err := s.facets.get(v.ctx(), v.market)
	if err != nil {
		return err
	}
	p := homePage{base: s.base(v, i18n.T(v.lang, "home.title")), Featured: s.cards(v, page.Items)}
	if len(p.Featured) > 0 {
		p.Featured[0].Eager = true
	}
	if p.Track != nil {
		p.Track.Page = &trackPage{Name: "Home", Properties: pageProps{Path: v.r.URL.Path, Title: p.Title}}
	}
	if p.Sale, err = s.sale(v); err != nil {
		return err
	}
	p.SaleItems = s.saleItems(v, p.Sale)
	if len(p.SaleItems) > 0 { // the sale's strip comes first: its first picture is the largest
		p.SaleItems[0].Eager = true
		if len(p.Featured) > 0 {
			p.Featured[0].Eager = false
		}
	}
	for _, c := range f.Categories {
		p.Categories = append(p.Categories, categoryLink{Key: c.Value, URL: v.url("/c/" + c.Value), Count: c.Count})
	}
	s.render(v, 200, "home", p)
	return nil
}

type option struct {
	Value, Label string
	Selected     bool
}

type listPage struct {
	base
	Heading   string
	Action    string // the filter form's address
	Search    string
	Brands    []option
	Sorts     []option
	Items     []card
	Total     int
	Exact     bool // Total is exact; else at least Total match (a broad search)
	Truncated int  // on the last page numbers reach, when more match: how many they reach
	Page      int
	Pages     int // 0 when the total is not exact
	PrevURL   string
	NextURL   string
	Empty     string // the message when nothing matches
	IsSearch  bool
	Category  string
	Sale      *saleBanner
	FirstItem int
	OnSale    bool // the "on sale" filter
}

func (s *Storefront) category(v *visit) error {
	key := v.r.PathValue("category")
	f, err := s.facets.get(v.ctx(), v.market)
	if err != nil {
		return err
	}
	known := false
	for _, c := range f.Categories {
		known = known || c.Value == key
	}
	if !known {
		return souq.Errorf(souq.ErrNotFound, "no category %q", key)
	}
	name := catalog.CategoryName(key).In(v.lang)
	p := listPage{base: s.base(v, name), Heading: name, Category: key, Action: v.url("/c/" + key)}
	p.Description = describe(i18n.T(v.lang, "list.description", name))
	return s.list(v, f, p)
}

func (s *Storefront) search(v *visit) error {
	f, err := s.facets.get(v.ctx(), v.market)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(v.r.URL.Query().Get("q"))
	for len(q) > 200 { // the catalog's limit; keep whole characters
		r := []rune(q)
		q = string(r[:len(r)-1])
	}
	p := listPage{base: s.base(v, i18n.T(v.lang, "search.title")), Action: v.url("/search"), Search: q, IsSearch: true}
	p.Query = q
	if q != "" {
		p.Title = i18n.T(v.lang, "search.results_for", q)
		p.Heading = p.Title
	} else {
		p.Heading = i18n.T(v.lang, "search.title")
	}
	return s.list(v, f, p)
}

var sorts = []catalog.Sort{catalog.SortFeatured, catalog.SortPriceAsc, catalog.SortPriceDsc, catalog.SortNewest, catalog.SortName}

// list fills in and renders a category or search page. Unknown filter
// values are ignored rather than refused: they come from hand-edited
// addresses.
func (s *Storefront) list(v *visit, f catalog.Facets, p listPage) error {
	q := v.r.URL.Query()
	brand, sort := q.Get("brand"), catalog.Sort(q.Get("sort"))
	pageNo, err := strconv.Atoi(q.Get("page"))
	if err != nil || pageNo < 1 || pageNo > catalog.MaxPagedItems/listPageSize {
		pageNo = 1
	}
	p.Brands = []option{{Value: "", Label: i18n.T(v.lang, "filter.all_brands")}}
	brandOK := brand == ""
	for _, b := range f.Brands {
		p.Brands = append(p.Brands, option{Value: b.Value, Label: b.Value, Selected: b.Value == brand})
		brandOK = brandOK || b.Value == brand
	}
	if !brandOK {
		brand = ""
	}
	sortOK := false
	for _, so := range sorts {
		p.Sorts = append(p.Sorts, option{Value: string(so), Label: i18n.T(v.lang, "sort."+sortKey(so)), Selected: so == sort})
		sortOK = sortOK || so == sort
	}
	if !sortOK {
		sort = catalog.SortFeatured
	}
	if p.IsSearch && p.Search == "" {
		p.Empty = i18n.T(v.lang, "search.prompt")
		s.render(v, 200, "list", p)
		return nil
	}
	p.OnSale = q.Get("sale") == "1"
	page, err := s.Catalog.List(v.ctx(), catalog.ListInput{Market: v.market, Category: p.Category, Brand: brand,
		Search: p.Search, Sort: sort, Page: pageNo, PageSize: listPageSize, Sale: p.OnSale})
	if err != nil {
		return err
	}
	p.Items, p.Total, p.Exact, p.Page = s.cards(v, page.Items), page.Total, page.TotalExact, pageNo
	maxPage := catalog.MaxPagedItems / listPageSize
	if p.Exact {
		p.Pages = max(1, (page.Total+listPageSize-1)/listPageSize)
	}
	// Page numbers reach the first MaxPagedItems products; past them a
	// shopper narrows the list rather than paging on, and the last
	// reachable page says so.
	more := p.Pages > maxPage || !p.Exact && page.NextCursor != ""
	p.Pages = min(p.Pages, maxPage)
	if more && pageNo >= maxPage {
		p.Truncated = maxPage * listPageSize
	}
	p.FirstItem = (pageNo-1)*listPageSize + 1
	link := func(n int) string {
		u := url.Values{}
		if p.Search != "" {
			u.Set("q", p.Search)
		}
		if brand != "" {
			u.Set("brand", brand)
		}
		if sort != "" {
			u.Set("sort", string(sort))
		}
		if p.OnSale {
			u.Set("sale", "1")
		}
		if n > 1 {
			u.Set("page", strconv.Itoa(n))
		}
		if len(u) == 0 {
			return p.Action
		}
		return p.Action + "?" + u.Encode()
	}
	switch {
	case pageNo > 1 && p.Pages > 0:
		p.PrevURL = link(min(pageNo-1, p.Pages))
	case pageNo > 1:
		p.PrevURL = link(pageNo - 1)
	}
	if pageNo < p.Pages || p.Pages == 0 && page.NextCursor != "" && pageNo < maxPage {
		p.NextURL = link(pageNo + 1)
	}
	if len(p.Items) == 0 {
		p.Empty = i18n.T(v.lang, "list.empty")
	}
	if p.Track != nil {
		if p.IsSearch {
			p.Track.Events = append(p.Track.Events, trackEvent{Event: "Products Searched", Properties: searchProps{Query: p.Search, ResultCount: page.Total}})
		} else {
			p.Track.Events = append(p.Track.Events, listEvent(p.Category, p.Category, page.Items, (pageNo-1)*listPageSize))
		}
	}
	s.render(v, 200, "list", p)
	return nil
}

func sortKey(so catalog.Sort) string {
	if so == catalog.SortFeatured {
		return "featured"
	}
	return string(so)
}

type productPage struct {
	base
	Offer     catalog.Offer
	Name      string
	Desc      string
	Category  string
	SoldOut   bool
	NotSold   bool
	Low       bool
	Quantity  string
	QtyError  string
	VATRate   int64
	Sale      *saleBanner
	SaleEnds  string
	CartURL   string
	AddAction string
	LD        productLD
	Photos    []photo // uploaded photos; none: the generated picture
	// Shipping is the delivery of one unit to the market's capital (nil:
	// none configured).
	Shipping *shipping
}

// photo is an uploaded product photo on the product page.
type photo struct {
	Src, SrcSet   string
	Width, Height int
}

func (s *Storefront) product(v *visit) error {
	o, err := s.Catalog.Get(v.ctx(), v.r.PathValue("slug"), v.market)
	if err != nil {
		return err
	}
	s.renderProduct(v, o, 200, "1", "")
	return nil
}

// renderProduct shows a product page; qtyError is a message about the
// quantity the shopper asked for.
func (s *Storefront) renderProduct(v *visit, o catalog.Offer, status int, qty, qtyError string) {
	// The title is text only: its Latin runs get isolate marks.
	p := productPage{base: s.base(v, bidi.Marks(langDir(v.lang), o.Name.In(v.lang))), Offer: o, Name: o.Name.In(v.lang), Desc: o.Description.In(v.lang),
		Photos:   photos(o.Images),
		Category: catalog.CategoryName(o.Category).In(v.lang), SoldOut: !o.InStock(), NotSold: !o.Sold,
		Low: o.InStock() && o.Stock <= lowStock, Quantity: qty, QtyError: qtyError,
		VATRate: v.market.VATBasisPoints, AddAction: v.url("/cart/items")}
	p.OGType, p.OGImage = "product", origin(v.r)+productImage(o.Product)
	p.Description = describe(i18n.T(v.lang, "product.description", p.Name, o.Brand, o.Price.Format(v.lang)))
	if p.Desc != "" {
		p.Description = describe(p.Name + ": " + p.Desc)
	}
	// The product's own address, whichever form (a re-shown add-to-cart
	// form's POST) showed it.
	p.Canonical = origin(v.r) + v.url("/p/"+o.Slug)
	p.Alternates = p.Alternates[:0]
	for _, l := range alternates(origin(v.r), "/p/"+o.Slug) {
		p.Alternates = append(p.Alternates, langLink{Lang: souq.Lang(l.Hreflang), URL: l.Href})
	}
	p.LD = newProductLD(v, o, p.Canonical)
	if o.Sold {
		if sh, err := s.shipping(v, o.Price.Amount, ""); err != nil {
			s.log.Error("quote a product's delivery", "product", o.ID, "err", err)
		} else {
			p.Shipping = sh
		}
	}
	if o.OnSale {
		local := o.SaleEndsAt.In(v.market.Code.Zone())
		p.SaleEnds = i18n.DateTime(v.lang, local)
	}
	// A page shown again with an error is the same view: no second event.
	if p.Track != nil && o.Sold && status == http.StatusOK {
		p.Track.Events = append(p.Track.Events, trackEvent{Event: "Product Viewed", Properties: productProps(o)})
	}
	s.render(v, status, "product", p)
}

// marketCache keeps one value per market for ttl, so that the busiest pages
// do not query the catalogue on every request. Concurrent misses may load
// the value more than once; the last one loaded is kept.
type marketCache[V any] struct {
	ttl     time.Duration
	load    func(context.Context, souq.Market) (V, error)
	mu      sync.Mutex
	entries map[souq.MarketCode]cached[V]
}

type cached[V any] struct {
	v  V
	at time.Time
}

func newMarketCache[V any](ttl time.Duration, load func(context.Context, souq.Market) (V, error)) *marketCache[V] {
	return &marketCache[V]{ttl: ttl, load: load, entries: map[souq.MarketCode]cached[V]{}}
}

func (c *marketCache[V]) get(ctx context.Context, m souq.Market) (V, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[m.Code]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl {
		return e.v, nil
	}
	v, err := c.load(ctx, m)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	c.entries[m.Code] = cached[V]{v: v, at: now}
	c.mu.Unlock()
	return v, nil
}

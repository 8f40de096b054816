package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// MaxStock bounds a product's stock level.
const MaxStock = 1_000_000_000

// salesTTL is how long the running and scheduled sales are cached. A sale's
// start and end are applied on every request from the cached schedule by the
// request's own clock, so the cache only delays seeing a newly created or
// deleted sale, and admin changes through this service clear it at once.
const salesTTL = time.Second

// Service is the catalog's behaviour over a Store.
type Service struct {
	store Store
	now   func() time.Time
	log   *slog.Logger

	products productCache
	listings listingCache

	mu        sync.Mutex
	sales     []souq.Sale
	salesAt   time.Time
	salesLoad bool
}

// New returns a catalog service. now is the server clock (time.Now in
// production).
func New(store Store, now func() time.Time, log *slog.Logger) *Service {
	s := &Service{store: store, now: now, log: log.With("component", "catalog")}
	s.listings.init(s.log)
	return s
}

// Now returns the server time the catalog prices by.
func (s *Service) Now() time.Time { return s.now() }

// Offer is a product as sold in one market at one moment: the price to pay
// (the sale price while a sale runs), the regular price and the stock state.
type Offer struct {
	souq.Product
	Market       souq.MarketCode
	Price        souq.Money
	RegularPrice souq.Money
	OnSale       bool
	SaleID       souq.ID
	SaleEndsAt   time.Time
	Sold         bool // priced in this market
}

// InStock reports whether at least one unit is left.
func (o Offer) InStock() bool { return o.Stock > 0 }

// Get returns the offer for a product, found by id or by slug.
func (s *Service) Get(ctx context.Context, idOrSlug string, m souq.Market) (Offer, error) {
	p, err := s.Product(ctx, idOrSlug)
	if err != nil {
		return Offer{}, err
	}
	return s.Offer(ctx, p, m)
}

// Product returns a product by id or slug, from the product cache when it
// is fresh (see productTTL).
func (s *Service) Product(ctx context.Context, idOrSlug string) (souq.Product, error) {
	if p, ok := s.products.get(idOrSlug, time.Now()); ok {
		return p, nil
	}
	var (
		p   souq.Product
		err error
	)
	if strings.HasPrefix(idOrSlug, souq.ProductPrefix) {
		p, err = s.store.Product(ctx, souq.ID(idOrSlug))
	} else {
		p, err = s.store.ProductBySlug(ctx, idOrSlug)
	}
	if errors.Is(err, souq.ErrNotFound) {
		return souq.Product{}, souq.Errorf(souq.ErrNotFound, "product %q not found", idOrSlug)
	}
	if err != nil {
		return souq.Product{}, fmt.Errorf("get product %s: %w", idOrSlug, err)
	}
	s.products.put(p, time.Now())
	return p, nil
}

// Offer prices a product in a market now.
func (s *Service) Offer(ctx context.Context, p souq.Product, m souq.Market) (Offer, error) {
	sales, err := s.activeSales(ctx)
	if err != nil {
		return Offer{}, err
	}
	return offer(p, m, sales, s.now()), nil
}

// offer prices p in m at now: the lowest price of a running sale that lists
// it, else its regular price.
func offer(p souq.Product, m souq.Market, sales []souq.Sale, now time.Time) Offer {
	regular, sold := p.Price(m)
	o := Offer{Product: p, Market: m.Code, Price: regular, RegularPrice: regular, Sold: sold}
	if !sold {
		return o
	}
	for _, s := range sales {
		if !s.ActiveAt(now) {
			continue
		}
		if amount, ok := s.Prices[p.ID][m.Code]; ok && amount < o.Price.Amount {
			o.Price = souq.M(amount, m.Currency)
			o.OnSale, o.SaleID, o.SaleEndsAt = true, s.ID, s.EndsAt
		}
	}
	return o
}

// activeSales returns the running and scheduled sales, cached for salesTTL.
func (s *Service) activeSales(ctx context.Context) ([]souq.Sale, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.salesLoad && now.Sub(s.salesAt) < salesTTL && !now.Before(s.salesAt) {
		return s.sales, nil
	}
	sales, err := s.store.SalesEndingAfter(ctx, now.Add(-salesTTL))
	if err != nil {
		return nil, fmt.Errorf("load sales: %w", err)
	}
	s.sales, s.salesAt, s.salesLoad = sales, now, true
	return sales, nil
}

func (s *Service) forgetSales() {
	s.mu.Lock()
	s.salesLoad = false
	s.mu.Unlock()
}

var (
	skuPattern      = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{2,39}$`)
	slugPattern     = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	categoryPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,39}$`)
)

// ProductInput is what an admin sends to create or replace a product.
type ProductInput struct {
	SKU         string                    `json:"sku"`
	Slug        string                    `json:"slug"`
	Brand       string                    `json:"brand"`
	Category    string                    `json:"category"`
	Name        souq.Localized            `json:"name"`
	Description souq.Localized            `json:"description"`
	Image       string                    `json:"image"`
	Prices      map[souq.MarketCode]int64 `json:"prices"`
	Stock       *int                      `json:"stock,omitempty"`
}

func (in ProductInput) validate(creating bool) error {
	var p souq.Problems
	if !skuPattern.MatchString(in.SKU) {
		p.Add("sku", "must be 3 to 40 characters of A-Z, 0-9 and '-'")
	}
	if len(in.Slug) > 100 || !slugPattern.MatchString(in.Slug) {
		p.Add("slug", "must be lower-case words of a-z and 0-9 joined by '-', at most 100 characters")
	}
	checkText(&p, "brand", in.Brand, 1, 80)
	if !categoryPattern.MatchString(in.Category) {
		p.Add("category", "must be a key of 2 to 40 characters of a-z, 0-9 and '-', such as \"skincare\"")
	}
	checkText(&p, "name.en", in.Name.EN, 1, 200)
	checkText(&p, "name.ar", in.Name.AR, 1, 200)
	checkText(&p, "description.en", in.Description.EN, 0, 5000)
	checkText(&p, "description.ar", in.Description.AR, 0, 5000)
	if len(in.Image) > 500 || (in.Image != "" && !strings.HasPrefix(in.Image, "/") && !strings.HasPrefix(in.Image, "https://")) {
		p.Add("image", "must be a site path starting with '/' or an https URL, at most 500 characters")
	}
	if len(in.Prices) == 0 {
		p.Add("prices", "must give a price in at least one market")
	}
	for code, amount := range in.Prices {
		if !code.Valid() {
			p.Add("prices."+string(code), "is not a market code; use one of AE, SA, QA, KW, BH, OM")
			continue
		}
		if amount < 1 || amount > souq.MaxAmount {
			p.Add("prices."+string(code), "must be between 1 and %d minor units", souq.MaxAmount)
		}
	}
	if in.Stock != nil && (*in.Stock < 0 || *in.Stock > MaxStock) {
		p.Add("stock", "must be between 0 and %d", MaxStock)
	}
	if in.Stock != nil && !creating {
		p.Add("stock", "is set with PUT /api/v1/admin/products/{id}/stock, not here")
	}
	return p.Err()
}

func checkText(p *souq.Problems, field, s string, min, max int) {
	n := len([]rune(strings.TrimSpace(s)))
	switch {
	case n < min && min == 1:
		p.Add(field, "is required")
	case n > max:
		p.Add(field, "must be at most %d characters", max)
	}
}

func (in ProductInput) product(id souq.ID, now time.Time) souq.Product {
	p := souq.Product{
		ID: id, SKU: in.SKU, Slug: in.Slug, Brand: strings.TrimSpace(in.Brand), Category: in.Category,
		Name:        souq.Localized{EN: strings.TrimSpace(in.Name.EN), AR: strings.TrimSpace(in.Name.AR)},
		Description: souq.Localized{EN: strings.TrimSpace(in.Description.EN), AR: strings.TrimSpace(in.Description.AR)},
		Image:       in.Image, Images: []souq.Image{}, Prices: in.Prices, CreatedAt: now, UpdatedAt: now,
	}
	if in.Stock != nil {
		p.Stock = *in.Stock
	}
	return p
}

// Create validates and stores a new product.
func (s *Service) Create(ctx context.Context, in ProductInput) (souq.Product, error) {
	if err := in.validate(true); err != nil {
		return souq.Product{}, err
	}
	p := in.product(souq.NewID(souq.ProductPrefix), s.now().UTC())
	if err := s.store.CreateProduct(ctx, p, SearchText(p)); err != nil {
		return souq.Product{}, fmt.Errorf("create product %s: %w", p.SKU, clash(err))
	}
	s.listings.invalidate()
	return p, nil
}

// MaxCreateBatch is how many products CreateMany stores per transaction.
const MaxCreateBatch = 1000

// CreateMany validates and stores many new products, for imports and load
// tests. Every input is validated before any is stored; they are then
// stored MaxCreateBatch at a time, each batch all or nothing, so on an
// error (say a duplicate SKU) the products of earlier batches stay. The
// i-th product is created at now+i µs, so the newest-first order is the
// reverse of the input's.
func (s *Service) CreateMany(ctx context.Context, ins []ProductInput) ([]souq.Product, error) {
	for i, in := range ins {
		if err := in.validate(true); err != nil {
			return nil, fmt.Errorf("product %d (%s): %w", i+1, in.SKU, err)
		}
	}
	now := s.now().UTC()
	out := make([]souq.Product, 0, len(ins))
	for start := 0; start < len(ins); start += MaxCreateBatch {
		batch := ins[start:min(start+MaxCreateBatch, len(ins))]
		nps := make([]NewProduct, len(batch))
		for i, in := range batch {
			p := in.product(souq.NewID(souq.ProductPrefix), now.Add(time.Duration(start+i)*time.Microsecond))
			nps[i] = NewProduct{Product: p, SearchText: SearchText(p)}
		}
		err := s.store.CreateProducts(ctx, nps)
		s.listings.invalidate()
		if err != nil {
			return out, fmt.Errorf("create products %d to %d: %w", start+1, start+len(batch), clash(err))
		}
		for _, np := range nps {
			out = append(out, np.Product)
		}
	}
	return out, nil
}

// Update validates and replaces a product's details (not its stock).
func (s *Service) Update(ctx context.Context, id souq.ID, in ProductInput) (souq.Product, error) {
	if err := in.validate(false); err != nil {
		return souq.Product{}, err
	}
	old, err := s.store.Product(ctx, id)
	if err != nil {
		return souq.Product{}, notFound(err, id)
	}
	p := in.product(id, s.now().UTC())
	p.CreatedAt, p.Stock, p.Images = old.CreatedAt, old.Stock, old.Images
	s.products.forget(id)
	if err := s.store.UpdateProduct(ctx, p, SearchText(p)); err != nil {
		return souq.Product{}, fmt.Errorf("update product %s: %w", id, clash(notFound(err, id)))
	}
	s.products.forget(id)
	s.listings.invalidate()
	return p, nil
}

// MaxImages is how many photos a product may have.
const MaxImages = 8

// SetImages replaces a product's photos (stored by package media), the
// first shown first.
func (s *Service) SetImages(ctx context.Context, id souq.ID, images []souq.Image) (souq.Product, error) {
	if len(images) > MaxImages {
		return souq.Product{}, souq.Errorf(souq.ErrInvalid, "a product has at most %d images", MaxImages)
	}
	if err := s.store.SetProductImages(ctx, id, images, s.now().UTC()); err != nil {
		return souq.Product{}, fmt.Errorf("set images of %s: %w", id, notFound(err, id))
	}
	s.products.forget(id)
	s.listings.invalidate()
	return s.store.Product(ctx, id)
}

// AddImage appends a photo (stored by package media) to a product's, unless
// it is there already: concurrent additions all land. A product with
// MaxImages photos refuses another (409).
func (s *Service) AddImage(ctx context.Context, id souq.ID, img souq.Image) (souq.Product, error) {
	_, err := s.store.AddProductImage(ctx, id, img, MaxImages, s.now().UTC())
	switch {
	case errors.Is(err, souq.ErrConflict):
		return souq.Product{}, souq.Errorf(souq.ErrConflict, "product %s has %d images already, the most it may have; delete one first", id, MaxImages)
	case err != nil:
		return souq.Product{}, fmt.Errorf("add an image to %s: %w", id, notFound(err, id))
	}
	s.products.forget(id)
	s.listings.invalidate()
	return s.store.Product(ctx, id)
}

// SetStock sets a product's stock level.
func (s *Service) SetStock(ctx context.Context, id souq.ID, quantity int) (souq.Product, error) {
	if quantity < 0 || quantity > MaxStock {
		return souq.Product{}, &souq.Error{Kind: souq.ErrInvalid, Detail: fmt.Sprintf("quantity must be between 0 and %d", MaxStock),
			Fields: []souq.FieldError{{Field: "quantity", Reason: fmt.Sprintf("must be between 0 and %d", MaxStock)}}}
	}
	if err := s.store.SetStock(ctx, id, quantity, s.now().UTC()); err != nil {
		return souq.Product{}, fmt.Errorf("set stock of %s: %w", id, notFound(err, id))
	}
	s.products.forget(id)
	s.listings.invalidate()
	return s.store.Product(ctx, id)
}

// clash turns a store's ProductClashError into the problem a client sees;
// other errors pass unchanged.
func clash(err error) error {
	var c *ProductClashError
	if !errors.As(err, &c) {
		return err
	}
	name := map[string]string{"id": "id", "sku": "SKU", "slug": "slug"}[c.Field]
	return &souq.Error{Kind: souq.ErrConflict, Detail: fmt.Sprintf("a product with %s %q already exists", name, c.Value),
		Fields: []souq.FieldError{{Field: c.Field, Reason: "is already used by another product"}}}
}

func notFound(err error, id souq.ID) error {
	if errors.Is(err, souq.ErrNotFound) {
		return souq.Errorf(souq.ErrNotFound, "product %q not found", id)
	}
	return err
}

// Validate checks a product input as Create would.
func (in ProductInput) Validate() error { return in.validate(true) }

// Stocks returns the stock levels of the products with the given ids, read
// from the store (not a cache): for the waiting room's view of a sale.
func (s *Service) Stocks(ctx context.Context, ids []souq.ID) (map[souq.ID]int, error) {
	out, err := s.store.Stocks(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("read stock: %w", err)
	}
	return out, nil
}

// StockLevel is one product's stock as the store holds it.
type StockLevel struct {
	ProductID souq.ID `json:"product_id"`
	Stock     int     `json:"stock"`
}

// MaxLowStock is the most products one LowStock call returns.
const MaxLowStock = 500

// LowStock returns up to limit products whose stock is at most atMost,
// lowest stock first (then by id), read from the store (not a cache).
// atMost must be 0 or more and limit 1 to MaxLowStock, or the error is
// an ErrInvalid. Every product counts: a product is always sold in at
// least one market (it cannot be saved without a price).
func (s *Service) LowStock(ctx context.Context, atMost, limit int) ([]StockLevel, error) {
	if atMost < 0 {
		return nil, souq.Errorf(souq.ErrInvalid, "the low-stock threshold must be 0 or more, not %d", atMost)
	}
	if limit < 1 || limit > MaxLowStock {
		return nil, souq.Errorf(souq.ErrInvalid, "the low-stock limit must be 1 to %d, not %d", MaxLowStock, limit)
	}
	levels, err := s.store.LowStock(ctx, atMost, limit)
	if err != nil {
		return nil, fmt.Errorf("low stock: %w", err)
	}
	return levels, nil
}

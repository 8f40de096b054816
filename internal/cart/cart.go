package cart

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/souq"
)

// Limits on a cart.
const (
	MaxLineQuantity = 100
	MaxLines        = 50
	// IdleLifetime is how long a cart lives without changes.
	IdleLifetime = 30 * 24 * time.Hour
)

// Service is the cart behaviour over a Store, pricing from the catalog.
type Service struct {
	store    Store
	catalog  *catalog.Service
	now      func() time.Time
	log      *slog.Logger
	outcomes *outcomes.Recorder // nil: refusals for stock are not counted
}

// New returns a cart service.
func New(store Store, cat *catalog.Service, now func() time.Time, log *slog.Logger) *Service {
	return &Service{store: store, catalog: cat, now: now, log: log.With("component", "cart")}
}

// SetOutcomes makes the Service count in r each change to a cart it
// refuses for stock (outcomes.KindCartOutOfStock), whether the shopper
// added a product or raised its quantity. Without it nothing is counted.
// Call it before the Service is used.
func (s *Service) SetOutcomes(r *outcomes.Recorder) { s.outcomes = r }

// View is a cart priced now in its market.
type View struct {
	ID        souq.ID
	Market    souq.Market
	Lines     []Line
	Total     souq.Money
	VAT       souq.Money
	Items     int // units in the cart
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Line is one priced cart line. A line whose product is gone or not sold in
// the cart's market stays visible with Available false, so the shopper sees
// why it will not be ordered; it counts towards no total.
type Line struct {
	Offer     catalog.Offer
	ProductID souq.ID
	Quantity  int
	LineTotal souq.Money
	VAT       souq.Money
	Available bool
	// Shortfall is set when fewer units are in stock than the line wants.
	Shortfall bool
}

// Create starts an empty cart in a market.
func (s *Service) Create(ctx context.Context, market string) (View, error) {
	m, err := souq.LookupMarket(market)
	if err != nil {
		return View{}, err
	}
	now := s.now().UTC()
	c := souq.Cart{ID: souq.NewCartID(), Market: m.Code, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateCart(ctx, c); err != nil {
		return View{}, fmt.Errorf("create cart: %w", err)
	}
	return s.view(ctx, c)
}

// Get returns a priced cart.
func (s *Service) Get(ctx context.Context, id souq.ID) (View, error) {
	c, err := s.cart(ctx, id)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, c)
}

// Raw returns the stored cart without pricing it.
func (s *Service) Raw(ctx context.Context, id souq.ID) (souq.Cart, error) {
	return s.cart(ctx, id)
}

func (s *Service) cart(ctx context.Context, id souq.ID) (souq.Cart, error) {
	c, err := s.store.Cart(ctx, id)
	if errors.Is(err, souq.ErrNotFound) {
		return souq.Cart{}, souq.Errorf(souq.ErrNotFound, "cart not found")
	}
	if err != nil {
		return souq.Cart{}, fmt.Errorf("get cart: %w", err)
	}
	return c, nil
}

// AddItem adds quantity units of a product to a cart.
func (s *Service) AddItem(ctx context.Context, id, productID souq.ID, quantity int) (View, error) {
	if quantity < 1 || quantity > MaxLineQuantity {
		return View{}, quantityError(quantity)
	}
	c, err := s.cart(ctx, id)
	if err != nil {
		return View{}, err
	}
	p, err := s.catalog.Product(ctx, string(productID))
	if err != nil {
		return View{}, err
	}
	for _, it := range c.Items {
		if it.ProductID == p.ID {
			quantity += it.Quantity
		}
	}
	return s.set(ctx, c, p.ID, quantity)
}

// SetItem sets the quantity of a product (by id or slug) in a cart; 0
// removes it, even when the product no longer exists.
func (s *Service) SetItem(ctx context.Context, id, productID souq.ID, quantity int) (View, error) {
	if quantity < 0 || quantity > MaxLineQuantity {
		return View{}, quantityError(quantity)
	}
	c, err := s.cart(ctx, id)
	if err != nil {
		return View{}, err
	}
	if !hasLine(c, productID) {
		p, err := s.catalog.Product(ctx, string(productID))
		if err != nil && quantity > 0 {
			return View{}, err
		}
		if err == nil {
			productID = p.ID
		}
	}
	return s.set(ctx, c, productID, quantity)
}

// set stores a line; productID is a product id, not a slug.
func (s *Service) set(ctx context.Context, c souq.Cart, productID souq.ID, quantity int) (View, error) {
	m := souq.MustMarket(c.Market)
	if quantity > 0 {
		if quantity > MaxLineQuantity {
			return View{}, quantityError(quantity)
		}
		if !hasLine(c, productID) && len(c.Items) >= MaxLines {
			return View{}, souq.Errorf(souq.ErrInvalid, "a cart holds at most %d different products", MaxLines)
		}
		p, err := s.catalog.Product(ctx, string(productID))
		if err != nil {
			return View{}, err
		}
		if _, sold := p.Price(m); !sold {
			return View{}, souq.Errorf(souq.ErrInvalid, "product %s is not sold in %s", p.SKU, m.Code)
		}
		if p.Stock < quantity {
			if s.outcomes != nil {
				s.outcomes.Record(outcomes.KindCartOutOfStock)
			}
			return View{}, &souq.Error{Kind: souq.ErrOutOfStock,
				Detail: fmt.Sprintf("only %d of %s left in stock", p.Stock, p.SKU),
				Extra:  map[string]any{"product_id": p.ID, "available": p.Stock}}
		}
	}
	err := s.store.SetCartItem(ctx, c.ID, souq.CartItem{ProductID: productID, Quantity: quantity}, s.now().UTC())
	if err != nil {
		return View{}, fmt.Errorf("set cart item: %w", err)
	}
	return s.Get(ctx, c.ID)
}

// SetMarket moves a cart to another market; prices follow.
func (s *Service) SetMarket(ctx context.Context, id souq.ID, market string) (View, error) {
	m, err := souq.LookupMarket(market)
	if err != nil {
		return View{}, err
	}
	if _, err := s.cart(ctx, id); err != nil {
		return View{}, err
	}
	if err := s.store.SetCartMarket(ctx, id, m.Code, s.now().UTC()); err != nil {
		return View{}, fmt.Errorf("set cart market: %w", err)
	}
	return s.Get(ctx, id)
}

// Expire removes carts idle for longer than IdleLifetime.
func (s *Service) Expire(ctx context.Context) (int, error) {
	return s.store.DeleteCartsIdleSince(ctx, s.now().Add(-IdleLifetime))
}

func (s *Service) view(ctx context.Context, c souq.Cart) (View, error) {
	m := souq.MustMarket(c.Market)
	v := View{ID: c.ID, Market: m, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		Total: souq.M(0, m.Currency), VAT: souq.M(0, m.Currency), Lines: make([]Line, 0, len(c.Items))}
	for _, it := range c.Items {
		line := Line{ProductID: it.ProductID, Quantity: it.Quantity,
			LineTotal: souq.M(0, m.Currency), VAT: souq.M(0, m.Currency)}
		p, err := s.catalog.Product(ctx, string(it.ProductID))
		switch {
		case errors.Is(err, souq.ErrNotFound):
			v.Lines = append(v.Lines, line)
			continue
		case err != nil:
			return View{}, err
		}
		o, err := s.catalog.Offer(ctx, p, m)
		if err != nil {
			return View{}, err
		}
		line.Offer = o
		line.Available = o.Sold
		if o.Sold {
			total, vat := souq.LineTotal(o.Price.Amount, it.Quantity, m)
			line.LineTotal, line.VAT = souq.M(total, m.Currency), souq.M(vat, m.Currency)
			line.Shortfall = o.Stock < it.Quantity
			v.Total.Amount += total
			v.VAT.Amount += vat
			v.Items += it.Quantity
		}
		v.Lines = append(v.Lines, line)
	}
	return v, nil
}

func hasLine(c souq.Cart, id souq.ID) bool {
	for _, it := range c.Items {
		if it.ProductID == id {
			return true
		}
	}
	return false
}

func quantityError(q int) error {
	return &souq.Error{Kind: souq.ErrInvalid,
		Detail: fmt.Sprintf("quantity %d is out of range: use 1 to %d (0 to remove with PUT)", q, MaxLineQuantity),
		Fields: []souq.FieldError{{Field: "quantity", Reason: fmt.Sprintf("must be between 1 and %d", MaxLineQuantity)}}}
}

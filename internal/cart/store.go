// Package cart owns shopping carts: a shopper's basket in one market, priced
// live from the catalog with VAT, and showing how much stock is left.
package cart

import (
	"context"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Store is the persistence carts need.
type Store interface {
	// CreateCart stores a new, empty cart.
	CreateCart(ctx context.Context, c souq.Cart) error
	// Cart returns a cart with its items in the order they were first
	// added; ErrNotFound if there is none.
	Cart(ctx context.Context, id souq.ID) (souq.Cart, error)
	// SetCartItem sets the quantity of a product in a cart, adding the line
	// if it is new and removing it when quantity is 0; it updates the cart's
	// UpdatedAt. ErrNotFound if the cart does not exist.
	SetCartItem(ctx context.Context, id souq.ID, item souq.CartItem, at time.Time) error
	// SetCartMarket changes a cart's market; ErrNotFound if there is none.
	SetCartMarket(ctx context.Context, id souq.ID, m souq.MarketCode, at time.Time) error
	// DeleteCartsIdleSince removes carts not updated since t and returns
	// how many it removed.
	DeleteCartsIdleSince(ctx context.Context, t time.Time) (int, error)
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/souq-commerce/souq/internal/souq"
)

// CreateCart stores a new, empty cart; any items in c are ignored. A
// duplicate id is an ErrConflict.
func (db *DB) CreateCart(ctx context.Context, c souq.Cart) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO carts (id, market, created_at, updated_at) VALUES ($1, $2, $3, $4)`,
		c.ID, string(c.Market), c.CreatedAt, c.UpdatedAt)
	if sqlState(err) == codeUniqueViolation {
		return fmt.Errorf("cart: %w", souq.ErrConflict)
	}
	if err != nil {
		return unavailable(fmt.Errorf("create cart: %w", err))
	}
	return nil
}

// Cart returns a cart with its items in the order they were first added;
// ErrNotFound if there is none. A cart id is a capability, so errors do not
// repeat it.
func (db *DB) Cart(ctx context.Context, id souq.ID) (souq.Cart, error) {
	c := souq.Cart{Items: []souq.CartItem{}}
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT id, market, created_at, updated_at FROM carts WHERE id = $1`, id).
			Scan(&c.ID, &c.Market, &c.CreatedAt, &c.UpdatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("cart: %w", souq.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("get cart: %w", err)
		}
		c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
		rows, err := tx.Query(ctx, `SELECT product_id, quantity FROM cart_items WHERE cart_id = $1 ORDER BY position`, id)
		if err != nil {
			return fmt.Errorf("get cart items: %w", err)
		}
		var it souq.CartItem
		_, err = pgx.ForEachRow(rows, []any{&it.ProductID, &it.Quantity}, func() error {
			c.Items = append(c.Items, it)
			return nil
		})
		if err != nil {
			return fmt.Errorf("get cart items: %w", err)
		}
		return nil
	})
	if err != nil {
		return souq.Cart{}, err
	}
	return c, nil
}

// SetCartItem sets the quantity of a product in a cart, adding the line at
// the end if it is new and removing it when the quantity is 0 (or less); it
// sets the cart's UpdatedAt to at. ErrNotFound if the cart does not exist.
// The cart's row is locked first, so two items added at once get distinct
// positions.
func (db *DB) SetCartItem(ctx context.Context, id souq.ID, item souq.CartItem, at time.Time) error {
	return db.writeTx(ctx, func(tx pgx.Tx) error {
		if err := touchCart(ctx, tx, id, at); err != nil {
			return err
		}
		var err error
		if item.Quantity <= 0 {
			_, err = tx.Exec(ctx, `DELETE FROM cart_items WHERE cart_id = $1 AND product_id = $2`, id, item.ProductID)
		} else {
			_, err = tx.Exec(ctx, `INSERT INTO cart_items (cart_id, product_id, quantity, position)
				VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), 0) + 1 FROM cart_items WHERE cart_id = $1))
				ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = excluded.quantity`,
				id, item.ProductID, item.Quantity)
		}
		if err != nil {
			return fmt.Errorf("set cart item %s: %w", item.ProductID, err)
		}
		return nil
	})
}

// SetCartMarket changes a cart's market; ErrNotFound if there is none.
func (db *DB) SetCartMarket(ctx context.Context, id souq.ID, m souq.MarketCode, at time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE carts SET market = $1, updated_at = $2 WHERE id = $3`, string(m), at, id)
	if err != nil {
		return unavailable(fmt.Errorf("set cart market: %w", err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("cart: %w", souq.ErrNotFound)
	}
	return nil
}

// touchCart sets a cart's UpdatedAt, locking its row; ErrNotFound if there
// is no such cart.
func touchCart(ctx context.Context, tx pgx.Tx, id souq.ID, at time.Time) error {
	tag, err := tx.Exec(ctx, `UPDATE carts SET updated_at = $1 WHERE id = $2`, at, id)
	if err != nil {
		return fmt.Errorf("update cart: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("cart: %w", souq.ErrNotFound)
	}
	return nil
}

// DeleteCartsIdleSince removes the carts whose UpdatedAt is before t, with
// their items, and returns how many it removed.
func (db *DB) DeleteCartsIdleSince(ctx context.Context, t time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM carts WHERE updated_at < $1`, t)
	if err != nil {
		return 0, unavailable(fmt.Errorf("delete idle carts: %w", err))
	}
	return int(tag.RowsAffected()), nil
}

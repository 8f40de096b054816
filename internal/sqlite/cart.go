package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// CreateCart stores a new, empty cart; any items in c are ignored. A
// duplicate id is an ErrConflict.
func (db *DB) CreateCart(ctx context.Context, c souq.Cart) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM carts WHERE id = ?`, c.ID).Scan(&n); err != nil {
			return fmt.Errorf("create cart: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("cart %s: %w", c.ID, souq.ErrConflict)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO carts (id, market, created_at, updated_at) VALUES (?, ?, ?, ?)`,
			c.ID, string(c.Market), micros(c.CreatedAt), micros(c.UpdatedAt))
		if err != nil {
			return fmt.Errorf("create cart: %w", err)
		}
		return nil
	})
}

// Cart returns a cart with its items in the order they were first added;
// ErrNotFound if there is none. A cart id is a capability, so errors do not
// repeat it.
func (db *DB) Cart(ctx context.Context, id souq.ID) (souq.Cart, error) {
	c := souq.Cart{Items: []souq.CartItem{}}
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var created, updated int64
		err := tx.QueryRowContext(ctx, `SELECT id, market, created_at, updated_at FROM carts WHERE id = ?`, id).
			Scan(&c.ID, &c.Market, &created, &updated)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("cart: %w", souq.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("get cart: %w", err)
		}
		c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
		rows, err := tx.QueryContext(ctx, `SELECT product_id, quantity FROM cart_items
			WHERE cart_id = ? ORDER BY position`, id)
		if err != nil {
			return fmt.Errorf("get cart items: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var it souq.CartItem
			if err := rows.Scan(&it.ProductID, &it.Quantity); err != nil {
				return fmt.Errorf("get cart items: %w", err)
			}
			c.Items = append(c.Items, it)
		}
		return rows.Err()
	})
	if err != nil {
		return souq.Cart{}, err
	}
	return c, nil
}

// SetCartItem sets the quantity of a product in a cart, adding the line at
// the end if it is new and removing it when the quantity is 0 (or less); it
// sets the cart's UpdatedAt to at. ErrNotFound if the cart does not exist.
func (db *DB) SetCartItem(ctx context.Context, id souq.ID, item souq.CartItem, at time.Time) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if err := touchCart(ctx, tx, id, at); err != nil {
			return err
		}
		var err error
		if item.Quantity <= 0 {
			_, err = tx.ExecContext(ctx, `DELETE FROM cart_items WHERE cart_id = ? AND product_id = ?`, id, item.ProductID)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO cart_items (cart_id, product_id, quantity, position)
				VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(position), 0) + 1 FROM cart_items WHERE cart_id = ?1))
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
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		n, err := rowsAffected(tx.ExecContext(ctx, `UPDATE carts SET market = ?, updated_at = ? WHERE id = ?`,
			string(m), micros(at), id))
		if err != nil {
			return fmt.Errorf("set cart market: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("cart: %w", souq.ErrNotFound)
		}
		return nil
	})
}

// touchCart sets a cart's UpdatedAt; ErrNotFound if there is no such cart.
func touchCart(ctx context.Context, tx *sql.Tx, id souq.ID, at time.Time) error {
	n, err := rowsAffected(tx.ExecContext(ctx, `UPDATE carts SET updated_at = ? WHERE id = ?`, micros(at), id))
	if err != nil {
		return fmt.Errorf("update cart: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("cart: %w", souq.ErrNotFound)
	}
	return nil
}

// DeleteCartsIdleSince removes the carts whose UpdatedAt is before t, with
// their items, and returns how many it removed.
func (db *DB) DeleteCartsIdleSince(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = rowsAffected(tx.ExecContext(ctx, `DELETE FROM carts WHERE updated_at < ?`, micros(t)))
		if err != nil {
			return fmt.Errorf("delete idle carts: %w", err)
		}
		return nil
	})
	return int(n), err
}

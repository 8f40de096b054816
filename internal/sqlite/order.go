package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// createOrderTx writes one order inside tx: for every line a conditional
// stock decrement, the order and its lines, the outbox event, the removal of
// the cart's items when o.CartID is set, and the completion of the
// idempotency key when done is not nil. When a line cannot be filled the
// error is a *souq.OutOfStockError naming the first such product (Available 0
// for an unknown product). When done names a key that is no longer in flight
// (released, or taken over and completed by another request) the error is an
// ErrConflict. The caller rolls back what it wrote on any error.
func (db *DB) createOrderTx(ctx context.Context, tx execer, o souq.Order, event souq.OutboxEvent, done *checkout.KeyResult) error {
	for _, l := range o.Lines {
		if err := takeStock(ctx, tx, l, o.CreatedAt); err != nil {
			return err
		}
	}
	if err := insertOrder(ctx, tx, o); err != nil {
		return err
	}
	if err := insertOutbox(ctx, tx, event); err != nil {
		return err
	}
	if o.CartID != "" {
		if _, err := tx.ExecContext(ctx, sqlEmptyCart, o.CartID); err != nil {
			return fmt.Errorf("create order %s: empty cart: %w", o.ID, err)
		}
	}
	if done != nil {
		return db.completeKey(ctx, tx, *done, o.CreatedAt)
	}
	return nil
}

// takeStock decrements a line's product stock if enough is left, or returns
// a *souq.OutOfStockError.
func takeStock(ctx context.Context, tx execer, l souq.OrderLine, at time.Time) error {
	n, err := rowsAffected(tx.ExecContext(ctx,
		sqlTakeStock,
		l.Quantity, micros(at), l.ProductID, l.Quantity))
	if err != nil {
		return fmt.Errorf("take stock of %s: %w", l.ProductID, err)
	}
	if n == 1 {
		return nil
	}
	oos := &souq.OutOfStockError{ProductID: l.ProductID, SKU: l.SKU, Requested: l.Quantity}
	err = tx.QueryRowContext(ctx, `SELECT sku, stock FROM products WHERE id = ?`, l.ProductID).Scan(&oos.SKU, &oos.Available)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read stock of %s: %w", l.ProductID, err)
	}
	return oos
}

func insertOrder(ctx context.Context, tx execer, o souq.Order) error {
	_, err := tx.ExecContext(ctx, sqlInsertOrder,
		o.ID, string(o.Status), string(o.Market), string(o.Currency), o.Total, o.VAT,
		o.Customer.Name, o.Customer.Email, o.Customer.Phone,
		o.ShippingAddress.Line1, o.ShippingAddress.Line2, o.ShippingAddress.Area, o.ShippingAddress.City,
		string(o.ShippingAddress.Country),
		string(o.Payment.Method), o.Payment.Provider, o.Payment.Reference,
		o.CartID, o.AccessTokenHash, micros(o.CreatedAt), micros(o.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert order %s: %w", o.ID, err)
	}
	for i, l := range o.Lines {
		_, err := tx.ExecContext(ctx, sqlInsertOrderLine,
			o.ID, i+1, l.ProductID, l.SKU, l.Name.EN, l.Name.AR, l.Brand, l.Category, l.Quantity,
			l.UnitPrice, l.OnSale, l.LineTotal, l.VAT, l.VATBasisPoints)
		if err != nil {
			return fmt.Errorf("insert order %s line %d: %w", o.ID, i+1, err)
		}
	}
	return nil
}

// orderColumns are the columns scanOrder reads.
const orderColumns = `id, status, market, currency, total, vat,
	customer_name, customer_email, customer_phone,
	ship_line1, ship_line2, ship_area, ship_city, ship_country,
	payment_method, payment_provider, payment_reference,
	cart_id, access_token_hash, created_at, updated_at`

func scanOrder(row interface{ Scan(...any) error }) (souq.Order, error) {
	var (
		o                souq.Order
		created, updated int64
	)
	err := row.Scan(&o.ID, &o.Status, &o.Market, &o.Currency, &o.Total, &o.VAT,
		&o.Customer.Name, &o.Customer.Email, &o.Customer.Phone,
		&o.ShippingAddress.Line1, &o.ShippingAddress.Line2, &o.ShippingAddress.Area, &o.ShippingAddress.City,
		&o.ShippingAddress.Country,
		&o.Payment.Method, &o.Payment.Provider, &o.Payment.Reference,
		&o.CartID, &o.AccessTokenHash, &created, &updated)
	o.CreatedAt, o.UpdatedAt = fromMicros(created), fromMicros(updated)
	o.Lines = []souq.OrderLine{}
	return o, err
}

// Order returns an order with its lines; ErrNotFound if there is none.
func (db *DB) Order(ctx context.Context, id souq.ID) (souq.Order, error) {
	var o souq.Order
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		o, err = orderTx(ctx, tx, id)
		return err
	})
	return o, err
}

// orderTx reads an order with its lines inside a transaction.
func orderTx(ctx context.Context, tx *sql.Tx, id souq.ID) (souq.Order, error) {
	o, err := scanOrder(tx.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return souq.Order{}, fmt.Errorf("order %s: %w", id, souq.ErrNotFound)
	}
	if err != nil {
		return souq.Order{}, fmt.Errorf("get order %s: %w", id, err)
	}
	orders := []souq.Order{o}
	if err := loadLines(ctx, tx, orders); err != nil {
		return souq.Order{}, err
	}
	return orders[0], nil
}

// loadLines fills in the lines of the given orders.
func loadLines(ctx context.Context, tx *sql.Tx, orders []souq.Order) error {
	if len(orders) == 0 {
		return nil
	}
	index := make(map[souq.ID]int, len(orders))
	args := make([]any, len(orders))
	for i, o := range orders {
		index[o.ID] = i
		args[i] = o.ID
	}
	err := queryIn(ctx, tx, `SELECT order_id, product_id, sku, name_en, name_ar, brand, category,
		quantity, unit_price, on_sale, line_total, vat, vat_basis_points
		FROM order_lines WHERE order_id IN (?) ORDER BY order_id, line_no`, args,
		func(rows *sql.Rows) error {
			var (
				orderID souq.ID
				l       souq.OrderLine
			)
			err := rows.Scan(&orderID, &l.ProductID, &l.SKU, &l.Name.EN, &l.Name.AR, &l.Brand, &l.Category,
				&l.Quantity, &l.UnitPrice, &l.OnSale, &l.LineTotal, &l.VAT, &l.VATBasisPoints)
			if err != nil {
				return err
			}
			o := &orders[index[orderID]]
			o.Lines = append(o.Lines, l)
			return nil
		})
	if err != nil {
		return fmt.Errorf("load order lines: %w", err)
	}
	return nil
}

// ListOrders returns orders with their lines, newest first (ties by id,
// descending), and how many orders there are. A limit of 0 or less returns
// every order from offset on.
func (db *DB) ListOrders(ctx context.Context, offset, limit int) ([]souq.Order, int, error) {
	if limit <= 0 {
		limit = -1
	}
	orders := []souq.Order{}
	var total int
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders`).Scan(&total); err != nil {
			return fmt.Errorf("count orders: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+orderColumns+` FROM orders
			ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, limit, max(offset, 0))
		if err != nil {
			return fmt.Errorf("list orders: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			o, err := scanOrder(rows)
			if err != nil {
				return fmt.Errorf("list orders: %w", err)
			}
			orders = append(orders, o)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list orders: %w", err)
		}
		rows.Close()
		return loadLines(ctx, tx, orders)
	})
	if err != nil {
		return nil, 0, err
	}
	return orders, total, nil
}

// CancelOrder commits, in one write transaction: the order's status set to
// cancelled if its status is one of from, its lines' stock restored, and the
// outbox event built by event from the cancelled order. If the status is
// not one of from nothing is written and the error is ErrConflict;
// ErrNotFound if there is no such order. An error from event rolls the
// transaction back and is returned.
func (db *DB) CancelOrder(ctx context.Context, id souq.ID, from []souq.OrderStatus, at time.Time,
	event func(souq.Order) (souq.OutboxEvent, error)) (souq.Order, error) {
	var o souq.Order
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		if o, err = orderTx(ctx, tx, id); err != nil {
			return err
		}
		if !slices.Contains(from, o.Status) {
			return fmt.Errorf("order %s is %s: %w", id, o.Status, souq.ErrConflict)
		}
		_, err = tx.ExecContext(ctx, `UPDATE orders SET status = ?, updated_at = ? WHERE id = ?`,
			string(souq.StatusCancelled), micros(at), id)
		if err != nil {
			return fmt.Errorf("cancel order %s: %w", id, err)
		}
		o.Status, o.UpdatedAt = souq.StatusCancelled, fromMicros(micros(at))
		for _, l := range o.Lines {
			_, err := tx.ExecContext(ctx, `UPDATE products SET stock = stock + ?, updated_at = ? WHERE id = ?`,
				l.Quantity, micros(at), l.ProductID)
			if err != nil {
				return fmt.Errorf("cancel order %s: restore stock of %s: %w", id, l.ProductID, err)
			}
		}
		ev, err := event(o)
		if err != nil {
			return fmt.Errorf("cancel order %s: build event: %w", id, err)
		}
		return insertOutbox(ctx, tx, ev)
	})
	if err != nil {
		return souq.Order{}, err
	}
	return o, nil
}

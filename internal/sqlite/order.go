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
	if event.ID != "" {
		if err := insertOutbox(ctx, tx, event); err != nil {
			return err
		}
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

// insertOrder writes the order and its lines, or returns
// checkout.ErrNumberTaken when another order has its number.
func insertOrder(ctx context.Context, tx execer, o souq.Order) error {
	n, err := rowsAffected(tx.ExecContext(ctx, sqlInsertOrder,
		o.ID, string(o.Status), string(o.Market), string(o.Currency), o.Total, o.VAT,
		o.Customer.Name, o.Customer.Email, o.Customer.Phone,
		o.ShippingAddress.Line1, o.ShippingAddress.Line2, o.ShippingAddress.Area, o.ShippingAddress.City,
		string(o.ShippingAddress.Country),
		string(o.Payment.Method), o.Payment.Provider, o.Payment.Reference,
		o.CartID, o.AccessTokenHash, micros(o.CreatedAt), micros(o.UpdatedAt),
		string(o.Payment.Status), o.Payment.Capture, o.Payment.Failure, nullMicros(o.Payment.DueAt), nullMicros(o.CompletedAt),
		nullString(o.Number), string(o.Language), o.DeliveryFee, o.CODFee, o.Visitor.AnonymousID, o.Visitor.UserID))
	if err != nil {
		return fmt.Errorf("insert order %s: %w", o.ID, err)
	}
	if n == 0 { // ON CONFLICT (number) DO NOTHING
		return fmt.Errorf("insert order %s numbered %s: %w", o.ID, o.Number, checkout.ErrNumberTaken)
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
	cart_id, access_token_hash, created_at, updated_at,
	payment_status, payment_capture, payment_failure, payment_refund,
	payment_due_at, refunded_at, completed_at, cancelled_at, number, language,
	delivery_fee, cod_fee, visitor_anonymous_id, visitor_user_id`

// sqlSelectOrder reads one order's row.
const sqlSelectOrder = `SELECT ` + orderColumns + ` FROM orders WHERE id = ?`

func scanOrder(row interface{ Scan(...any) error }) (souq.Order, error) {
	var (
		o                               souq.Order
		created, updated                int64
		due, refunded, completed, cancl sql.NullInt64
		number                          sql.NullString
	)
	err := row.Scan(&o.ID, &o.Status, &o.Market, &o.Currency, &o.Total, &o.VAT,
		&o.Customer.Name, &o.Customer.Email, &o.Customer.Phone,
		&o.ShippingAddress.Line1, &o.ShippingAddress.Line2, &o.ShippingAddress.Area, &o.ShippingAddress.City,
		&o.ShippingAddress.Country,
		&o.Payment.Method, &o.Payment.Provider, &o.Payment.Reference,
		&o.CartID, &o.AccessTokenHash, &created, &updated,
		&o.Payment.Status, &o.Payment.Capture, &o.Payment.Failure, &o.Payment.RefundReference,
		&due, &refunded, &completed, &cancl, &number, &o.Language,
		&o.DeliveryFee, &o.CODFee, &o.Visitor.AnonymousID, &o.Visitor.UserID)
	o.Number = number.String
	o.CreatedAt, o.UpdatedAt = fromMicros(created), fromMicros(updated)
	o.Payment.DueAt, o.Payment.RefundedAt = timeOrNil(due), timeOrNil(refunded)
	o.CompletedAt, o.CancelledAt = timeOrNil(completed), timeOrNil(cancl)
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

// OrderByNumber returns the order numbered number with its lines;
// ErrNotFound if there is none.
func (db *DB) OrderByNumber(ctx context.Context, number string) (souq.Order, error) {
	var id souq.ID
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT id FROM orders WHERE number = ?`, number).Scan(&id)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return souq.Order{}, fmt.Errorf("order %s: %w", number, souq.ErrNotFound)
	}
	if err != nil {
		return souq.Order{}, fmt.Errorf("get order %s: %w", number, err)
	}
	return db.Order(ctx, id)
}

// orderTx reads an order with its lines inside a transaction.
func orderTx(ctx context.Context, tx queryer, id souq.ID) (souq.Order, error) {
	o, err := scanOrder(tx.QueryRowContext(ctx, sqlSelectOrder, id))
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
func loadLines(ctx context.Context, tx queryer, orders []souq.Order) error {
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

// UpdateOrder reads order id in a write transaction (which holds the
// database: no other write runs meanwhile), calls change with it, and
// unless change fails writes in the same transaction the order's status,
// payment and timestamps as change left them, updated_at set to at, its
// lines' stock restored when the update says so, and the update's events.
// An update that says the order is unchanged writes nothing and returns
// the order as read. An error from change rolls back and is returned;
// ErrNotFound if there is no such order. Updates are group-committed with the orders and other
// writes waiting (commit.go): a flash sale's card orders, each placed and
// then paid, share their disk syncs.
func (db *DB) UpdateOrder(ctx context.Context, id souq.ID, at time.Time,
	change func(*souq.Order) (checkout.OrderUpdate, error)) (souq.Order, error) {
	var o souq.Order
	err := db.groupWrite(ctx, false, func(ctx context.Context, tx execer) error {
		var err error
		if o, err = orderTx(ctx, tx, id); err != nil {
			return err
		}
		read := o
		read.Lines = slices.Clone(o.Lines)
		up, err := change(&o)
		if err != nil {
			return err
		}
		if up.Unchanged {
			o = read
			return nil
		}
		o.UpdatedAt = fromMicros(micros(at))
		p := o.Payment
		_, err = tx.ExecContext(ctx, sqlUpdateOrder,
			string(o.Status), micros(at), p.Provider, p.Reference, string(p.Status), p.Capture,
			p.Failure, p.RefundReference, nullMicros(p.DueAt), nullMicros(p.RefundedAt),
			nullMicros(o.CompletedAt), nullMicros(o.CancelledAt), id)
		if err != nil {
			return fmt.Errorf("update order %s: %w", id, err)
		}
		if up.Restock {
			for _, l := range o.Lines {
				_, err := tx.ExecContext(ctx, sqlRestock, l.Quantity, micros(at), l.ProductID)
				if err != nil {
					return fmt.Errorf("update order %s: restore stock of %s: %w", id, l.ProductID, err)
				}
			}
		}
		for _, ev := range up.Events {
			if err := insertOutbox(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return souq.Order{}, err
	}
	return o, nil
}

// DuePayments returns up to limit orders whose payment is due for a look
// at or before t (Payment.DueAt), soonest first.
func (db *DB) DuePayments(ctx context.Context, t time.Time, limit int) ([]souq.ID, error) {
	ids := []souq.ID{}
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		return queryRows(ctx, tx, `SELECT id FROM orders WHERE payment_due_at <= ? ORDER BY payment_due_at, id LIMIT ?`,
			[]any{micros(t), limit}, func(rows *sql.Rows) error {
				var id souq.ID
				if err := rows.Scan(&id); err != nil {
					return err
				}
				ids = append(ids, id)
				return nil
			})
	})
	if err != nil {
		return nil, fmt.Errorf("due payments: %w", err)
	}
	return ids, nil
}

// PaymentEventSeen reports whether a provider's webhook event was recorded.
func (db *DB) PaymentEventSeen(ctx context.Context, provider, id string) (bool, error) {
	var n int
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM payment_events WHERE provider = ? AND id = ?`,
			provider, id).Scan(&n)
	})
	if err != nil {
		return false, fmt.Errorf("payment event %s: %w", id, err)
	}
	return n > 0, nil
}

// RecordPaymentEvent records a provider's webhook event as handled; a
// recorded one is left as it is.
func (db *DB) RecordPaymentEvent(ctx context.Context, provider, id string, at time.Time) error {
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO payment_events (provider, id, received_at) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, provider, id, micros(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("record payment event %s: %w", id, err)
	}
	return nil
}

// DeletePaymentEventsBefore forgets the webhook events received before t
// and returns how many.
func (db *DB) DeletePaymentEventsBefore(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = rowsAffected(tx.ExecContext(ctx, `DELETE FROM payment_events WHERE received_at < ?`, micros(t)))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete payment events: %w", err)
	}
	return int(n), nil
}

// nullString is s, or NULL when s is empty.
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

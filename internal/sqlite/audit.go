package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/souq-commerce/souq/internal/audit"
)

var _ audit.Database = (*DB)(nil)

// OrdersAndOutboxBetween returns, read in one transaction so that they
// agree, the orders created in [from, to) and those cancelled in [from, to)
// (status cancelled, updated_at in the range: a cancellation is an order's
// last change), by creation time, and the outbox rows created in [from,
// to), oldest first, each with the order id its payload names
// (properties.order_id of the event; "" when the payload is not JSON or
// names none). It reads every row of both tables (the cancellation clause
// and the outbox's created_at have no index for it), which suits an audit,
// not a request.
func (db *DB) OrdersAndOutboxBetween(ctx context.Context, from, to time.Time) ([]audit.Order, []audit.OutboxRow, error) {
	var (
		orders []audit.Order
		rows   []audit.OutboxRow
	)
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		if orders, err = ordersBetween(ctx, tx, from, to); err != nil {
			return fmt.Errorf("orders between: %w", err)
		}
		if rows, err = outboxBetween(ctx, tx, from, to); err != nil {
			return fmt.Errorf("outbox between: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return orders, rows, nil
}

// ordersBetween reads the orders of OrdersAndOutboxBetween.
func ordersBetween(ctx context.Context, tx *sql.Tx, from, to time.Time) ([]audit.Order, error) {
	orders := []audit.Order{}
	err := queryRows(ctx, tx, `SELECT id, status, completed_at, cancelled_at, refunded_at FROM orders
			WHERE (completed_at >= ? AND completed_at < ?) OR (cancelled_at >= ? AND cancelled_at < ?)
				OR (refunded_at >= ? AND refunded_at < ?)
			ORDER BY created_at, id`,
		[]any{micros(from), micros(to), micros(from), micros(to), micros(from), micros(to)},
		func(rows *sql.Rows) error {
			var (
				o                              audit.Order
				completed, cancelled, refunded sql.NullInt64
			)
			if err := rows.Scan(&o.ID, &o.Status, &completed, &cancelled, &refunded); err != nil {
				return err
			}
			o.CompletedAt, o.CancelledAt, o.RefundedAt = orZero(completed), orZero(cancelled), orZero(refunded)
			orders = append(orders, o)
			return nil
		})
	return orders, err
}

// outboxBetween reads the outbox rows of OrdersAndOutboxBetween.
func outboxBetween(ctx context.Context, tx *sql.Tx, from, to time.Time) ([]audit.OutboxRow, error) {
	out := []audit.OutboxRow{}
	// The payload is a BLOB, which SQLite's JSON functions may take for
	// JSONB: cast it to text, which is what it holds.
	err := queryRows(ctx, tx, `SELECT id, name,
				CASE WHEN json_valid(CAST(payload AS TEXT))
					THEN COALESCE(CAST(json_extract(CAST(payload AS TEXT), '$.properties.order_id') AS TEXT), '')
					ELSE '' END,
				created_at, published_at
			FROM outbox WHERE created_at >= ? AND created_at < ? ORDER BY created_at, rowid`,
		[]any{micros(from), micros(to)},
		func(rows *sql.Rows) error {
			var (
				r         audit.OutboxRow
				created   int64
				published sql.NullInt64
			)
			if err := rows.Scan(&r.ID, &r.Name, &r.OrderID, &created, &published); err != nil {
				return err
			}
			r.CreatedAt = fromMicros(created)
			if published.Valid {
				r.PublishedAt = fromMicros(published.Int64)
			}
			out = append(out, r)
			return nil
		})
	return out, err
}

// orZero reads an optional stored time back, the zero time for NULL.
func orZero(us sql.NullInt64) time.Time {
	if t := timeOrNil(us); t != nil {
		return *t
	}
	return time.Time{}
}

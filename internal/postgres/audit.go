package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/souq-commerce/souq/internal/audit"
	"github.com/souq-commerce/souq/internal/souq"
)

// OrdersAndOutboxBetween returns, read in one snapshot so that they agree,
// the orders created in [from, to) and those cancelled in [from, to)
// (status cancelled, updated_at in the range: a cancellation is an order's
// last change), by creation time, and the outbox rows created in [from,
// to), oldest first, each with the order id its payload names
// (properties.order_id of the event, read in Go; "" when the payload is
// not JSON or names none). It reads every row of both tables in the
// range, which suits an audit, not a request.
func (db *DB) OrdersAndOutboxBetween(ctx context.Context, from, to time.Time) ([]audit.Order, []audit.OutboxRow, error) {
	var (
		orders []audit.Order
		out    []audit.OutboxRow
	)
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, status, completed_at, cancelled_at, refunded_at FROM orders
			WHERE (completed_at >= $1 AND completed_at < $2) OR (cancelled_at >= $1 AND cancelled_at < $2)
				OR (refunded_at >= $1 AND refunded_at < $2)
			ORDER BY created_at, id`, from, to)
		if err != nil {
			return fmt.Errorf("orders between: %w", err)
		}
		orders, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (audit.Order, error) {
			var (
				o                              audit.Order
				completed, cancelled, refunded *time.Time
			)
			err := row.Scan(&o.ID, &o.Status, &completed, &cancelled, &refunded)
			o.CompletedAt, o.CancelledAt, o.RefundedAt = utcOrZero(completed), utcOrZero(cancelled), utcOrZero(refunded)
			return o, err
		})
		if err != nil {
			return fmt.Errorf("orders between: %w", err)
		}
		rows, err = tx.Query(ctx, `SELECT id, name, payload, created_at, published_at FROM outbox
			WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, seq`, from, to)
		if err != nil {
			return fmt.Errorf("outbox between: %w", err)
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (audit.OutboxRow, error) {
			var (
				r         audit.OutboxRow
				payload   []byte
				published *time.Time
			)
			err := row.Scan(&r.ID, &r.Name, &payload, &r.CreatedAt, &published)
			r.CreatedAt, r.OrderID = r.CreatedAt.UTC(), orderIDOf(payload)
			if published != nil {
				r.PublishedAt = published.UTC()
			}
			return r, err
		})
		if err != nil {
			return fmt.Errorf("outbox between: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return orders, out, nil
}

// orderIDOf returns properties.order_id of an event payload, or "" when
// the payload is not JSON or names none.
func orderIDOf(payload []byte) souq.ID {
	var ev struct {
		Properties struct {
			OrderID souq.ID `json:"order_id"`
		} `json:"properties"`
	}
	if json.Unmarshal(payload, &ev) != nil {
		return ""
	}
	return ev.Properties.OrderID
}

// utcOrZero is an optional time in UTC, or the zero time.
func utcOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/webhook"
)

// CreateWebhookEndpoint stores a new endpoint.
func (db *DB) CreateWebhookEndpoint(ctx context.Context, e webhook.Endpoint) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO webhook_endpoints (id, url, events, description, secret, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, e.ID, e.URL, strings.Join(e.Events, ","), e.Description, e.Secret, micros(e.CreatedAt))
		if err != nil {
			return fmt.Errorf("create webhook endpoint %s: %w", e.ID, err)
		}
		return nil
	})
}

const endpointColumns = `id, url, events, description, secret, created_at`

func scanEndpoint(row interface{ Scan(...any) error }) (webhook.Endpoint, error) {
	var (
		e       webhook.Endpoint
		events  string
		created int64
	)
	if err := row.Scan(&e.ID, &e.URL, &events, &e.Description, &e.Secret, &created); err != nil {
		return e, err
	}
	e.Events, e.CreatedAt = strings.Split(events, ","), fromMicros(created)
	return e, nil
}

// WebhookEndpoints returns every endpoint, oldest first.
func (db *DB) WebhookEndpoints(ctx context.Context) ([]webhook.Endpoint, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	defer rows.Close()
	out := []webhook.Endpoint{}
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("list webhook endpoints: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// WebhookEndpoint returns one endpoint; souq.ErrNotFound if none.
func (db *DB) WebhookEndpoint(ctx context.Context, id souq.ID) (webhook.Endpoint, error) {
	e, err := scanEndpoint(db.read.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("webhook endpoint %s: %w", id, souq.ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("webhook endpoint %s: %w", id, err)
	}
	return e, nil
}

// DeleteWebhookEndpoint removes an endpoint and its deliveries.
func (db *DB) DeleteWebhookEndpoint(ctx context.Context, id souq.ID) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete webhook endpoint %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("webhook endpoint %s: %w", id, souq.ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE endpoint_id = ?`, id); err != nil {
			return fmt.Errorf("delete webhook endpoint %s's deliveries: %w", id, err)
		}
		return nil
	})
}

// EnqueueWebhookDeliveries stores new pending deliveries, skipping those
// whose endpoint has the event already or is gone.
func (db *DB) EnqueueWebhookDeliveries(ctx context.Context, ds []webhook.Delivery) (int, error) {
	n := 0
	err := db.writeTx(ctx, func(tx *sql.Tx) (err error) {
		n, err = insertDeliveries(ctx, tx, ds)
		return err
	})
	return n, err
}

func insertDeliveries(ctx context.Context, tx *sql.Tx, ds []webhook.Delivery) (int, error) {
	n := 0
	for _, d := range ds {
		res, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries
			(id, endpoint_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at)
			SELECT ?, ?, ?, ?, ?, 'pending', 0, ?, ? WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = ?)
			ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
			d.ID, d.EndpointID, d.EventID, d.EventType, []byte(d.Payload), micros(d.NextAttemptAt), micros(d.CreatedAt), d.EndpointID)
		if err != nil {
			return n, fmt.Errorf("store webhook delivery of %s: %w", d.EventID, err)
		}
		k, _ := res.RowsAffected()
		n += int(k)
	}
	return n, nil
}

// EnqueueStockLow marks product low on stock and stores ds, unless the
// product is marked already.
func (db *DB) EnqueueStockLow(ctx context.Context, product souq.ID, at time.Time, ds []webhook.Delivery) (bool, error) {
	marked := false
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO webhook_stock_low (product_id, marked_at) VALUES (?, ?)
			ON CONFLICT (product_id) DO NOTHING`, product, micros(at))
		if err != nil {
			return fmt.Errorf("mark %s low on stock: %w", product, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		marked = true
		_, err = insertDeliveries(ctx, tx, ds)
		return err
	})
	return marked, err
}

// RearmStockLow removes the low-stock marks of products.
func (db *DB) RearmStockLow(ctx context.Context, products []souq.ID) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		for _, p := range products {
			if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_stock_low WHERE product_id = ?`, p); err != nil {
				return fmt.Errorf("rearm stock.low of %s: %w", p, err)
			}
		}
		return nil
	})
}

const deliveryColumns = `d.id, d.endpoint_id, d.event_id, d.event_type, d.payload, d.status, d.attempts,
	d.next_attempt_at, d.last_status, d.last_error, d.delivered_at, d.created_at`

func scanDelivery(row interface{ Scan(...any) error }, extra ...any) (webhook.Delivery, error) {
	var (
		d             webhook.Delivery
		payload       []byte
		next, created int64
		delivered     sql.NullInt64
		status        string
	)
	dest := append([]any{&d.ID, &d.EndpointID, &d.EventID, &d.EventType, &payload, &status, &d.Attempts,
		&next, &d.LastStatus, &d.LastError, &delivered, &created}, extra...)
	if err := row.Scan(dest...); err != nil {
		return d, err
	}
	d.Payload, d.Status, d.NextAttemptAt, d.CreatedAt = payload, webhook.Status(status), fromMicros(next), fromMicros(created)
	if delivered.Valid {
		d.DeliveredAt = fromMicros(delivered.Int64)
	}
	return d, nil
}

// ClaimWebhookDeliveries takes up to limit due deliveries until until.
// SQLite has one writer at a time, so the select and the update in one
// write transaction cannot race another claim.
func (db *DB) ClaimWebhookDeliveries(ctx context.Context, now, until time.Time, limit int) ([]webhook.Claim, error) {
	var out []webhook.Claim
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+deliveryColumns+`, e.url, e.secret
			FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
			WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.id LIMIT ?`, micros(now), limit)
		if err != nil {
			return fmt.Errorf("claim webhook deliveries: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c webhook.Claim
			if c.Delivery, err = scanDelivery(rows, &c.URL, &c.Secret); err != nil {
				return fmt.Errorf("claim webhook deliveries: %w", err)
			}
			out = append(out, c)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claim webhook deliveries: %w", err)
		}
		for i := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?`, micros(until), out[i].ID); err != nil {
				return fmt.Errorf("claim webhook delivery %s: %w", out[i].ID, err)
			}
			out[i].NextAttemptAt = until
		}
		return nil
	})
	return out, err
}

// RecordWebhookAttempt stores an attempt's outcome if the delivery is
// still pending with attempts attempts.
func (db *DB) RecordWebhookAttempt(ctx context.Context, d webhook.Delivery, attempts int) (bool, error) {
	var delivered any
	if !d.DeliveredAt.IsZero() {
		delivered = micros(d.DeliveredAt)
	}
	ok := false
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?,
			last_status = ?, last_error = ?, delivered_at = ? WHERE id = ? AND status = 'pending' AND attempts = ?`,
			string(d.Status), d.Attempts, micros(d.NextAttemptAt), d.LastStatus, d.LastError, delivered, d.ID, attempts)
		if err != nil {
			return fmt.Errorf("record webhook delivery %s: %w", d.ID, err)
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return nil
	})
	return ok, err
}

// WebhookDeliveries returns a page of an endpoint's deliveries, newest
// first, and how many it has.
func (db *DB) WebhookDeliveries(ctx context.Context, endpoint souq.ID, page, size int) ([]webhook.Delivery, int, error) {
	out := []webhook.Delivery{}
	total := 0
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = ?`, endpoint).Scan(&total); err != nil {
			return fmt.Errorf("count webhook deliveries: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d WHERE d.endpoint_id = ?
			ORDER BY d.created_at DESC, d.id DESC LIMIT ? OFFSET ?`, endpoint, size, (page-1)*size)
		if err != nil {
			return fmt.Errorf("list webhook deliveries: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				return fmt.Errorf("list webhook deliveries: %w", err)
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, total, err
}

// PendingWebhookDeliveries returns how many deliveries are pending and
// when the oldest was made.
func (db *DB) PendingWebhookDeliveries(ctx context.Context) (int, time.Time, error) {
	var (
		n      int
		oldest sql.NullInt64
	)
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*), MIN(created_at) FROM webhook_deliveries WHERE status = 'pending'`).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count pending webhook deliveries: %w", err)
	}
	if !oldest.Valid {
		return n, time.Time{}, nil
	}
	return n, fromMicros(oldest.Int64), nil
}

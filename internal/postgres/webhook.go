package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/webhook"
)

// CreateWebhookEndpoint stores a new endpoint.
func (db *DB) CreateWebhookEndpoint(ctx context.Context, e webhook.Endpoint) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO webhook_endpoints (id, url, events, description, secret, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, e.ID, e.URL, e.Events, e.Description, e.Secret, e.CreatedAt)
	if err != nil {
		return unavailable(fmt.Errorf("create webhook endpoint %s: %w", e.ID, err))
	}
	return nil
}

const endpointColumns = `id, url, events, description, secret, created_at`

func scanEndpoint(row pgx.Row) (webhook.Endpoint, error) {
	var e webhook.Endpoint
	if err := row.Scan(&e.ID, &e.URL, &e.Events, &e.Description, &e.Secret, &e.CreatedAt); err != nil {
		return e, err
	}
	e.CreatedAt = e.CreatedAt.UTC()
	return e, nil
}

// WebhookEndpoints returns every endpoint, oldest first.
func (db *DB) WebhookEndpoints(ctx context.Context) ([]webhook.Endpoint, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints ORDER BY created_at, id`)
	if err != nil {
		return nil, unavailable(fmt.Errorf("list webhook endpoints: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (webhook.Endpoint, error) { return scanEndpoint(row) })
	if err != nil {
		return nil, unavailable(fmt.Errorf("list webhook endpoints: %w", err))
	}
	if out == nil {
		out = []webhook.Endpoint{}
	}
	return out, nil
}

// WebhookEndpoint returns one endpoint; souq.ErrNotFound if none.
func (db *DB) WebhookEndpoint(ctx context.Context, id souq.ID) (webhook.Endpoint, error) {
	e, err := scanEndpoint(db.pool.QueryRow(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return e, fmt.Errorf("webhook endpoint %s: %w", id, souq.ErrNotFound)
	}
	if err != nil {
		return e, unavailable(fmt.Errorf("webhook endpoint %s: %w", id, err))
	}
	return e, nil
}

// DeleteWebhookEndpoint removes an endpoint; its deliveries go with it
// (ON DELETE CASCADE).
func (db *DB) DeleteWebhookEndpoint(ctx context.Context, id souq.ID) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM webhook_endpoints WHERE id = $1`, id)
	if err != nil {
		return unavailable(fmt.Errorf("delete webhook endpoint %s: %w", id, err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("webhook endpoint %s: %w", id, souq.ErrNotFound)
	}
	return nil
}

// EnqueueWebhookDeliveries stores new pending deliveries, skipping those
// whose endpoint has the event already or is gone.
func (db *DB) EnqueueWebhookDeliveries(ctx context.Context, ds []webhook.Delivery) (int, error) {
	n := 0
	err := db.writeTx(ctx, func(tx pgx.Tx) (err error) {
		n, err = insertDeliveries(ctx, tx, ds)
		return err
	})
	return n, err
}

// insertDeliveries inserts ds in one statement. An endpoint deleted
// before is skipped by the join; one deleted concurrently fails the
// foreign key, and the feed tries again (and skips it then).
func insertDeliveries(ctx context.Context, tx pgx.Tx, ds []webhook.Delivery) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	var (
		ids, endpoints, events, types []string
		payloads                      [][]byte
		next, created                 []time.Time
	)
	for _, d := range ds {
		ids, endpoints, events, types = append(ids, string(d.ID)), append(endpoints, string(d.EndpointID)), append(events, d.EventID), append(types, d.EventType)
		payloads, next, created = append(payloads, d.Payload), append(next, d.NextAttemptAt), append(created, d.CreatedAt)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries
		(id, endpoint_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at)
		SELECT d.id, d.endpoint_id, d.event_id, d.event_type, d.payload, 'pending', 0, d.next_at, d.created_at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::timestamptz[], $7::timestamptz[])
			AS d(id, endpoint_id, event_id, event_type, payload, next_at, created_at)
		JOIN webhook_endpoints e ON e.id = d.endpoint_id
		ON CONFLICT (endpoint_id, event_id) DO NOTHING`, ids, endpoints, events, types, payloads, next, created)
	if err != nil {
		return 0, fmt.Errorf("store webhook deliveries: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// EnqueueStockLow marks product low on stock and stores ds, unless the
// product is marked already. The mark's primary key settles a race
// between replicas: one insert wins.
func (db *DB) EnqueueStockLow(ctx context.Context, product souq.ID, at time.Time, ds []webhook.Delivery) (bool, error) {
	marked := false
	err := db.writeTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO webhook_stock_low (product_id, marked_at) VALUES ($1, $2)
			ON CONFLICT (product_id) DO NOTHING`, product, at)
		if err != nil {
			return fmt.Errorf("mark %s low on stock: %w", product, err)
		}
		if tag.RowsAffected() == 0 {
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
	ids := make([]string, len(products))
	for i, p := range products {
		ids[i] = string(p)
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM webhook_stock_low WHERE product_id = ANY($1)`, ids); err != nil {
		return unavailable(fmt.Errorf("rearm stock.low: %w", err))
	}
	return nil
}

const deliveryColumns = `d.id, d.endpoint_id, d.event_id, d.event_type, d.payload, d.status, d.attempts,
	d.next_attempt_at, d.last_status, d.last_error, d.delivered_at, d.created_at`

func scanDelivery(row pgx.Row, extra ...any) (webhook.Delivery, error) {
	var (
		d         webhook.Delivery
		payload   []byte
		status    string
		delivered *time.Time
	)
	dest := append([]any{&d.ID, &d.EndpointID, &d.EventID, &d.EventType, &payload, &status, &d.Attempts,
		&d.NextAttemptAt, &d.LastStatus, &d.LastError, &delivered, &d.CreatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return d, err
	}
	d.Payload, d.Status = payload, webhook.Status(status)
	d.NextAttemptAt, d.CreatedAt = d.NextAttemptAt.UTC(), d.CreatedAt.UTC()
	if delivered != nil {
		d.DeliveredAt = delivered.UTC()
	}
	return d, nil
}

// ClaimWebhookDeliveries takes up to limit due deliveries until until.
// FOR UPDATE SKIP LOCKED lets replicas claim at the same moment without
// waiting for each other or taking the same row.
func (db *DB) ClaimWebhookDeliveries(ctx context.Context, now, until time.Time, limit int) ([]webhook.Claim, error) {
	rows, err := db.pool.Query(ctx, `WITH due AS (
			SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1
			ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		UPDATE webhook_deliveries d SET next_attempt_at = $2 FROM due, webhook_endpoints e
		WHERE d.id = due.id AND e.id = d.endpoint_id
		RETURNING `+deliveryColumns+`, e.url, e.secret`, now, until, limit)
	if err != nil {
		return nil, unavailable(fmt.Errorf("claim webhook deliveries: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (webhook.Claim, error) {
		var c webhook.Claim
		var err error
		c.Delivery, err = scanDelivery(row, &c.URL, &c.Secret)
		return c, err
	})
	if err != nil {
		return nil, unavailable(fmt.Errorf("claim webhook deliveries: %w", err))
	}
	return out, nil
}

// RecordWebhookAttempt stores an attempt's outcome if the delivery is
// still pending with attempts attempts.
func (db *DB) RecordWebhookAttempt(ctx context.Context, d webhook.Delivery, attempts int) (bool, error) {
	var delivered *time.Time
	if !d.DeliveredAt.IsZero() {
		delivered = &d.DeliveredAt
	}
	tag, err := db.pool.Exec(ctx, `UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_at = $3,
		last_status = $4, last_error = $5, delivered_at = $6 WHERE id = $7 AND status = 'pending' AND attempts = $8`,
		string(d.Status), d.Attempts, d.NextAttemptAt, d.LastStatus, d.LastError, delivered, d.ID, attempts)
	if err != nil {
		return false, unavailable(fmt.Errorf("record webhook delivery %s: %w", d.ID, err))
	}
	return tag.RowsAffected() == 1, nil
}

// WebhookDeliveries returns a page of an endpoint's deliveries, newest
// first, and how many it has.
func (db *DB) WebhookDeliveries(ctx context.Context, endpoint souq.ID, page, size int) ([]webhook.Delivery, int, error) {
	out := []webhook.Delivery{}
	total := 0
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = $1`, endpoint).Scan(&total); err != nil {
			return fmt.Errorf("count webhook deliveries: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d WHERE d.endpoint_id = $1
			ORDER BY d.created_at DESC, d.id DESC LIMIT $2 OFFSET $3`, endpoint, size, (page-1)*size)
		if err != nil {
			return fmt.Errorf("list webhook deliveries: %w", err)
		}
		got, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (webhook.Delivery, error) { return scanDelivery(row) })
		if err != nil {
			return fmt.Errorf("list webhook deliveries: %w", err)
		}
		out = append(out, got...)
		return nil
	})
	return out, total, err
}

// PendingWebhookDeliveries returns how many deliveries are pending and
// when the oldest was made.
func (db *DB) PendingWebhookDeliveries(ctx context.Context) (int, time.Time, error) {
	var (
		n      int
		oldest *time.Time
	)
	err := db.pool.QueryRow(ctx, `SELECT COUNT(*), MIN(created_at) FROM webhook_deliveries WHERE status = 'pending'`).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, unavailable(fmt.Errorf("count pending webhook deliveries: %w", err))
	}
	if oldest == nil {
		return n, time.Time{}, nil
	}
	return n, oldest.UTC(), nil
}

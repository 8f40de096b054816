package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/souq-commerce/souq/internal/souq"
)

// PendingOutbox returns up to limit events not yet published, oldest first
// (by CreatedAt, then by the order they were written). It is read by the
// outbox relay.
func (db *DB) PendingOutbox(ctx context.Context, limit int) ([]souq.OutboxEvent, error) {
	if limit <= 0 {
		return []souq.OutboxEvent{}, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT id, name, payload, created_at FROM outbox
		WHERE published_at IS NULL ORDER BY created_at, seq LIMIT $1`, limit)
	if err != nil {
		return nil, unavailable(fmt.Errorf("pending outbox: %w", err))
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (souq.OutboxEvent, error) {
		var ev souq.OutboxEvent
		var payload []byte
		err := row.Scan(&ev.ID, &ev.Name, &payload, &ev.CreatedAt)
		ev.Payload, ev.CreatedAt = payload, ev.CreatedAt.UTC()
		return ev, err
	})
	if err != nil {
		return nil, unavailable(fmt.Errorf("pending outbox: %w", err))
	}
	return events, nil
}

// MarkOutboxPublished records that the events with the given ids were
// published at the given time. Unknown or already published ids are
// ignored, so the relay may repeat a call.
func (db *DB) MarkOutboxPublished(ctx context.Context, ids []souq.ID, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = string(id)
	}
	_, err := db.pool.Exec(ctx, `UPDATE outbox SET published_at = $1 WHERE published_at IS NULL AND id = ANY($2)`, at, keys)
	if err != nil {
		return unavailable(fmt.Errorf("mark outbox published: %w", err))
	}
	return nil
}

// pruneBatch bounds the rows one pruning statement deletes, so that it
// never holds many locks or much log for long.
const pruneBatch = 5000

// DeleteOutboxPublishedBefore deletes the events published before t, a
// batch of rows per statement, and returns how many. Unpublished events
// are never deleted.
func (db *DB) DeleteOutboxPublishedBefore(ctx context.Context, t time.Time) (int, error) {
	total := 0
	for {
		tag, err := db.pool.Exec(ctx, `DELETE FROM outbox WHERE seq IN (
			SELECT seq FROM outbox WHERE published_at IS NOT NULL AND published_at < $1 LIMIT $2)`, t, pruneBatch)
		if err != nil {
			return total, unavailable(fmt.Errorf("delete published outbox events: %w", err))
		}
		total += int(tag.RowsAffected())
		if tag.RowsAffected() < pruneBatch {
			return total, nil
		}
	}
}

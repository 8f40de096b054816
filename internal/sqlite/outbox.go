package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// insertOutbox writes an event in the caller's transaction, unpublished.
func insertOutbox(ctx context.Context, tx execer, ev souq.OutboxEvent) error {
	payload := []byte(ev.Payload)
	if payload == nil {
		payload = []byte{}
	}
	_, err := tx.ExecContext(ctx, sqlInsertOutbox,
		ev.ID, ev.Name, payload, micros(ev.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert outbox event %s: %w", ev.ID, err)
	}
	return nil
}

// PendingOutbox returns up to limit events not yet published, oldest first
// (by CreatedAt, then by the order they were written). It is read by the
// outbox relay.
func (db *DB) PendingOutbox(ctx context.Context, limit int) ([]souq.OutboxEvent, error) {
	if limit <= 0 {
		return []souq.OutboxEvent{}, nil
	}
	events := []souq.OutboxEvent{}
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, name, payload, created_at FROM outbox
			WHERE published_at IS NULL ORDER BY created_at, rowid LIMIT ?`, limit)
		if err != nil {
			return fmt.Errorf("pending outbox: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				ev      souq.OutboxEvent
				payload []byte
				created int64
			)
			if err := rows.Scan(&ev.ID, &ev.Name, &payload, &created); err != nil {
				return fmt.Errorf("pending outbox: %w", err)
			}
			ev.Payload, ev.CreatedAt = payload, fromMicros(created)
			events = append(events, ev)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
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
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		for chunk := range slices.Chunk(ids, 500) { // stay far below SQLite's bound on parameters
			args := make([]any, 0, len(chunk)+1)
			args = append(args, micros(at))
			for _, id := range chunk {
				args = append(args, id)
			}
			_, err := tx.ExecContext(ctx, `UPDATE outbox SET published_at = ?
				WHERE published_at IS NULL AND id IN (`+placeholders(len(chunk))+`)`, args...)
			if err != nil {
				return fmt.Errorf("mark outbox published: %w", err)
			}
		}
		return nil
	})
}

// pruneBatch bounds the rows one pruning transaction deletes, so that the
// writer connection is never held long from the orders waiting for it.
const pruneBatch = 5000

// DeleteOutboxPublishedBefore deletes the events published before t, a
// batch of rows per transaction, and returns how many. Unpublished events
// are never deleted.
func (db *DB) DeleteOutboxPublishedBefore(ctx context.Context, t time.Time) (int, error) {
	total := 0
	for {
		var n int64
		err := db.writeTx(ctx, func(tx *sql.Tx) error {
			var err error
			n, err = rowsAffected(tx.ExecContext(ctx, `DELETE FROM outbox WHERE rowid IN (
				SELECT rowid FROM outbox WHERE published_at IS NOT NULL AND published_at < ? LIMIT ?)`, micros(t), pruneBatch))
			return err
		})
		if err != nil {
			return total, fmt.Errorf("delete published outbox events: %w", err)
		}
		total += int(n)
		if n < pruneBatch {
			return total, nil
		}
	}
}

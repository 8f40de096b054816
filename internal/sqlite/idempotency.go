package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// ClaimKey claims an idempotency key for a request whose body hashes to
// hash. It inserts the key as in flight and returns a zero KeyState, or
// returns the key's existing state: in flight (the claim is refused) or done
// (with the stored response). A key in flight since before staleBefore is
// taken over as if it were new: its hash and times are replaced and a zero
// KeyState is returned. owner is recorded as the claim's holder.
func (db *DB) ClaimKey(ctx context.Context, key, hash, owner string, now, staleBefore time.Time) (checkout.KeyState, error) {
	var st checkout.KeyState
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var created, updated int64
		err := tx.QueryRowContext(ctx, `SELECT hash, in_flight, status, body, created_at, updated_at
			FROM idempotency_keys WHERE key = ?`, key).
			Scan(&st.Hash, &st.InFlight, &st.Result.Status, &st.Result.Body, &created, &updated)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			st = checkout.KeyState{}
			_, err = tx.ExecContext(ctx, `INSERT INTO idempotency_keys (key, hash, owner, in_flight, status, body, created_at, updated_at)
				VALUES (?, ?, ?, 1, 0, NULL, ?, ?)`, key, hash, owner, micros(now), micros(now))
		case err != nil:
		case st.InFlight && updated < micros(staleBefore):
			st = checkout.KeyState{}
			_, err = tx.ExecContext(ctx, `UPDATE idempotency_keys SET hash = ?, owner = ?, in_flight = 1, status = 0, body = NULL,
				created_at = ?, updated_at = ? WHERE key = ?`, hash, owner, micros(now), micros(now), key)
		case st.InFlight:
			st = checkout.KeyState{Exists: true, Hash: st.Hash, InFlight: true} // no response yet
		default:
			st.Exists = true
			st.Result.Key, st.Result.ClaimedAt = key, fromMicros(created)
		}
		if err != nil {
			return fmt.Errorf("claim idempotency key: %w", err)
		}
		return nil
	})
	if err != nil {
		return checkout.KeyState{}, err
	}
	return st, nil
}

// completeKey records the response of the request holding an in-flight key
// under the claim made at r.ClaimedAt (the key's created_at). It is part of
// the order transaction; a key not in flight under that claim any more means
// it was released or another request took it over, so the order must not
// commit.
func completeKey(ctx context.Context, tx execer, r checkout.KeyResult, at time.Time) error {
	n, err := rowsAffected(tx.ExecContext(ctx, sqlCompleteKey,
		r.Status, r.Body, micros(at), r.Key, micros(r.ClaimedAt)))
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	if n == 0 {
		return souq.Errorf(souq.ErrConflict, "the idempotency key is no longer held by this request")
	}
	return nil
}

// ReleaseKey deletes a key in flight under the claim made at claimedAt so
// the client may retry with it. A completed, re-claimed or unknown key is
// left as it is.
func (db *DB) ReleaseKey(ctx context.Context, key string, claimedAt time.Time) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE key = ? AND in_flight = 1 AND created_at = ?`,
			key, micros(claimedAt)); err != nil {
			return fmt.Errorf("release idempotency key: %w", err)
		}
		return nil
	})
}

// ReleaseClaims deletes every key in flight under a claim that owner does
// not hold, and returns how many.
func (db *DB) ReleaseClaims(ctx context.Context, owner string) (int, error) {
	var n int64
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = rowsAffected(tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE in_flight = 1 AND owner <> ?`, owner))
		if err != nil {
			return fmt.Errorf("release idempotency claims: %w", err)
		}
		return nil
	})
	return int(n), err
}

// DeleteKeysBefore removes keys created before t, done or in flight, and
// returns how many.
func (db *DB) DeleteKeysBefore(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = rowsAffected(tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, micros(t)))
		if err != nil {
			return fmt.Errorf("delete idempotency keys: %w", err)
		}
		return nil
	})
	return int(n), err
}

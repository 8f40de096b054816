package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// The statements of idempotency keys on the order path, prepared at Open.
const (
	sqlReadKey = `SELECT hash, in_flight, status, body, created_at, updated_at
		FROM idempotency_keys WHERE key = ?`
	sqlInsertKey = `INSERT INTO idempotency_keys (key, hash, owner, in_flight, status, body, created_at, updated_at)
		VALUES (?, ?, ?, 1, 0, NULL, ?, ?) ON CONFLICT (key) DO NOTHING`
	sqlTakeOverKey = `UPDATE idempotency_keys SET hash = ?, owner = ?, in_flight = 1, status = 0, body = NULL,
		created_at = ?, updated_at = ? WHERE key = ?`
	sqlReleaseKey = `DELETE FROM idempotency_keys WHERE key = ? AND in_flight = 1 AND created_at = ?`
)

// ClaimKey claims an idempotency key for a request whose body hashes to
// hash. It inserts the key as in flight and returns a zero KeyState, or
// returns the key's existing state: in flight (the claim is refused) or done
// (with the stored response). A key in flight since before staleBefore is
// taken over as if it were new: its hash and times are replaced and a zero
// KeyState is returned. owner is recorded as the claim's holder.
//
// The claim rides the order committer's group commit (see CreateOrder), so
// a keyed order costs no durable commit of its own: claims and orders of
// concurrent requests share one log sync. Claims of one key within a batch
// are written one after the other in it, so the second sees the first.
func (db *DB) ClaimKey(ctx context.Context, key, hash, owner string, now, staleBefore time.Time) (checkout.KeyState, error) {
	var st checkout.KeyState
	err := db.groupWrite(ctx, true, func(ctx context.Context, tx execer) error {
		var err error
		st, err = claimKeyTx(ctx, tx, key, hash, owner, now, staleBefore)
		return err
	})
	if err != nil {
		return checkout.KeyState{}, err
	}
	return st, nil
}

func claimKeyTx(ctx context.Context, tx execer, key, hash, owner string, now, staleBefore time.Time) (checkout.KeyState, error) {
	// The usual case, a new key, is one statement.
	n, err := rowsAffected(tx.ExecContext(ctx, sqlInsertKey, key, hash, owner, micros(now), micros(now)))
	if err != nil {
		return checkout.KeyState{}, fmt.Errorf("claim idempotency key: %w", err)
	}
	if n == 1 {
		return checkout.KeyState{}, nil
	}
	var (
		st               checkout.KeyState
		created, updated int64
	)
	err = tx.QueryRowContext(ctx, sqlReadKey, key).
		Scan(&st.Hash, &st.InFlight, &st.Result.Status, &st.Result.Body, &created, &updated)
	switch {
	case err != nil:
	case st.InFlight && updated < micros(staleBefore):
		st = checkout.KeyState{}
		_, err = tx.ExecContext(ctx, sqlTakeOverKey, hash, owner, micros(now), micros(now), key)
	case st.InFlight:
		st = checkout.KeyState{Exists: true, Hash: st.Hash, InFlight: true} // no response yet
	default:
		st.Exists = true
		st.Result.Key, st.Result.ClaimedAt = key, fromMicros(created)
	}
	if err != nil {
		return checkout.KeyState{}, fmt.Errorf("claim idempotency key: %w", err)
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
// It rides the group commit too: a flash sale's sold-out orders release
// their keys by the thousand.
func (db *DB) ReleaseKey(ctx context.Context, key string, claimedAt time.Time) error {
	return db.groupWrite(ctx, true, func(ctx context.Context, tx execer) error {
		if _, err := tx.ExecContext(ctx, sqlReleaseKey, key, micros(claimedAt)); err != nil {
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

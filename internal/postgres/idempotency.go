package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/souq-commerce/souq/internal/checkout"
)

// Idempotency keys
//
// Every state of a key is a row of idempotency_keys, seen by every
// replica: in flight (claimed, its request running; created_at identifies
// the claim, owner the process) or done (its order committed, with the
// response to replay). A claim is one statement: an INSERT that, on a key
// already present, takes it over only when it is in flight and stale. The
// order's batch transaction locks the key's row and completes it only
// while the claim that placed the order still holds it (commit.go), so
// whatever the replicas and their timing, a key is done at most once.
//
// Claims and releases commit with synchronous_commit off: they are
// visible to every replica at once, and a crash of the server may lose the
// last of them, which is harmless. A claim exists only to stop a second
// request while the first runs; after a server crash neither runs, and no
// order committed under a lost claim, because the order's own commit
// (synchronous) flushes the log up to and past the claim. So a keyed order
// costs no disk flush of its own for its claim or its release.

// sqlClaimKey claims a key unless it is done or in flight under a claim
// made at or after staleBefore ($5), and returns either the claim (mine
// true) or the key's state.
const sqlClaimKey = `WITH claimed AS (
		INSERT INTO idempotency_keys AS k (key, hash, owner, in_flight, status, body, created_at, updated_at)
		VALUES ($1, $2, $3, true, 0, NULL, $4, $4)
		ON CONFLICT (key) DO UPDATE SET hash = excluded.hash, owner = excluded.owner, in_flight = true,
			status = 0, body = NULL, created_at = excluded.created_at, updated_at = excluded.updated_at
		WHERE k.in_flight AND k.created_at < $5
		RETURNING true AS mine)
	SELECT true, '', false, 0, NULL::bytea, $4::timestamptz FROM claimed
	UNION ALL
	SELECT false, hash, in_flight, status, body, created_at FROM idempotency_keys
		WHERE key = $1 AND NOT EXISTS (SELECT 1 FROM claimed)`

// asyncCommit makes the implicit transaction of a pgx.Batch commit
// without waiting for its log to reach the disk.
const asyncCommit = `SET LOCAL synchronous_commit = off`

// ClaimKey claims an idempotency key for a request whose body hashes to
// hash. It claims the key and returns a zero KeyState, or returns the
// key's existing state: in flight (the claim is refused) or done (with the
// stored response). A key in flight since before staleBefore is taken over
// as if it were new. owner is recorded as the claim's holder.
func (db *DB) ClaimKey(ctx context.Context, key, hash, owner string, now, staleBefore time.Time) (checkout.KeyState, error) {
	// A key released or deleted between the INSERT's conflict and the
	// read finds no row: claim again.
	for range 3 {
		var (
			mine bool
			st   checkout.KeyState
			at   time.Time
		)
		b := &pgx.Batch{}
		b.Queue(asyncCommit)
		found := false
		b.Queue(sqlClaimKey, key, hash, owner, now, staleBefore).QueryRow(func(row pgx.Row) error {
			err := row.Scan(&mine, &st.Hash, &st.InFlight, &st.Result.Status, &st.Result.Body, &at)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			found = err == nil
			return err
		})
		if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
			return checkout.KeyState{}, unavailable(fmt.Errorf("claim idempotency key: %w", err))
		}
		switch {
		case !found:
			continue
		case mine:
			return checkout.KeyState{}, nil
		case st.InFlight:
			return checkout.KeyState{Exists: true, Hash: st.Hash, InFlight: true}, nil
		}
		st.Exists = true
		st.Result.Key, st.Result.ClaimedAt = key, at.UTC()
		return st, nil
	}
	return checkout.KeyState{}, fmt.Errorf("claim idempotency key: the key changed three times while being claimed")
}

// execAsync runs one statement with synchronous_commit off and returns how
// many rows it changed.
func (db *DB) execAsync(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	b := &pgx.Batch{}
	b.Queue(asyncCommit)
	b.Queue(query, args...).Exec(func(tag pgconn.CommandTag) error {
		n = tag.RowsAffected()
		return nil
	})
	return n, unavailable(db.pool.SendBatch(ctx, b).Close())
}

// ReleaseKey frees a key in flight under the claim made at claimedAt so
// the client may retry with it. A completed, re-claimed or unknown key is
// left as it is.
func (db *DB) ReleaseKey(ctx context.Context, key string, claimedAt time.Time) error {
	_, err := db.execAsync(ctx, `DELETE FROM idempotency_keys WHERE key = $1 AND in_flight AND created_at = $2`, key, claimedAt)
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// ReleaseClaims frees every key in flight under a claim that owner did
// not make, and returns how many. With replicas sharing the database that
// includes the live claims of the others: see checkout.Service's
// ReleaseDeadClaims for when to call it.
func (db *DB) ReleaseClaims(ctx context.Context, owner string) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE in_flight AND owner <> $1`, owner)
	if err != nil {
		return 0, unavailable(fmt.Errorf("release idempotency claims: %w", err))
	}
	return int(tag.RowsAffected()), nil
}

// DeleteKeysBefore removes keys created before t, done or in flight, and
// returns how many.
func (db *DB) DeleteKeysBefore(ctx context.Context, t time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, t)
	if err != nil {
		return 0, unavailable(fmt.Errorf("delete idempotency keys: %w", err))
	}
	return int(tag.RowsAffected()), nil
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/souq-commerce/souq/internal/checkout"
)

// Idempotency keys
//
// A key has two states. In flight (claimed, its request running) it lives
// in memory, in claims; done (its order committed) it is a row of
// idempotency_keys, written by the order's own transaction with the
// response to replay. So a keyed order costs one row more than an unkeyed
// one and no write of its own: no durable commit for the claim, none for a
// release.
//
// That is sound because one process owns a SQLite file (docs/storage.md):
// no other process could see a claim, and a claim's only purpose is to
// stop a second request with the same key while the first runs, in this
// process. A crash loses the claims and nothing else: no order committed
// under them (the order and its done row commit together), so the retries
// place their orders at once, as ReleaseClaims did for durable claims. And
// whatever happens to claims, a key is done at most once: the done row is
// written only over no row or an in-flight one (left by an older version),
// so a second order under the same key fails its transaction (ErrConflict)
// instead of committing.

// The statements of done keys.
const (
	sqlReadKey = `SELECT hash, in_flight, status, body, created_at, updated_at
		FROM idempotency_keys WHERE key = ?`
	sqlCompleteKey = `INSERT INTO idempotency_keys (key, hash, owner, in_flight, status, body, created_at, updated_at)
		VALUES (?, ?, ?, 0, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET hash = excluded.hash, owner = excluded.owner, in_flight = 0,
			status = excluded.status, body = excluded.body, created_at = excluded.created_at, updated_at = excluded.updated_at
		WHERE in_flight = 1`
)

// claims are the keys in flight in this process.
type claims struct {
	mu sync.Mutex
	m  map[string]claim
}

// claim is a key in flight: the request's body hash, the process that
// claimed it and when (which identifies the claim).
type claim struct {
	hash, owner string
	at          time.Time
}

// take claims key for a request unless a claim made at or after
// staleBefore holds it, which it returns.
func (c *claims) take(key string, cl claim, staleBefore time.Time) (held claim, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, found := c.m[key]; found && !cur.at.Before(staleBefore) {
		return cur, false
	}
	if c.m == nil {
		c.m = make(map[string]claim)
	}
	c.m[key] = cl
	return cl, true
}

// holder returns the claim on key made at at, if it still holds the key.
func (c *claims) holder(key string, at time.Time) (claim, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, ok := c.m[key]
	return cur, ok && cur.at.Equal(at)
}

// drop ends the claim on key made at at, if it still holds the key.
func (c *claims) drop(key string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.m[key]; ok && cur.at.Equal(at) {
		delete(c.m, key)
	}
}

// dropWhere ends every claim for which match is true and returns how many.
func (c *claims) dropWhere(match func(claim) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, cl := range c.m {
		if match(cl) {
			delete(c.m, k)
			n++
		}
	}
	return n
}

// ClaimKey claims an idempotency key for a request whose body hashes to
// hash. It claims the key (in memory) and returns a zero KeyState, or
// returns the key's existing state: in flight (the claim is refused) or done
// (with the stored response). A key in flight since before staleBefore is
// taken over as if it were new. owner is recorded as the claim's holder.
func (db *DB) ClaimKey(ctx context.Context, key, hash, owner string, now, staleBefore time.Time) (checkout.KeyState, error) {
	mine := claim{hash: hash, owner: owner, at: now}
	if held, ok := db.claims.take(key, mine, staleBefore); !ok {
		return checkout.KeyState{Exists: true, Hash: held.hash, InFlight: true}, nil
	}
	// Claimed; unless the key is done already. Its done row, if any, was
	// committed before its claim was dropped, so this read sees it.
	var (
		st               checkout.KeyState
		created, updated int64
	)
	err := db.queryRead(ctx, sqlReadKey, []any{key}, func(rows *sql.Rows) error {
		return rows.Scan(&st.Hash, &st.InFlight, &st.Result.Status, &st.Result.Body, &created, &updated)
	})
	if err != nil {
		db.claims.drop(key, now)
		return checkout.KeyState{}, fmt.Errorf("claim idempotency key: %w", err)
	}
	switch {
	case st.Hash == "": // no row: a new key
		return checkout.KeyState{}, nil
	case st.InFlight && updated < micros(staleBefore):
		return checkout.KeyState{}, nil // a stale in-flight row of an older version: taken over
	case st.InFlight:
		db.claims.drop(key, now)
		return checkout.KeyState{Exists: true, Hash: st.Hash, InFlight: true}, nil
	}
	db.claims.drop(key, now)
	st.Exists = true
	st.Result.Key, st.Result.ClaimedAt = key, fromMicros(created)
	return st, nil
}

// completeKey records, in the order transaction, the response of the
// request whose claim on r.Key was made at r.ClaimedAt. A key no longer
// held by that claim (released, or taken over) or done already means the
// order must not commit: ErrConflict.
func (db *DB) completeKey(ctx context.Context, tx execer, r checkout.KeyResult, at time.Time) error {
	cl, ok := db.claims.holder(r.Key, r.ClaimedAt)
	if !ok {
		return errNotHeld
	}
	n, err := rowsAffected(tx.ExecContext(ctx, sqlCompleteKey,
		r.Key, cl.hash, cl.owner, r.Status, r.Body, micros(r.ClaimedAt), micros(at)))
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	if n == 0 {
		return errNotHeld
	}
	return nil
}

// errNotHeld refuses an order completing a key its request no longer holds.
var errNotHeld = fmt.Errorf("idempotency key: %w", checkout.ErrKeyNotHeld)

// ReleaseKey frees a key in flight under the claim made at claimedAt so
// the client may retry with it. A completed, re-claimed or unknown key is
// left as it is. It writes nothing: a flash sale's sold-out orders release
// their keys by the thousand.
func (db *DB) ReleaseKey(ctx context.Context, key string, claimedAt time.Time) error {
	db.claims.drop(key, claimedAt)
	return nil
}

// ReleaseClaims frees every key in flight under a claim that owner does
// not hold, in memory and as rows an older version left, and returns how
// many.
func (db *DB) ReleaseClaims(ctx context.Context, owner string) (int, error) {
	n := db.claims.dropWhere(func(c claim) bool { return c.owner != owner })
	var rows int64
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		rows, err = rowsAffected(tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE in_flight = 1 AND owner <> ?`, owner))
		if err != nil {
			return fmt.Errorf("release idempotency claims: %w", err)
		}
		return nil
	})
	return n + int(rows), err
}

// DeleteKeysBefore removes keys created before t, done or in flight, and
// returns how many.
func (db *DB) DeleteKeysBefore(ctx context.Context, t time.Time) (int, error) {
	n := db.claims.dropWhere(func(c claim) bool { return c.at.Before(t) })
	var rows int64
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		rows, err = rowsAffected(tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, micros(t)))
		if err != nil {
			return fmt.Errorf("delete idempotency keys: %w", err)
		}
		return nil
	})
	return n + int(rows), err
}

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

// sqlClaimKeys claims keys, one per element of its arrays (key, hash,
// owner, claim time, stale-before), each unless it is done or in flight
// under a claim made at or after its stale-before, and returns for each
// key either the claim (mine true) or the key's state. A key changed by
// another transaction between the conflict and the read may be missing
// from the answer: claim it again.
const sqlClaimKeys = `WITH input AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
			AS i(key, hash, owner, at, stale_before)),
	claimed AS (
		INSERT INTO idempotency_keys AS k (key, hash, owner, in_flight, status, body, created_at, updated_at)
		SELECT key, hash, owner, true, 0, NULL, at, at FROM input
		ON CONFLICT (key) DO UPDATE SET hash = excluded.hash, owner = excluded.owner, in_flight = true,
			status = 0, body = NULL, created_at = excluded.created_at, updated_at = excluded.updated_at
		WHERE k.in_flight AND k.created_at < (SELECT i.stale_before FROM input i WHERE i.key = k.key)
		RETURNING k.key)
	SELECT i.key, true, '', false, 0, NULL::bytea, i.at FROM input i WHERE i.key IN (SELECT key FROM claimed)
	UNION ALL
	SELECT k.key, false, k.hash, k.in_flight, k.status, k.body, k.created_at FROM idempotency_keys k
		WHERE k.key IN (SELECT key FROM input) AND k.key NOT IN (SELECT key FROM claimed)`

// asyncCommit makes the implicit transaction of a pgx.Batch commit
// without waiting for its log to reach the disk.
const asyncCommit = `SET LOCAL synchronous_commit = off`

// Claims, like orders, are batched: ClaimKey hands its claim to the
// claimer goroutine, which makes every claim waiting (up to maxBatch) in
// one statement, one round trip and one commit.

// claimJob is one claim waiting for the claimer.
type claimJob struct {
	key, hash, owner string
	now, staleBefore time.Time
	res              chan claimResult // receives the outcome
}

// claimResult is a claim's outcome: mine, or the key's state.
type claimResult struct {
	mine bool
	st   checkout.KeyState
	err  error
}

// ClaimKey claims an idempotency key for a request whose body hashes to
// hash. It claims the key and returns a zero KeyState, or returns the
// key's existing state: in flight (the claim is refused) or done (with the
// stored response). A key in flight since before staleBefore is taken over
// as if it were new. owner is recorded as the claim's holder.
func (db *DB) ClaimKey(ctx context.Context, key, hash, owner string, now, staleBefore time.Time) (checkout.KeyState, error) {
	job := &claimJob{key: key, hash: hash, owner: owner, now: now, staleBefore: staleBefore, res: make(chan claimResult, 1)}
	select {
	case db.batch.claims <- job:
	case <-db.batch.closing:
		return checkout.KeyState{}, errClosed
	case <-ctx.Done():
		return checkout.KeyState{}, ctx.Err()
	}
	r := <-job.res
	if r.err != nil {
		return checkout.KeyState{}, fmt.Errorf("claim idempotency key: %w", r.err)
	}
	return r.st, nil
}

// claimLoop is the claimer goroutine: it makes each gathered batch of
// claims, until Close.
func (db *DB) claimLoop() {
	for {
		batch, ok := gather(db.batch.claims, db.batch.closing)
		if !ok {
			return
		}
		db.claimBatch(batch)
	}
}

// claimBatch makes the claims of batch and answers each. A key claimed
// twice in one batch is claimed by the first; the second sees it in
// flight (or done, as the first did).
func (db *DB) claimBatch(batch []*claimJob) {
	ctx := context.Background() // bounded by statement_timeout
	first := map[string]*claimJob{}
	var todo []*claimJob
	for _, j := range batch {
		if _, dup := first[j.key]; !dup {
			first[j.key] = j
			todo = append(todo, j)
		}
	}
	results := map[string]claimResult{}
	var err error
	for attempt := 0; len(todo) > 0 && attempt < 3 && err == nil; attempt++ {
		var got map[string]claimResult
		got, err = db.claimKeys(ctx, todo)
		missing := todo[:0:0]
		for _, j := range todo {
			if r, ok := got[j.key]; ok {
				results[j.key] = r
			} else {
				missing = append(missing, j)
			}
		}
		todo = missing
	}
	if err == nil && len(todo) > 0 {
		err = errors.New("the key changed three times while being claimed")
	}
	for _, j := range batch {
		r, ok := results[j.key]
		switch {
		case !ok:
			r = claimResult{err: err}
		case first[j.key] != j && r.mine: // claimed by the first of the batch
			r = claimResult{st: checkout.KeyState{Exists: true, Hash: first[j.key].hash, InFlight: true}}
		}
		j.res <- r
	}
}

// claimKeys runs sqlClaimKeys for jobs (distinct keys) and returns the
// outcomes it found, by key.
func (db *DB) claimKeys(ctx context.Context, jobs []*claimJob) (map[string]claimResult, error) {
	n := len(jobs)
	keys, hashes, owners := make([]string, n), make([]string, n), make([]string, n)
	nows, stales := make([]time.Time, n), make([]time.Time, n)
	for i, j := range jobs {
		keys[i], hashes[i], owners[i], nows[i], stales[i] = j.key, j.hash, j.owner, j.now, j.staleBefore
	}
	out := make(map[string]claimResult, n)
	b := &pgx.Batch{}
	b.Queue(asyncCommit)
	b.Queue(sqlClaimKeys, keys, hashes, owners, nows, stales).Query(func(rows pgx.Rows) error {
		var (
			key  string
			mine bool
			st   checkout.KeyState
			at   time.Time
		)
		_, err := pgx.ForEachRow(rows, []any{&key, &mine, &st.Hash, &st.InFlight, &st.Result.Status, &st.Result.Body, &at}, func() error {
			switch {
			case mine:
				out[key] = claimResult{mine: true}
			case st.InFlight:
				out[key] = claimResult{st: checkout.KeyState{Exists: true, Hash: st.Hash, InFlight: true}}
			default:
				done := st
				done.Exists = true
				done.Result.Key, done.Result.ClaimedAt = key, at.UTC()
				out[key] = claimResult{st: done}
			}
			st = checkout.KeyState{}
			return nil
		})
		return err
	})
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, unavailable(err)
	}
	return out, nil
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

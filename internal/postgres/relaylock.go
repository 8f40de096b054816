package postgres

import (
	"context"
	"fmt"

	"github.com/souq-commerce/souq/internal/relay"
)

var _ relay.Exclusive = (*DB)(nil)

// relayLock is the first key of the session advisory lock a relay pass
// holds ("souq" in ASCII); the second is a hash of the connection's
// schema, so that shops in different schemas of one database (their own
// outboxes) take turns only with their own replicas.
const relayLock = 0x736f7571

// Exclusively runs fn, a relay pass, while holding the relay advisory lock
// on a connection of its own, unless another process's relay holds it:
// then it returns ran false at once. The lock is taken per pass
// (pg_try_advisory_lock) and released after it, so the turn moves freely
// between replicas; a relay whose process dies frees it when its
// connection drops.
//
// Why a lock per pass rather than claiming rows (FOR UPDATE SKIP LOCKED):
// one relay publishing at a time keeps the events in the order they were
// written, and there are no claim rows to expire after a crash.
func (db *DB) Exclusively(ctx context.Context, fn func(ctx context.Context) error) (bool, error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return false, unavailable(fmt.Errorf("relay lock: %w", err))
	}
	defer conn.Release()
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext(current_schema()))`, int32(relayLock)).Scan(&got); err != nil {
		return false, unavailable(fmt.Errorf("relay lock: %w", err))
	}
	if !got {
		return false, nil
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, int32(relayLock)); err != nil {
			// A connection that cannot unlock must not go back to the
			// pool holding the lock.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	return true, fn(ctx)
}

package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/souq-commerce/souq/internal/outcomes"
)

// DefaultOutcomesPrefix starts the keys of Outcomes when no prefix is
// given.
const DefaultOutcomesPrefix = "souq:oc"

// Outcomes is the checkout outcomes' store (outcomes.Store) in Redis,
// shared by every api replica using the same Redis and prefix: each
// replica's outcomes.Recorder adds its counts, and any replica reads the
// sums. Its keys are
//
//	{prefix}:m:<start>   hash  count name (as in outcomes.Counts' JSON) → integer
//
// one per minute (<start> in Unix seconds), each expiring
// outcomes.Retention after its last write, counted from Redis's clock.
// A flush is one MULTI/EXEC in one round trip: its increments land all or
// none. A flush whose reply is lost (the connection dropped after EXEC)
// is sent again by the Recorder and may count twice; Redis cannot say
// whether it landed.
type Outcomes struct {
	s      *Store
	prefix string
	ttl    time.Duration
}

var _ outcomes.Store = (*Outcomes)(nil)

// NewOutcomes returns the outcomes store using the connections of s, with
// keys "{prefix}:…" (DefaultOutcomesPrefix when empty). s must stay open
// while it is used.
func NewOutcomes(s *Store, prefix string) *Outcomes {
	if prefix == "" {
		prefix = DefaultOutcomesPrefix
	}
	return &Outcomes{s: s, prefix: prefix, ttl: outcomes.Retention}
}

// outcomeFields are the hash fields, in the order fieldsOf and countsOf
// use.
var outcomeFields = []string{"checkouts", "orders", "out_of_stock", "declined", "rejected", "errors", "cart_out_of_stock"}

// fieldsOf returns c's counts in the order of outcomeFields.
func fieldsOf(c outcomes.Counts) [7]int64 {
	return [7]int64{c.Checkouts, c.Orders, c.OutOfStock, c.Declined, c.Rejected, c.Errors, c.CartOutOfStock}
}

// countsOf is the inverse of fieldsOf.
func countsOf(v [7]int64) outcomes.Counts {
	return outcomes.Counts{Checkouts: v[0], Orders: v[1], OutOfStock: v[2], Declined: v[3], Rejected: v[4], Errors: v[5], CartOutOfStock: v[6]}
}

func (o *Outcomes) key(start time.Time) string {
	return "{" + o.prefix + "}:m:" + strconv.FormatInt(start.Truncate(time.Minute).Unix(), 10)
}

// Add implements outcomes.Store: one HINCRBY per count that is not 0, and
// an EXPIRE, per minute, in one transaction.
func (o *Outcomes) Add(ctx context.Context, minutes []outcomes.Minute) error {
	if len(minutes) == 0 {
		return nil
	}
	_, err := o.s.client.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		for _, m := range minutes {
			if m.Counts.IsZero() {
				continue
			}
			key := o.key(m.Start)
			for i, n := range fieldsOf(m.Counts) {
				if n != 0 {
					pipe.HIncrBy(ctx, key, outcomeFields[i], n)
				}
			}
			pipe.Expire(ctx, key, o.ttl)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: add checkout outcomes of %d minutes: %w", len(minutes), unavailable(err))
	}
	return nil
}

// Minutes implements outcomes.Reader: one HMGET per minute, pipelined.
func (o *Outcomes) Minutes(ctx context.Context, from, to time.Time) ([]outcomes.Minute, error) {
	starts, err := outcomes.Starts(from, to)
	if err != nil {
		return nil, err
	}
	out := make([]outcomes.Minute, len(starts))
	if len(starts) == 0 {
		return out, nil
	}
	pipe := o.s.client.Pipeline()
	cmds := make([]*redis.SliceCmd, len(starts))
	for i, t := range starts {
		cmds[i] = pipe.HMGet(ctx, o.key(t), outcomeFields...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("redisstore: read checkout outcomes of %d minutes: %w", len(starts), unavailable(err))
	}
	for i, t := range starts {
		out[i].Start = t
		var v [7]int64
		for j, raw := range cmds[i].Val() {
			if raw == nil {
				continue
			}
			s, ok := raw.(string)
			n, err := strconv.ParseInt(s, 10, 64)
			if !ok || err != nil {
				return nil, fmt.Errorf("redisstore: read %s: field %s holds %v", o.key(t), outcomeFields[j], raw)
			}
			v[j] = n
		}
		out[i].Counts = countsOf(v)
	}
	return out, nil
}

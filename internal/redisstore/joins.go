package redisstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/souq-commerce/souq/internal/souq"
)

// joinBatcher sends the waiting room's joins of concurrent visits to Redis
// together: while one pipeline of joins is in flight, the joins that
// arrive wait, and go as the next pipeline, all in one round trip. A
// replica answering thousands of joins and polls a second otherwise sent
// one script call each on a connection of its own from the pool, and
// spent a quarter of its CPU getting connections (waiting its turn, and
// growing the stacks of the handlers that waited).
type joinBatcher struct {
	client *redis.Client
	script *redis.Script // the join script (wrJoinScript)
	count  func()        // counts a round trip
	// maxPending is maxPendingJoins, or less in tests.
	maxPending int

	mu      sync.Mutex
	pending []*joinCall
	running bool // a goroutine is sending pending batches
}

// joinCall is one join waiting for its answer.
type joinCall struct {
	ctx  context.Context
	keys []string
	argv []any
	res  []int64
	err  error
	done chan struct{}
}

// maxJoinBatch bounds the joins of one pipeline.
const maxJoinBatch = 256

// maxPendingJoins bounds the joins waiting for a pipeline: beyond it Redis
// is not keeping up (stalled, failing over), and a join is answered
// unavailable at once rather than queued behind thousands (the room
// answers 503 with Retry-After).
const maxPendingJoins = 20000

// joinTimeout bounds one pipeline of joins: the calls waiting on it give
// up with their own contexts, and the pipeline must not outlive them all.
const joinTimeout = 10 * time.Second

// do runs the join script with keys and argv, in the next pipeline.
func (b *joinBatcher) do(ctx context.Context, keys []string, argv []any) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := &joinCall{ctx: ctx, keys: keys, argv: argv, done: make(chan struct{})}
	b.mu.Lock()
	if len(b.pending) >= b.maxPending {
		b.mu.Unlock()
		return nil, fmt.Errorf("%w: %d joins already waiting for Redis", souq.ErrUnavailable, b.maxPending)
	}
	b.pending = append(b.pending, c)
	if !b.running {
		b.running = true
		go b.send()
	}
	b.mu.Unlock()
	select {
	case <-c.done:
		return c.res, c.err
	case <-ctx.Done():
		// The join is not sent if its pipeline has not left (send drops
		// it); if it has, a place may be given, as when an answer is lost
		// on the way back.
		return nil, ctx.Err()
	}
}

// send sends pending joins, up to maxJoinBatch a pipeline, until none is
// left.
func (b *joinBatcher) send() {
	for {
		b.mu.Lock()
		n := min(len(b.pending), maxJoinBatch)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		taken := b.pending[:n:n]
		b.pending = b.pending[n:]
		if len(b.pending) == 0 {
			b.pending = nil // let the sent calls' array go
		}
		b.mu.Unlock()
		// Joins whose callers gave up while they waited are not sent: a
		// place no one will look at would take an admission later.
		batch := make([]*joinCall, 0, len(taken))
		for _, c := range taken {
			if c.err = c.ctx.Err(); c.err == nil {
				batch = append(batch, c)
			}
		}
		if len(batch) > 0 {
			b.run(batch)
		}
		for _, c := range taken {
			close(c.done)
		}
	}
}

// run sends batch as one pipeline and sets each call's answer. A server
// that does not know the script yet (restarted, failed over) gets it
// loaded, and the calls it refused are sent again: a refused script did
// not run.
func (b *joinBatcher) run(batch []*joinCall) {
	ctx, cancel := context.WithTimeout(context.Background(), joinTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		pipe := b.client.Pipeline()
		cmds := make([]*redis.Cmd, len(batch))
		for i, c := range batch {
			cmds[i] = pipe.EvalSha(ctx, b.script.Hash(), c.keys, c.argv...)
		}
		b.count()
		_, _ = pipe.Exec(ctx) // errors are read from each command
		var again []*joinCall
		for i, c := range batch {
			c.res, c.err = cmds[i].Int64Slice()
			if c.err != nil && redis.HasErrorPrefix(c.err, "NOSCRIPT") && attempt == 0 {
				again = append(again, c)
			}
		}
		if len(again) == 0 {
			return
		}
		if err := b.script.Load(ctx, b.client).Err(); err != nil {
			for _, c := range again {
				c.err = fmt.Errorf("load the join script: %w", err)
			}
			return
		}
		batch = again
	}
}

package redisstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
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
	count  func() // counts a round trip

	mu      sync.Mutex
	pending []*joinCall
	running bool // a goroutine is sending pending batches
}

// joinCall is one join waiting for its answer.
type joinCall struct {
	keys []string
	argv []any
	res  []int64
	err  error
	done chan struct{}
}

// maxJoinBatch bounds the joins of one pipeline.
const maxJoinBatch = 256

// joinTimeout bounds one pipeline of joins: the calls waiting on it give
// up with their own contexts, and the pipeline must not outlive them all.
const joinTimeout = 10 * time.Second

// do runs the join script with keys and argv, in the next pipeline.
func (b *joinBatcher) do(ctx context.Context, keys []string, argv []any) ([]int64, error) {
	c := &joinCall{keys: keys, argv: argv, done: make(chan struct{})}
	b.mu.Lock()
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
		// The join may still be sent: a place then kept or given, as when
		// an answer is lost on the way back.
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
		batch := b.pending[:n:n]
		b.pending = b.pending[n:]
		if len(b.pending) == 0 {
			b.pending = nil // let the sent calls' array go
		}
		b.mu.Unlock()
		b.run(batch)
		for _, c := range batch {
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
			cmds[i] = pipe.EvalSha(ctx, wrJoinScript.Hash(), c.keys, c.argv...)
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
		if err := wrJoinScript.Load(ctx, b.client).Err(); err != nil {
			for _, c := range again {
				c.err = fmt.Errorf("load the join script: %w", err)
			}
			return
		}
		batch = again
	}
}

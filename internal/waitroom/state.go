package waitroom

import (
	"context"
	"time"
)

// Queue is a protected sale's queue as the state holds it. Positions are
// 1, 2, …: the early arrivals' (drawn at the start) come first, then one
// per arrival after the start, in order. Every position up to Head is
// admitted.
type Queue struct {
	// Started: the start has passed and the early arrivals were drawn;
	// no one joins the draw any more.
	Started bool
	// Early is how many arrived before the start (the draw's size).
	Early int64
	// Tail is the last position given.
	Tail int64
	// Head is the last position admitted: never beyond Tail.
	Head int64
	// Used counts admissions that placed an order (claims held).
	Used    int64
	SoldOut bool
}

// Waiting is how many positions are not admitted yet.
func (q Queue) Waiting() int64 { return max(0, q.Tail-q.Head) }

// Place is one visitor's place in a queue.
type Place struct {
	// Position is the visitor's place; 0 for an early arrival before the
	// draw.
	Position int64
	// Joined is when the visitor took this place.
	Joined time.Time
	// Rejoined: the visitor had a place but was away longer than the
	// grace period, and this is a new one at the end.
	Rejoined bool
}

// State holds the queues of protected sales. The room's rules (who is
// admitted when) are in Room; a State only keeps positions and counters
// atomically, so that several api replicas share one queue. NewMemState
// is the in-process State; redisstore.WaitingRoom shares it through Redis.
// waitroomtest holds the contract suite both pass.
type State interface {
	// Join gives the visitor its place in the sale's queue, or the one it
	// holds if it was seen within grace, and records it as seen at now.
	// Before start, and while the queue is not Started, the visitor enters
	// the draw with the number draw (lower goes first); at or after start
	// the draw is closed (Queue.Started) and an arrival gets the next
	// position. An early arrival's grace counts from the start.
	Join(ctx context.Context, sale, visitor string, draw uint64, now, start time.Time, grace time.Duration) (Place, Queue, error)
	// Advance admits up to n more positions (never beyond the tail) and
	// returns the queue. With started it first closes the draw if it is
	// open; with soldOut it marks the sale sold out (for good) and admits
	// no one.
	Advance(ctx context.Context, sale string, n int64, started, soldOut bool) (Queue, error)
	// Claim records the admission nonce as used by key for ttl. It reports
	// true when the nonce was free, or is already held by the same key
	// (a retried request); false when another key holds it.
	Claim(ctx context.Context, sale, nonce, key string, ttl time.Duration) (bool, error)
	// Release frees a claim held by key: the order it was for was not
	// placed, so the admission may be used again.
	Release(ctx context.Context, sale, nonce, key string) error
	// Claimed reports whether an order holds the admission nonce's claim
	// (placed, or being placed).
	Claimed(ctx context.Context, sale, nonce string) (bool, error)
	// Draw returns the draw numbers of the early arrivals, lowest first,
	// for anyone to check the draw against the published seed.
	Draw(ctx context.Context, sale string) ([]uint64, error)
}

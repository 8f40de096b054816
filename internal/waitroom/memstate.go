package waitroom

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

// MemState is the in-process State: one process's queues, for the
// embedded shop. Safe for concurrent use.
type MemState struct {
	mu    sync.Mutex
	sales map[string]*memQueue
}

// NewMemState returns an empty in-process State.
func NewMemState() *MemState { return &MemState{sales: map[string]*memQueue{}} }

type memQueue struct {
	q        Queue
	seq      int64
	visitors map[string]memVisitor
	draw     []memDraw // early arrivals in arrival order, sorted when drawn
	claims   map[string]memClaim
	prune    int // prune expired claims when there are this many
}

type memVisitor struct {
	pos          int64 // -1: in the draw, until it closes
	seen, joined time.Time
}

type memDraw struct {
	n       uint64
	visitor string
}

type memClaim struct {
	key     string
	expires time.Time
}

var _ State = (*MemState)(nil)

func (m *MemState) queue(sale string) *memQueue {
	mq := m.sales[sale]
	if mq == nil {
		mq = &memQueue{visitors: map[string]memVisitor{}, claims: map[string]memClaim{}}
		m.sales[sale] = mq
	}
	return mq
}

// close closes the draw: the early arrivals get positions 1…Early by
// their draw numbers (ties by visitor id, as Redis orders a sorted set).
func (mq *memQueue) close() {
	if mq.q.Started {
		return
	}
	slices.SortFunc(mq.draw, func(a, b memDraw) int {
		return cmp.Or(cmp.Compare(a.n, b.n), cmp.Compare(a.visitor, b.visitor))
	})
	for i, d := range mq.draw {
		v := mq.visitors[d.visitor]
		v.pos = int64(i) + 1
		mq.visitors[d.visitor] = v
	}
	mq.q.Started, mq.q.Early = true, int64(len(mq.draw))
	mq.q.Tail = mq.q.Early + mq.seq
}

// Join implements State.
func (m *MemState) Join(_ context.Context, sale, visitor string, draw uint64, now, start time.Time, grace time.Duration) (Place, Queue, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mq := m.queue(sale)
	v, known := mq.visitors[visitor]
	if now.Before(start) && !mq.q.Started {
		if !known {
			mq.draw = append(mq.draw, memDraw{draw, visitor})
			v = memVisitor{pos: -1, joined: now}
		}
		v.seen = now
		mq.visitors[visitor] = v
		return Place{Joined: v.joined}, mq.q, nil
	}
	mq.close()
	seen := v.seen
	if v.joined.Before(start) && seen.Before(start) {
		seen = start // an early arrival's grace counts from the start
	}
	var p Place
	if !known || now.Sub(seen) > grace {
		p.Rejoined = known
		mq.seq++
		mq.q.Tail = mq.q.Early + mq.seq
		v = memVisitor{pos: mq.q.Tail, joined: now}
	}
	v.seen = now
	mq.visitors[visitor] = v
	p.Position, p.Joined = v.pos, v.joined
	return p, mq.q, nil
}

// Advance implements State.
func (m *MemState) Advance(_ context.Context, sale string, n int64, started, soldOut bool) (Queue, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mq := m.queue(sale)
	if started {
		mq.close()
	}
	if soldOut {
		mq.q.SoldOut = true
	}
	if n > 0 && !mq.q.SoldOut && mq.q.Started {
		mq.q.Head = min(mq.q.Head+n, mq.q.Tail)
	}
	return mq.q, nil
}

// Claim implements State. Expired claims are dropped as they are met.
func (m *MemState) Claim(_ context.Context, sale, nonce, key string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mq := m.queue(sale)
	now := time.Now() // as Redis expires its keys: by the state's clock
	if len(mq.claims) >= mq.prune {
		for n, c := range mq.claims {
			if now.After(c.expires) {
				delete(mq.claims, n)
			}
		}
		mq.prune = max(1024, 2*len(mq.claims))
	}
	c, held := mq.claims[nonce]
	if held && now.After(c.expires) {
		delete(mq.claims, nonce)
		held = false
	}
	switch {
	case !held:
		mq.claims[nonce] = memClaim{key: key, expires: now.Add(ttl)}
		mq.q.Used++
		return true, nil
	default:
		return c.key == key, nil
	}
}

// Release implements State.
func (m *MemState) Release(_ context.Context, sale, nonce, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	mq := m.queue(sale)
	if c, held := mq.claims[nonce]; held && c.key == key {
		delete(mq.claims, nonce)
		mq.q.Used--
	}
	return nil
}

// Claimed implements State.
func (m *MemState) Claimed(_ context.Context, sale, nonce string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, held := m.queue(sale).claims[nonce]
	return held && !time.Now().After(c.expires), nil
}

// Draw implements State.
func (m *MemState) Draw(_ context.Context, sale string) ([]uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mq := m.queue(sale)
	out := make([]uint64, len(mq.draw))
	for i, d := range mq.draw {
		out[i] = d.n
	}
	if !mq.q.Started {
		slices.Sort(out)
	}
	return out, nil
}

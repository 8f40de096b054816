package analytics

import (
	"context"
	"sync"
	"time"
)

// changes records what the Aggregator's Commits may have changed: a
// version per minute bucket, raised by every Commit to it, and the
// retention floor, below which the store has dropped minute buckets. The
// Aggregator notes each Commit after it returns, and a windowCache reads a
// minute's version before reading the minute from the store, so a minute
// changed during or after the read has a newer version than the one
// recorded with it. It has its own mutex so that Apply never waits for a
// Snapshot.
type changes struct {
	mu       sync.Mutex
	versions map[int64]uint64 // by bucket start, Unix seconds; minutes below floor are dropped
	floor    int64            // the highest Floors.Minutes committed with, Unix seconds
}

func newChanges() *changes {
	return &changes{versions: map[int64]uint64{}, floor: minUnix}
}

func (c *changes) note(b *Batch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !b.Minute.IsZero() {
		c.versions[b.Minute.Unix()]++
	}
	if f := b.Floors.Minutes; !f.IsZero() && f.Unix() > c.floor {
		c.floor = f.Unix()
		for start := range c.versions {
			if start < c.floor {
				delete(c.versions, start)
			}
		}
	}
}

// changeSource tells a windowCache which minute buckets changed: the
// version of the minute starting at start (raised by every Commit to it)
// and the minute floor (Unix seconds), below which buckets are dropped.
// The Aggregator's changes are one; a MemStore, which counts its own
// Commits, is another.
type changeSource interface {
	version(start int64) (version uint64, floor int64)
}

// version returns the version of the minute starting at start and the
// floor.
func (c *changes) version(start int64) (version uint64, floor int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.versions[start], c.floor
}

// windowCache keeps, for one dimension and for the Aggregator's own
// Reader, the minute buckets of the widest of a few windows ending at the
// same time as they were read, each with its version, and their sums per
// member over each window, so that a Snapshot reads again only the minutes
// that changed since the last one (usually the one filling) or entered the
// widest window, and subtracts those that changed or left a window. Its
// sums equal a fresh reading of the store: a minute is held only while
// its version is the one it was read at, and integer sums and differences
// are exact.
//
// V is what is kept of a member's Counters: of projects it, add adds k × v
// to an accumulator.
type windowCache[V any] struct {
	dim     Dimension
	windows []time.Duration // narrowest first
	of      func(*Counters) V
	add     func(acc, v *V, k int64)
	changes changeSource // nil: read afresh every time

	mu      sync.Mutex // held while updating and while the sums are used
	end     time.Time  // the end of the windows; zero when nothing is held
	minutes map[int64]*heldMinute[V]
	sums    []map[string]*windowSum[V] // per window, per member
}

// windowSum is one member's sum over a window, and how many cells it sums:
// a member is in a window while it has a cell there, even a zero one.
type windowSum[V any] struct {
	cells int
	v     V
}

type heldMinute[V any] struct {
	version uint64
	cells   []memberValue[V]
}

type memberValue[V any] struct {
	member string
	v      V
}

func newWindowCache[V any](dim Dimension, windows []time.Duration, of func(*Counters) V, add func(acc, v *V, k int64), ch changeSource) *windowCache[V] {
	return &windowCache[V]{dim: dim, windows: windows, of: of, add: add, changes: ch}
}

// widest is the length of the widest window.
func (c *windowCache[V]) widest() time.Duration { return c.windows[len(c.windows)-1] }

// in reports whether the minute starting at start counts in window i
// ending at end.
func (c *windowCache[V]) in(start int64, end time.Time, i int) bool {
	return start >= end.Add(-c.windows[i]).Unix() && start < end.Unix()
}

// sumInto adds (k = 1) or takes out (k = -1) one of member's cells, v, in
// the sums of window i.
func (c *windowCache[V]) sumInto(sums []map[string]*windowSum[V], i int, member string, v *V, k int64) {
	acc, ok := sums[i][member]
	if !ok {
		acc = &windowSum[V]{}
		sums[i][member] = acc
	}
	c.add(&acc.v, v, k)
	if acc.cells += int(k); acc.cells == 0 {
		delete(sums[i], member)
	}
}

func (c *windowCache[V]) newSums() []map[string]*windowSum[V] {
	sums := make([]map[string]*windowSum[V], len(c.windows))
	for i := range sums {
		sums[i] = map[string]*windowSum[V]{}
	}
	return sums
}

// with calls use with the sums of each member over each window ending at
// end, one map per window; use must not keep or modify them. Without
// changes to follow, it asks a VersionedStore for its minute versions, or
// else (a store that cannot tell what changed) reads the
// widest window afresh.
func (c *windowCache[V]) with(ctx context.Context, store HotStore, end time.Time, use func(sums []map[string]*windowSum[V])) error {
	src := c.changes
	if src == nil {
		vs, ok := store.(VersionedStore)
		if !ok {
			return c.fresh(ctx, store, end, use)
		}
		// Versions first, then the minutes: a minute changed in between
		// is read newer than its version says, and read again next time.
		versions, floor, err := vs.MinuteVersions(ctx, end.Add(-c.widest()), end)
		if err != nil {
			return err
		}
		src = versionMap{versions, floor.Unix()}
		if floor.IsZero() {
			src = versionMap{versions, minUnix}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.update(ctx, store, end, src); err != nil {
		c.end = time.Time{} // partly read: start afresh next time
		return err
	}
	use(c.sums)
	return nil
}

// versionMap is the minute versions a VersionedStore reported, as a
// changeSource.
type versionMap struct {
	versions map[int64]uint64
	floor    int64
}

func (m versionMap) version(start int64) (uint64, int64) { return m.versions[start], m.floor }

func (c *windowCache[V]) update(ctx context.Context, store HotStore, end time.Time, src changeSource) error {
	switch {
	case c.end.IsZero() || end.Before(c.end) || !end.Before(c.end.Add(c.widest())):
		c.minutes, c.sums = map[int64]*heldMinute[V]{}, c.newSums()
	case end.After(c.end):
		for start, h := range c.minutes {
			for i := range c.windows {
				if c.in(start, c.end, i) && !c.in(start, end, i) {
					for j := range h.cells {
						c.sumInto(c.sums, i, h.cells[j].member, &h.cells[j].v, -1)
					}
				}
			}
			if !c.in(start, end, len(c.windows)-1) {
				delete(c.minutes, start)
			}
		}
	}
	c.end = end
	// Drop the minutes that changed, then read those not held, each run of
	// consecutive ones at once.
	from := end.Add(-c.widest())
	for m := from; m.Before(end); m = m.Add(time.Minute) {
		start := m.Unix()
		version, floor := src.version(start)
		if h, ok := c.minutes[start]; ok && (h.version != version || start < floor) {
			c.drop(start, h)
		}
	}
	for m := from; m.Before(end); {
		if _, ok := c.minutes[m.Unix()]; ok {
			m = m.Add(time.Minute)
			continue
		}
		to := m
		for ; to.Before(end); to = to.Add(time.Minute) {
			start := to.Unix()
			if _, ok := c.minutes[start]; ok {
				break
			}
			version, _ := src.version(start)
			c.minutes[start] = &heldMinute[V]{version: version}
		}
		err := store.Read(ctx, Range{Res: Minute, Dim: c.dim, From: m, To: to}, func(start time.Time, member string, counters *Counters) {
			s := start.Unix()
			h := c.minutes[s]
			h.cells = append(h.cells, memberValue[V]{member, c.of(counters)})
			v := &h.cells[len(h.cells)-1].v
			for i := range c.windows {
				if c.in(s, end, i) {
					c.sumInto(c.sums, i, member, v, 1)
				}
			}
		})
		if err != nil {
			return err
		}
		m = to
	}
	return nil
}

// drop forgets the minute starting at start, taking it out of the sums.
func (c *windowCache[V]) drop(start int64, h *heldMinute[V]) {
	for i := range c.windows {
		if c.in(start, c.end, i) {
			for j := range h.cells {
				c.sumInto(c.sums, i, h.cells[j].member, &h.cells[j].v, -1)
			}
		}
	}
	delete(c.minutes, start)
}

// fresh sums the minute buckets of dim over each window ending at end,
// reading the widest once.
func (c *windowCache[V]) fresh(ctx context.Context, store HotStore, end time.Time, use func(sums []map[string]*windowSum[V])) error {
	sums := c.newSums()
	err := store.Read(ctx, Range{Res: Minute, Dim: c.dim, From: end.Add(-c.widest()), To: end},
		func(start time.Time, member string, counters *Counters) {
			v := c.of(counters)
			for i := range c.windows {
				if c.in(start.Unix(), end, i) {
					c.sumInto(sums, i, member, &v, 1)
				}
			}
		})
	if err != nil {
		return err
	}
	use(sums)
	return nil
}

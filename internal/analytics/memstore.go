package analytics

import (
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axiomhq/hyperloglog"
)

// MemStore is the in-process HotStore: maps of buckets guarded by one
// RWMutex. Commit holds the write lock for the few map updates of one
// event; Read holds the read lock for the whole range it visits (a
// Snapshot's largest read, 60 minutes of 2,000 products, takes a few
// milliseconds, during which Commit waits). Its contents are lost when the
// process ends: a processor using it rebuilds by replaying the stream (or
// the archive) from the start of the retention.
//
// Applied message ids are held as 128-bit hashes (two maphash sums with
// seeds chosen when the store is created) in one set per bucket, dropped
// with the bucket: about 40 bytes per id, measured with a million ids. Two distinct ids would have to
// collide in 128 bits for an event to be lost, which does not happen in
// practice.
//
// The visitor sketches of a bucket are one per Total or Market member
// with visitors: dense from the start (16 KB each: inserting into a sparse
// sketch, which compacts itself every 164 new values, took a fifth of
// Apply's time), the buyers' sparse (few). At most 8 members × 16 KB per
// bucket: about 44 MB for the default retention's 180 minute and 168 hour
// buckets.
type MemStore struct {
	seeds [2]maphash.Seed

	mu       sync.RWMutex
	minutes  map[int64]*memBucket // by bucket start, Unix seconds
	hours    map[int64]*memBucket
	floors   Floors
	progress Progress
}

type idKey [2]uint64

type memBucket struct {
	version uint64 // Commits applied to the bucket (minute buckets), for Readers' kept sums
	dims    [numDims]map[string]*Counters
	ids     map[idKey]struct{}
	reach   map[reachKey]*sketches // nil until a visitor is added
}

// reachKey names a member's sketches: dim is its index in Dimensions.
type reachKey struct {
	dim    int
	member string
}

// sketches are a member's Visitors and Buyers sketches in one bucket.
// Readers merge them into sketches of their own and never call a method
// that changes them (Estimate compacts a sparse sketch), so the read lock
// suffices. adds counts the visitors added (under the write lock); est
// keeps the bucket's own estimate as of some count, so that
// ReachByBucket estimates again only the buckets that changed (an
// estimate of a dense sketch visits its 16,384 registers).
type sketches struct {
	visitors, buyers *hyperloglog.Sketch
	adds             uint64
	est              atomic.Pointer[estimate]
}

// estimate is a bucket's Reach when its sketches had had adds visitors added.
type estimate struct {
	adds uint64
	v    Reach
}

// addVisits adds visitor to the sketches visits name.
func (b *memBucket) addVisits(visitor []byte, visits []Visit) {
	for _, v := range visits {
		if v.Dim != Total && v.Dim != Market {
			continue // sketches are kept for ReachDimensions only
		}
		di := dimIndex(v.Dim)
		if b.reach == nil {
			b.reach = map[reachKey]*sketches{}
		}
		k := reachKey{di, v.Member}
		sk, ok := b.reach[k]
		if !ok {
			sk = &sketches{visitors: hyperloglog.NewNoSparse()}
			b.reach[k] = sk
		}
		sk.visitors.Insert(visitor)
		sk.adds++
		if v.Buyer {
			if sk.buyers == nil {
				sk.buyers = hyperloglog.New14()
			}
			sk.buyers.Insert(visitor)
		}
	}
}

// NewMemStore returns an empty in-process store.
func NewMemStore() *MemStore {
	return &MemStore{
		seeds:   [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		minutes: map[int64]*memBucket{},
		hours:   map[int64]*memBucket{},
	}
}

func (s *MemStore) key(id string) idKey {
	return idKey{maphash.String(s.seeds[0], id), maphash.String(s.seeds[1], id)}
}

func bucketOf(m map[int64]*memBucket, start time.Time) *memBucket {
	k := start.Unix()
	b, ok := m[k]
	if !ok {
		b = &memBucket{ids: map[idKey]struct{}{}}
		m[k] = b
	}
	return b
}

func (b *memBucket) add(deltas []Delta) {
	for i := range deltas {
		d := &deltas[i]
		di := dimIndex(d.Dim)
		if di < 0 {
			continue
		}
		m := b.dims[di]
		if m == nil {
			m = map[string]*Counters{}
			b.dims[di] = m
		}
		c, ok := m[d.Member]
		if !ok {
			c = &Counters{}
			m[d.Member] = c
		}
		c.Add(&d.Counters)
	}
}

// Commit implements HotStore.
func (s *MemStore) Commit(ctx context.Context, b *Batch) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	k := s.key(b.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune(b.Floors)
	// The ids live in the bucket that holds the event: a copy of an event
	// always falls in the same bucket as the original, so one set lookup
	// answers.
	var idBucket *memBucket
	if !b.Minute.IsZero() {
		if b.Minute.Before(s.floors.Minutes) {
			return false, nil
		}
		idBucket = bucketOf(s.minutes, b.Minute)
	} else {
		if b.Hour.Before(s.floors.Hours) {
			return false, nil
		}
		idBucket = bucketOf(s.hours, b.Hour)
	}
	if _, dup := idBucket.ids[k]; dup {
		s.progress.Duplicates++
		return false, nil
	}
	idBucket.ids[k] = struct{}{}
	s.progress.IDs++
	hour := bucketOf(s.hours, b.Hour)
	if !b.Minute.IsZero() {
		idBucket.version++
		idBucket.add(b.Deltas)
	}
	hour.add(b.Deltas)
	if b.Visitor != "" && len(b.Visits) > 0 {
		visitor := []byte(b.Visitor)
		if !b.Minute.IsZero() {
			idBucket.addVisits(visitor, b.Visits)
		}
		hour.addVisits(visitor, b.Visits)
	}
	s.progress.Applied++
	s.progress.MaxSeq = max(s.progress.MaxSeq, b.Seq)
	if b.Watermark.After(s.progress.Watermark) {
		s.progress.Watermark = b.Watermark
	}
	return true, nil
}

// CommitMany implements HotStore.
func (s *MemStore) CommitMany(ctx context.Context, bs []*Batch) ([]bool, error) {
	applied := make([]bool, len(bs))
	for i, b := range bs {
		var err error
		if applied[i], err = s.Commit(ctx, b); err != nil {
			return nil, err
		}
	}
	return applied, nil
}

// prune drops buckets (and their ids) older than f, when f has advanced.
func (s *MemStore) prune(f Floors) {
	if f.Minutes.After(s.floors.Minutes) {
		s.floors.Minutes = f.Minutes
		floor := f.Minutes.Unix()
		for start, b := range s.minutes {
			if start < floor {
				s.progress.IDs -= len(b.ids)
				delete(s.minutes, start)
			}
		}
	}
	if f.Hours.After(s.floors.Hours) {
		s.floors.Hours = f.Hours
		floor := f.Hours.Unix()
		for start, b := range s.hours {
			if start < floor {
				s.progress.IDs -= len(b.ids)
				delete(s.hours, start)
			}
		}
	}
}

// Read implements HotStore.
func (s *MemStore) Read(ctx context.Context, r Range, fn func(start time.Time, member string, c *Counters)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	di := dimIndex(r.Dim)
	var buckets map[int64]*memBucket
	switch r.Res {
	case Minute:
		buckets = s.minutes
	case Hour:
		buckets = s.hours
	}
	if di < 0 || buckets == nil {
		return errBadRange(r)
	}
	from, to := r.From.Unix(), r.To.Unix()
	if r.From.IsZero() {
		from = minUnix
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	starts := make([]int64, 0, len(buckets))
	for start := range buckets {
		if start >= from && (r.To.IsZero() || start < to) {
			starts = append(starts, start)
		}
	}
	slices.Sort(starts)
	for _, start := range starts {
		m := buckets[start].dims[di]
		if m == nil {
			continue
		}
		t := time.Unix(start, 0).UTC()
		if r.Member != "" {
			if c, ok := m[r.Member]; ok {
				fn(t, r.Member, c)
			}
			continue
		}
		if len(r.Members) > 0 {
			for _, member := range r.Members {
				if c, ok := m[member]; ok {
					fn(t, member, c)
				}
			}
			continue
		}
		for member, c := range m {
			fn(t, member, c)
		}
	}
	return nil
}

// version implements changeSource: the Commits applied to the minute
// bucket starting at start (0 when there is none), and the minute floor.
func (s *MemStore) version(start int64) (version uint64, floor int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if b, ok := s.minutes[start]; ok {
		version = b.version
	}
	floor = minUnix
	if !s.floors.Minutes.IsZero() {
		floor = s.floors.Minutes.Unix()
	}
	return version, floor
}

// minUnix is below every bucket start: zero time.Time is year 1.
const minUnix = -1 << 62

// Progress implements HotStore.
func (s *MemStore) Progress(ctx context.Context) (Progress, error) {
	if err := ctx.Err(); err != nil {
		return Progress{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.progress, nil
}

// Reach implements HotStore: it merges the members' sketches of every
// bucket in rs into new ones and estimates those.
func (s *MemStore) Reach(ctx context.Context, rs []Range) (map[string]Reach, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := CheckReachRanges(rs); err != nil {
		return nil, err
	}
	merged := map[string]*sketches{}
	s.mu.RLock()
	for _, r := range rs {
		s.visitSketches(r, func(_ int64, member string, sk *sketches) {
			acc, ok := merged[member]
			if !ok {
				acc = &sketches{visitors: &hyperloglog.Sketch{}, buyers: &hyperloglog.Sketch{}}
				merged[member] = acc
			}
			_ = acc.visitors.Merge(sk.visitors) // one precision throughout: cannot fail
			_ = acc.buyers.Merge(sk.buyers)
		})
	}
	s.mu.RUnlock()
	out := make(map[string]Reach, len(merged))
	for member, sk := range merged {
		out[member] = Reach{Visitors: int64(sk.visitors.Estimate()), Buyers: int64(sk.buyers.Estimate())}
	}
	return out, nil
}

// ReachByBucket implements HotStore.
func (s *MemStore) ReachByBucket(ctx context.Context, r Range, fn func(start time.Time, member string, v Reach)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckReachRanges([]Range{r}); err != nil {
		return err
	}
	type cell struct {
		start            int64
		member           string
		kept             *estimate // nil: estimate the copies below
		adds             uint64
		visitors, buyers *hyperloglog.Sketch
		sk               *sketches
	}
	var cells []cell
	s.mu.RLock()
	s.visitSketches(r, func(start int64, member string, sk *sketches) {
		c := cell{start: start, member: member, adds: sk.adds, sk: sk}
		if e := sk.est.Load(); e != nil && e.adds == sk.adds {
			c.kept = e
		} else {
			// Estimate may compact a sparse sketch: estimate copies.
			c.visitors = sk.visitors.Clone()
			if sk.buyers != nil {
				c.buyers = sk.buyers.Clone()
			}
		}
		cells = append(cells, c)
	})
	s.mu.RUnlock()
	for _, c := range cells {
		var v Reach
		if c.kept != nil {
			v = c.kept.v
		} else {
			v.Visitors = int64(c.visitors.Estimate())
			if c.buyers != nil {
				v.Buyers = int64(c.buyers.Estimate())
			}
			c.sk.est.Store(&estimate{adds: c.adds, v: v})
		}
		fn(time.Unix(c.start, 0).UTC(), c.member, v)
	}
	return nil
}

// visitSketches calls fn with the sketches of each member in r, by bucket
// start; the caller holds the read lock.
func (s *MemStore) visitSketches(r Range, fn func(start int64, member string, sk *sketches)) {
	buckets := s.minutes
	if r.Res == Hour {
		buckets = s.hours
	}
	di := dimIndex(r.Dim)
	from, to := r.From.Unix(), r.To.Unix()
	if r.From.IsZero() {
		from = minUnix
	}
	starts := make([]int64, 0, len(buckets))
	for start, b := range buckets {
		if b.reach != nil && start >= from && (r.To.IsZero() || start < to) {
			starts = append(starts, start)
		}
	}
	slices.Sort(starts)
	for _, start := range starts {
		b := buckets[start]
		if r.Member != "" {
			if sk, ok := b.reach[reachKey{di, r.Member}]; ok {
				fn(start, r.Member, sk)
			}
			continue
		}
		for k, sk := range b.reach {
			if k.dim == di {
				fn(start, k.member, sk)
			}
		}
	}
}

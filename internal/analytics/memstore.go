package analytics

import (
	"context"
	"hash/maphash"
	"slices"
	"sync"
	"time"
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
	dims [numDims]map[string]*Counters
	ids  map[idKey]struct{}
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
	if !b.Minute.IsZero() {
		idBucket.add(b.Deltas)
	}
	bucketOf(s.hours, b.Hour).add(b.Deltas)
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
		for member, c := range m {
			fn(t, member, c)
		}
	}
	return nil
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

package analytics

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Reader answers queries over a HotStore: the dashboard's Snapshot, Series
// and Dump. The processor's Aggregator embeds one; a dashboard in another
// process reading the shared store (Redis) makes its own with NewReader.
// Its methods are safe for concurrent use.
type Reader struct {
	store HotStore
	cfg   Config

	mu       sync.Mutex // guards the Snapshot cache; held while computing one
	cacheKey time.Time
	cached   *Snapshot

	// The sums of the minute buckets a Snapshot shows: the products over
	// the trend windows, the other dimensions over the last hour. An
	// Aggregator's own Reader keeps them between Snapshots (see
	// windowCache), and so does a NewReader over a MemStore or a
	// VersionedStore; a Reader of another store reads them afresh.
	// Lock order: mu, then a cache's mu, then changes.mu or the
	// MemStore's lock.
	products *windowCache[Counters]
	rows     map[Dimension]*windowCache[Counters] // Market, City, Brand, Category

	audienceCache cached[AudienceFigures] // by SnapshotTTL interval
	compareCache  cached[Comparisons]     // by minute: the past spans
}

// NewReader returns a Reader over store. Over a MemStore (a dashboard in
// the processor's process) it keeps its sums between calls as the
// Aggregator's own Reader does, following the store's own count of the
// Commits to each minute bucket; over another store it reads them afresh.
func NewReader(store HotStore, cfg Config) (*Reader, error) {
	return newReader(store, cfg, nil)
}

// newReader returns a Reader over store; with ch, the Reader keeps its
// sums between Snapshots, and every Commit to store must be noted in ch.
// Without ch, a store that counts its Commits (MemStore) serves instead.
func newReader(store HotStore, cfg Config, ch *changes) (*Reader, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var src changeSource
	if ch != nil {
		src = ch
	} else if ms, ok := store.(*MemStore); ok {
		src = ms
	}
	r := &Reader{store: store, cfg: cfg,
		products: newWindowCache(Product, trendWindows, copyCounters, addCounters, src),
		rows:     map[Dimension]*windowCache[Counters]{},
	}
	for _, dim := range []Dimension{Market, City, Brand, Category} {
		r.rows[dim] = newWindowCache(dim, []time.Duration{time.Hour}, copyCounters, addCounters, src)
	}
	return r, nil
}

func copyCounters(c *Counters) Counters     { return *c }
func addCounters(acc, v *Counters, k int64) { acc.add(v, k) }

// lastHour returns the counters of each member of dim over the hour of
// minute buckets ending at end.
func (r *Reader) lastHour(ctx context.Context, dim Dimension, end time.Time) (map[string]*Counters, error) {
	var out map[string]*Counters
	err := r.rows[dim].with(ctx, r.store, end, func(sums []map[string]*windowSum[Counters]) {
		out = make(map[string]*Counters, len(sums[0]))
		for member, s := range sums[0] {
			c := s.v
			out[member] = &c
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read %s by %s: %w", Minute, dim, err)
	}
	return out, nil
}

// Config returns the configuration in use, defaults filled in.
func (r *Reader) Config() Config { return r.cfg }

// State is every retained aggregate in a canonical order, so that two sets
// of aggregates can be compared with cmp.Diff: the live ones with a
// recomputation from the archive, or the ones after applying events twice
// with the ones after applying them once.
type State struct {
	Watermark time.Time `json:"watermark"`
	MaxSeq    uint64    `json:"max_seq"`
	Cells     []Cell    `json:"cells"` // by resolution (minute first), start, dimension, member
}

// Cell is the counters of one member of one dimension in one bucket.
type Cell struct {
	Res      Resolution `json:"resolution"`
	Start    time.Time  `json:"start"`
	Dim      Dimension  `json:"dimension"`
	Member   string     `json:"member"`
	Counters Counters   `json:"counters"`
}

// Dump returns every cell within the retention at the store's watermark,
// sorted. Cells the store has not yet pruned are left out, so the result
// does not depend on when pruning happened.
func (r *Reader) Dump(ctx context.Context) (State, error) {
	p, err := r.store.Progress(ctx)
	if err != nil {
		return State{}, fmt.Errorf("analytics: dump: %w", err)
	}
	s := State{Watermark: p.Watermark, MaxSeq: p.MaxSeq}
	if p.Watermark.IsZero() {
		return s, nil
	}
	floors := r.cfg.floors(p.Watermark)
	for _, res := range []Resolution{Minute, Hour} {
		from := floors.Minutes
		if res == Hour {
			from = floors.Hours
		}
		for _, dim := range Dimensions() {
			err := r.store.Read(ctx, Range{Res: res, Dim: dim, From: from}, func(start time.Time, member string, c *Counters) {
				s.Cells = append(s.Cells, Cell{Res: res, Start: start, Dim: dim, Member: member, Counters: *c})
			})
			if err != nil {
				return State{}, fmt.Errorf("analytics: dump: %w", err)
			}
		}
	}
	slices.SortFunc(s.Cells, func(a, b Cell) int {
		return cmp.Or(
			cmp.Compare(a.Res.Duration(), b.Res.Duration()),
			a.Start.Compare(b.Start),
			cmp.Compare(dimIndex(a.Dim), dimIndex(b.Dim)),
			strings.Compare(a.Member, b.Member))
	})
	return s, nil
}

// SeriesQuery selects one counter over time: Metric (a name from
// CounterFields) of Member of Dim (every member summed when Member is
// empty) in the buckets starting in [From, To), summed into points Step
// apart. Step is whole minutes under an hour (minute buckets) or whole
// hours (hour buckets); From is truncated to the bucket length.
type SeriesQuery struct {
	Metric   string
	Dim      Dimension
	Member   string
	From, To time.Time
	Step     time.Duration
}

// MaxSeriesPoints bounds the points one Series call returns.
const MaxSeriesPoints = 10_000

// Point is one value of a series: the sum over the step starting at Start.
type Point struct {
	Start time.Time `json:"start"`
	Value int64     `json:"value"`
}

// Series returns the points of q, oldest first, one per step (zero where
// nothing happened). A bad query is an error of kind souq.ErrInvalid.
func (r *Reader) Series(ctx context.Context, q SeriesQuery) ([]Point, error) {
	field, ok := counterFields[q.Metric]
	if !ok {
		return nil, souq.Errorf(souq.ErrInvalid, "unknown metric %q (want one of %s)", q.Metric, strings.Join(CounterFields(), ", "))
	}
	if dimIndex(q.Dim) < 0 {
		return nil, souq.Errorf(souq.ErrInvalid, "unknown dimension %q", string(q.Dim))
	}
	res := Minute
	switch {
	case q.Step >= time.Hour && q.Step%time.Hour == 0:
		res = Hour
	case q.Step < time.Minute || q.Step%time.Minute != 0:
		return nil, souq.Errorf(souq.ErrInvalid, "step %v must be whole minutes, or whole hours from 1h", q.Step)
	}
	from := q.From.UTC().Truncate(res.Duration())
	if !q.To.After(from) {
		return nil, souq.Errorf(souq.ErrInvalid, "the range must end after it starts")
	}
	n := (q.To.Sub(from) + q.Step - 1) / q.Step
	if n > MaxSeriesPoints {
		return nil, souq.Errorf(souq.ErrInvalid, "%d points asked for, at most %d", n, MaxSeriesPoints)
	}
	points := make([]Point, n)
	for i := range points {
		points[i].Start = from.Add(time.Duration(i) * q.Step)
	}
	err := r.store.Read(ctx, Range{Res: res, Dim: q.Dim, Member: q.Member, From: from, To: q.To},
		func(start time.Time, _ string, c *Counters) {
			points[start.Sub(from)/q.Step].Value += *field(c)
		})
	if err != nil {
		return nil, fmt.Errorf("analytics: series: %w", err)
	}
	return points, nil
}

// sum returns the counters of each member of dim summed over the buckets
// of res starting in [from, to).
func (r *Reader) sum(ctx context.Context, res Resolution, dim Dimension, from, to time.Time) (map[string]*Counters, error) {
	out := map[string]*Counters{}
	err := r.store.Read(ctx, Range{Res: res, Dim: dim, From: from, To: to}, func(_ time.Time, member string, c *Counters) {
		acc, ok := out[member]
		if !ok {
			acc = &Counters{}
			out[member] = acc
		}
		acc.Add(c)
	})
	if err != nil {
		return nil, fmt.Errorf("read %s by %s: %w", res, dim, err)
	}
	return out, nil
}

package analytics

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Config sets retention and presentation. The zero value of each field
// means its default.
type Config struct {
	// MinuteRetention is how long minute buckets are kept, behind the
	// watermark (default 3 h; at least 1 h, whole minutes). It is also
	// how late an event may be and still reach minute buckets, and how
	// long its message id is remembered.
	MinuteRetention time.Duration
	// HourRetention is how long hour buckets are kept, behind the
	// watermark (default 7 days; at least 24 h, whole hours).
	HourRetention time.Duration
	// FutureSkew is how far an event's timestamp may be ahead of the time
	// Souq received it before the receive time is used instead (default
	// 5 min).
	FutureSkew time.Duration
	// TopN is how many products each trending list holds (default 10).
	TopN int
	// Day is the time zone whose midnight starts "today" (default Gulf
	// Standard Time, UTC+4). Its offset should be whole hours, as every
	// Gulf zone's is, since today is summed from UTC hour buckets.
	Day *time.Location
	// SnapshotTTL, when positive, makes Snapshot calls whose now falls in
	// the same SnapshotTTL-long interval share one computation. Zero
	// computes every call afresh.
	SnapshotTTL time.Duration
	// History, when set, answers Compare for periods the hot store no
	// longer holds (last week's, whose hour buckets are past the hour
	// retention), from the archive.
	History History
	// Logger, when set, logs what a query recovered from (a History that
	// failed); nil logs nothing.
	Logger *slog.Logger
}

// GulfStandardTime is UTC+4, the default Config.Day.
var GulfStandardTime = time.FixedZone("GST", 4*60*60)

func (c Config) withDefaults() (Config, error) {
	if c.MinuteRetention == 0 {
		c.MinuteRetention = 3 * time.Hour
	}
	if c.HourRetention == 0 {
		c.HourRetention = 7 * 24 * time.Hour
	}
	if c.FutureSkew == 0 {
		c.FutureSkew = 5 * time.Minute
	}
	if c.TopN == 0 {
		c.TopN = 10
	}
	if c.Day == nil {
		c.Day = GulfStandardTime
	}
	switch {
	case c.MinuteRetention < time.Hour || c.MinuteRetention%time.Minute != 0:
		return c, fmt.Errorf("analytics config: minute retention %v must be whole minutes, at least 1h", c.MinuteRetention)
	case c.HourRetention < 24*time.Hour || c.HourRetention%time.Hour != 0:
		return c, fmt.Errorf("analytics config: hour retention %v must be whole hours, at least 24h", c.HourRetention)
	case c.HourRetention < c.MinuteRetention:
		return c, fmt.Errorf("analytics config: hour retention %v is shorter than minute retention %v", c.HourRetention, c.MinuteRetention)
	case c.FutureSkew < 0 || c.TopN < 0 || c.SnapshotTTL < 0:
		return c, fmt.Errorf("analytics config: negative future skew, top N or snapshot TTL")
	}
	return c, nil
}

// floors returns the retention limits when the watermark is w.
func (c Config) floors(w time.Time) Floors {
	return Floors{
		Minutes: w.Truncate(time.Minute).Add(-c.MinuteRetention),
		Hours:   w.Truncate(time.Hour).Add(-c.HourRetention),
	}
}

// Aggregator turns events into counters in a HotStore and answers queries
// over them. Apply is meant to be called by one consumer goroutine (calls
// are serialised by a mutex, so more are safe but gain nothing); Snapshot,
// Series, Dump and Stats may be called from any number of goroutines at
// the same time as Apply. Several Aggregators, in several processes, may
// write to one shared store (see HotStore); each judges lateness by its
// own watermark, which starts at the store's and follows the events it
// applies, so replicas reading one stream decide alike up to the few
// seconds one may be behind another. Only an Aggregator writing alone to
// its store may serve the cached Snapshots of its embedded Reader: a
// dashboard over a shared store uses NewReader.
type Aggregator struct {
	*Reader // the queries, over the same store

	mu        sync.Mutex // serialises Apply; guards the fields below
	watermark time.Time

	changes *changes // what Apply committed, for the Reader's caches

	stats struct {
		applied, duplicates, hourOnly, tooOld, ignored, malformed atomic.Uint64
	}
}

// New returns an Aggregator writing to store, resuming from the store's
// watermark.
func New(ctx context.Context, store HotStore, cfg Config) (*Aggregator, error) {
	ch := newChanges()
	r, err := newReader(store, cfg, ch)
	if err != nil {
		return nil, err
	}
	p, err := store.Progress(ctx)
	if err != nil {
		return nil, fmt.Errorf("analytics: read progress: %w", err)
	}
	return &Aggregator{Reader: r, watermark: p.Watermark, changes: ch}, nil
}

// Apply adds one event, delivered with stream sequence seq, to the
// aggregates. It reports whether the aggregates changed. They do not
// change, and the error is nil, when the event was already applied (same
// messageId), when it is not a counted event (page and identify calls,
// other track names), or when it is older than the hour retention. An
// event later than the minute retention is applied to its hour bucket
// only. A malformed event returns an error wrapping ErrMalformed and
// changes nothing; other errors come from the store, and the event may be
// retried.
//
// Buckets are chosen by event time (ev.Timestamp, or ev.ReceivedAt when
// the timestamp is missing or more than FutureSkew ahead of it), truncated
// to the UTC minute and hour. Lateness is judged against the watermark:
// the newest ReceivedAt applied, this event's included.
func (a *Aggregator) Apply(ctx context.Context, seq uint64, ev souq.Event) (applied bool, err error) {
	res, err := a.ApplyMany(ctx, []Record{{Seq: seq, Event: ev}})
	if err != nil {
		return false, err
	}
	return res[0].Applied, res[0].Err
}

// Result is what ApplyMany did with one event: Applied reports whether
// the aggregates changed; Err, when not nil, wraps ErrMalformed.
type Result struct {
	Applied bool
	Err     error
}

// ApplyMany applies records in order as Apply would, committing them to
// the store together (one round trip to a remote store), and returns what
// it did with each. A store error is returned as err, and then none of the
// records counts as applied: they may be retried.
func (a *Aggregator) ApplyMany(ctx context.Context, recs []Record) ([]Result, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	res := make([]Result, len(recs))
	batches := make([]*Batch, 0, len(recs))
	at := make([]int, 0, len(recs)) // the record of each batch
	w := a.watermark
	var tooOld, ignored, malformed uint64
	for i := range recs {
		b, err := a.batch(&recs[i], w)
		switch {
		case err != nil:
			res[i].Err = err
			malformed++
		case b == nil:
			ignored++
		case b.Hour.Before(b.Floors.Hours):
			tooOld++
		default:
			w = b.Watermark
			batches = append(batches, b)
			at = append(at, i)
		}
	}
	applied, err := a.store.CommitMany(ctx, batches)
	for _, b := range batches {
		a.changes.note(b) // even after an error: the store may have changed
	}
	if err != nil {
		return nil, fmt.Errorf("analytics: apply %d events: %w", len(batches), err)
	}
	a.stats.malformed.Add(malformed)
	a.stats.ignored.Add(ignored)
	a.stats.tooOld.Add(tooOld)
	for j, ok := range applied {
		b := batches[j]
		if !ok {
			a.stats.duplicates.Add(1)
			continue
		}
		res[at[j]].Applied = true
		a.stats.applied.Add(1)
		if b.Minute.IsZero() {
			a.stats.hourOnly.Add(1)
		}
		if b.Watermark.After(a.watermark) {
			a.watermark = b.Watermark
		}
	}
	return res, nil
}

// batch turns r into the Batch to commit when the watermark before it is
// w; nil, without error, for an event the aggregates do not count. The
// batch's Minute is zero when the event is too late for minute buckets;
// its Hour may be below its hour floor (too old to count at all).
func (a *Aggregator) batch(r *Record, w time.Time) (*Batch, error) {
	p, ok, err := parseEvent(&r.Event, a.cfg.FutureSkew, nil)
	if err != nil || !ok {
		return nil, err
	}
	if p.received.After(w) {
		w = p.received
	}
	b := &Batch{
		ID: r.Event.MessageID, Seq: r.Seq, Watermark: w, Floors: a.cfg.floors(w), Deltas: p.deltas,
		Minute: p.at.Truncate(time.Minute), Hour: p.at.Truncate(time.Hour),
		Visitor: p.visitor, Visits: p.visits,
	}
	if b.Minute.Before(b.Floors.Minutes) {
		b.Minute = time.Time{}
	}
	return b, nil
}

// Stats counts what Apply did with the events it was given since the
// Aggregator was created. Every call that returned without a store error
// is counted once, in Applied, Duplicates, TooOld, Ignored or Malformed;
// HourOnly counts those of the Applied that reached hour buckets only.
type Stats struct {
	Applied    uint64 `json:"applied"`    // changed the aggregates (HourOnly of them to hour buckets only)
	HourOnly   uint64 `json:"hour_only"`  // applied, but too late for minute buckets
	Duplicates uint64 `json:"duplicates"` // already applied: no change
	TooOld     uint64 `json:"too_old"`    // older than the hour retention: no change
	Ignored    uint64 `json:"ignored"`    // not a counted event: no change
	Malformed  uint64 `json:"malformed"`  // rejected with ErrMalformed: no change
}

// Stats returns the counts so far.
func (a *Aggregator) Stats() Stats {
	return Stats{
		Applied: a.stats.applied.Load(), HourOnly: a.stats.hourOnly.Load(),
		Duplicates: a.stats.duplicates.Load(), TooOld: a.stats.tooOld.Load(),
		Ignored: a.stats.ignored.Load(), Malformed: a.stats.malformed.Load(),
	}
}

// Record is one event as the stream delivered it and the archive keeps it.
type Record struct {
	Seq   uint64
	Event souq.Event
}

// Recompute builds fresh aggregates, in a new MemStore, from records
// applied in stream order (by Seq; records with equal Seq keep their
// order), as the live processor applied them. Malformed records are
// skipped, as the processor dead-letters them. Its Dump equals the live
// Aggregator's when both saw the same records.
func Recompute(ctx context.Context, cfg Config, records []Record) (*Aggregator, error) {
	a, err := New(ctx, NewMemStore(), cfg)
	if err != nil {
		return nil, err
	}
	sorted := slices.Clone(records)
	slices.SortStableFunc(sorted, func(x, y Record) int { return cmp.Compare(x.Seq, y.Seq) })
	for _, r := range sorted {
		if _, err := a.Apply(ctx, r.Seq, r.Event); err != nil && !errors.Is(err, ErrMalformed) {
			return nil, fmt.Errorf("analytics: recompute: %w", err)
		}
	}
	return a, nil
}

package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/archive"
)

// The History this file implements.
var _ analytics.History = (*archiveHistory)(nil)

// archiveHistory is an analytics.History over the Parquet archive: it
// recomputes a period's totals from the archived events (analytics.
// TallyRecords counts them as the processor does, each message id once),
// and keeps the tally of every whole hour that has settled — its counters
// and its visitor and buyer sketches — so that Compare, which asks once a
// minute for yesterday's and last week's spans, reads the archive only
// for the hours it has not seen and for a span's partial last hour.
// Distinct visitors are not additive, so the period's tally is the merge
// of its hours' tallies, not a sum of their estimates.
//
// An hour settles settle after it ends (the minute retention, 3 h by
// default): the archiver may still write events of an hour for a while
// after it (late phones, a relay catching up), and a kept tally would not
// see them. Kept tallies older than keep are dropped. It is safe for
// concurrent use; a call holds the mutex while it reads the archive.
type archiveHistory struct {
	bucket archive.Bucket
	cfg    analytics.Config
	now    func() time.Time
	settle time.Duration
	keep   time.Duration

	mu    sync.Mutex
	hours map[int64]*analytics.Tally // settled hours, by start (Unix seconds)
}

// newArchiveHistory returns a History over bucket, counting events as an
// Aggregator with cfg would.
func newArchiveHistory(bucket archive.Bucket, cfg analytics.Config) *archiveHistory {
	settle := cfg.MinuteRetention
	if settle == 0 {
		settle = 3 * time.Hour
	}
	return &archiveHistory{bucket: bucket, cfg: cfg, now: time.Now, settle: settle, keep: 8 * 24 * time.Hour,
		hours: map[int64]*analytics.Tally{}}
}

// Totals implements analytics.History. ok is false when the archive does
// not cover [from, to): its events do not start at or before from, or do
// not reach to (the archiver has not got there yet).
func (h *archiveHistory) Totals(ctx context.Context, from, to time.Time) (analytics.Totals, bool, error) {
	from, to = from.UTC(), to.UTC()
	if !to.After(from) {
		return analytics.Totals{}, false, nil
	}
	covered, err := h.covers(ctx, from, to)
	if err != nil || !covered {
		return analytics.Totals{}, false, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	for start := range h.hours {
		if time.Unix(start, 0).Before(now.Add(-h.keep)) {
			delete(h.hours, start)
		}
	}

	// The parts of the period, by hour: kept tallies where there are,
	// the others read from the archive at once.
	type part struct {
		lo, hi time.Time
		tally  *analytics.Tally
		keep   bool
	}
	var parts []part
	var readFrom, readTo time.Time
	for hr := from.Truncate(time.Hour); hr.Before(to); hr = hr.Add(time.Hour) {
		p := part{lo: maxTime(hr, from), hi: minTime(hr.Add(time.Hour), to)}
		p.keep = p.lo.Equal(hr) && p.hi.Equal(hr.Add(time.Hour)) && !hr.Add(time.Hour+h.settle).After(now)
		if p.keep {
			p.tally = h.hours[hr.Unix()]
		}
		if p.tally == nil {
			if readFrom.IsZero() {
				readFrom = p.lo
			}
			readTo = p.hi
		}
		parts = append(parts, p)
	}
	var recs []analytics.Record
	if !readFrom.IsZero() {
		archived, err := archive.ReadAll(ctx, h.bucket, readFrom, readTo)
		if err != nil {
			return analytics.Totals{}, false, fmt.Errorf("archive history: %w", err)
		}
		recs = make([]analytics.Record, len(archived))
		for i, r := range archived {
			recs[i] = analytics.Record{Seq: r.Seq, Event: r.Event}
		}
	}
	total := analytics.NewTally()
	for _, p := range parts {
		if p.tally == nil {
			t, err := analytics.TallyRecords(h.cfg, p.lo, p.hi, recs)
			if err != nil {
				return analytics.Totals{}, false, fmt.Errorf("archive history: %w", err)
			}
			if p.keep {
				h.hours[p.lo.Unix()] = t
			}
			p.tally = t
		}
		total.Merge(p.tally)
	}
	return total.Totals(), true, nil
}

// covers reports whether the archive's committed batches hold events at or
// before from and at or after to.
func (h *archiveHistory) covers(ctx context.Context, from, to time.Time) (bool, error) {
	batches, err := archive.Manifests(ctx, h.bucket)
	if err != nil {
		return false, fmt.Errorf("archive history: %w", err)
	}
	var early, late bool
	for _, b := range batches {
		early = early || (!b.MinEventTime.IsZero() && !b.MinEventTime.After(from))
		late = late || !b.MaxEventTime.Before(to)
	}
	return early && late, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

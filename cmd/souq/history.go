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
// TallySteps counts them as the processor does, each message id once),
// and keeps the tally of every whole hour that has settled — its counters
// and its visitor and buyer sketches — and, for the few settled hours a
// span last ended in, their tallies by minute, so that Compare, which asks
// once a minute for yesterday's and last week's spans, reads the archive
// only for hours it has not seen (once each) and not again each minute.
// Distinct visitors are not additive, so the period's tally is the merge
// of its parts' tallies, not a sum of their estimates. The archive's
// extent is kept too: batches are written create-only, so a period inside
// the extent already seen is covered without listing the manifests again.
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
	// reads bounds the hours one Totals call reads from the archive
	// (maxHourReads).
	reads int

	mu          sync.Mutex
	hours       map[int64]*analytics.Tally // settled hours, by start (Unix seconds)
	minutes     map[int64]*minuteTallies   // settled hours by minute, the few used last
	early, late time.Time                  // the archive's extent: its oldest and newest event times seen
}

// minuteTallies are the tallies of one hour's minutes and when they were
// last used.
type minuteTallies struct {
	tallies []*analytics.Tally
	used    time.Time
}

// keptMinuteHours is how many hours' minute tallies an archiveHistory
// keeps: Compare ends yesterday's and last week's spans in two hours, and
// moves to the next two each hour.
const keptMinuteHours = 4

// newArchiveHistory returns a History over bucket, counting events as an
// Aggregator with cfg would.
func newArchiveHistory(bucket archive.Bucket, cfg analytics.Config) *archiveHistory {
	settle := cfg.MinuteRetention
	if settle == 0 {
		settle = 3 * time.Hour
	}
	return &archiveHistory{bucket: bucket, cfg: cfg, now: time.Now, settle: settle, keep: 8 * 24 * time.Hour, reads: maxHourReads,
		hours: map[int64]*analytics.Tally{}, minutes: map[int64]*minuteTallies{}}
}

// histPart is one hour's part of a period and its tally once known.
type histPart struct {
	hour, lo, hi   time.Time
	whole, settled bool
	tally          *analytics.Tally
}

// Totals implements analytics.History. ok is false when the archive does
// not cover [from, to): its events do not start at or before from, or do
// not reach to (the archiver has not got there yet).
func (h *archiveHistory) Totals(ctx context.Context, from, to time.Time) (analytics.Totals, bool, error) {
	from, to = from.UTC(), to.UTC()
	if !to.After(from) {
		return analytics.Totals{}, false, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	covered, err := h.covers(ctx, from, to)
	if err != nil || !covered {
		return analytics.Totals{}, false, err
	}
	now := h.now()
	h.drop(now)

	// The parts of the period, by hour: kept tallies where there are;
	// the others read from the archive at once, each hour whole.
	var parts []*histPart
	for hr := from.Truncate(time.Hour); hr.Before(to); hr = hr.Add(time.Hour) {
		p := &histPart{hour: hr, lo: maxTime(hr, from), hi: minTime(hr.Add(time.Hour), to)}
		p.whole = p.lo.Equal(hr) && p.hi.Equal(hr.Add(time.Hour))
		p.settled = !hr.Add(time.Hour + h.settle).After(now)
		switch {
		case p.settled && p.whole && h.hours[hr.Unix()] != nil:
			p.tally = h.hours[hr.Unix()]
		case p.settled && h.minutes[hr.Unix()] != nil && onMinute(p.lo) && onMinute(p.hi):
			m := h.minutes[hr.Unix()]
			m.used = now
			p.tally = analytics.NewTally()
			for _, t := range m.tallies[p.lo.Sub(hr)/time.Minute : p.hi.Sub(hr)/time.Minute] {
				p.tally.Merge(t)
			}
			if p.whole { // the hour a span last ended in, now whole
				h.hours[hr.Unix()] = p.tally
			}
		}
		parts = append(parts, p)
	}
	// Read at most h.reads settled hours from the archive per call, each
	// on its own, keeping each as soon as it is tallied (hours that have
	// not settled are not kept, so they are read at every call, as few as
	// the settle time allows): a period of many unseen hours (last week's day, on a
	// replica's first push) is warmed over several calls, each bounded,
	// instead of one read of the whole day inline in a dashboard push
	// that a timeout would throw away whole. Until then the period is
	// not covered (ok false).
	reads := 0
	for _, p := range parts {
		if p.tally != nil {
			continue
		}
		if p.settled { // kept once read: the next call goes on from here
			if reads == h.reads {
				return analytics.Totals{}, false, nil
			}
			reads++
		}
		if err := h.tallyPart(ctx, p, now); err != nil {
			return analytics.Totals{}, false, err
		}
	}
	total := analytics.NewTally()
	for _, p := range parts {
		total.Merge(p.tally)
	}
	return total.Totals(), true, nil
}

// maxHourReads bounds the hours one Totals call reads from the archive.
const maxHourReads = 2

// tallyPart reads the archive's events of p's hour and tallies p: a whole
// hour in one pass, a partial hour by minute (kept when the hour has
// settled) or, cut off a minute, on its own.
func (h *archiveHistory) tallyPart(ctx context.Context, p *histPart, now time.Time) error {
	end := p.hour.Add(time.Hour)
	archived, err := archive.ReadAll(ctx, h.bucket, p.hour, end)
	if err != nil {
		return fmt.Errorf("archive history: %w", err)
	}
	recs := make([]analytics.Record, len(archived))
	for i, r := range archived {
		recs[i] = analytics.Record{Seq: r.Seq, Event: r.Event}
	}
	switch {
	case p.whole:
		hours, err := analytics.TallySteps(h.cfg, p.hour, end, time.Hour, recs)
		if err != nil {
			return fmt.Errorf("archive history: %w", err)
		}
		p.tally = hours[0]
		if p.settled {
			h.hours[p.hour.Unix()] = p.tally
		}
	case onMinute(p.lo) && onMinute(p.hi):
		mins, err := analytics.TallySteps(h.cfg, p.hour, end, time.Minute, recs)
		if err != nil {
			return fmt.Errorf("archive history: %w", err)
		}
		p.tally = analytics.NewTally()
		for _, t := range mins[p.lo.Sub(p.hour)/time.Minute : p.hi.Sub(p.hour)/time.Minute] {
			p.tally.Merge(t)
		}
		if p.settled {
			h.keepMinutes(p.hour, mins, now)
		}
	default:
		if p.tally, err = analytics.TallyRecords(h.cfg, p.lo, p.hi, recs); err != nil {
			return fmt.Errorf("archive history: %w", err)
		}
	}
	return nil
}

// keepMinutes keeps the minute tallies of the hour starting at hr, and
// drops the least recently used beyond keptMinuteHours.
func (h *archiveHistory) keepMinutes(hr time.Time, mins []*analytics.Tally, now time.Time) {
	h.minutes[hr.Unix()] = &minuteTallies{tallies: mins, used: now}
	for len(h.minutes) > keptMinuteHours {
		var oldest int64
		var at time.Time
		for start, m := range h.minutes {
			if at.IsZero() || m.used.Before(at) || (m.used.Equal(at) && start < oldest) {
				oldest, at = start, m.used
			}
		}
		delete(h.minutes, oldest)
	}
}

// drop forgets the kept tallies of hours older than keep.
func (h *archiveHistory) drop(now time.Time) {
	for start := range h.hours {
		if time.Unix(start, 0).Before(now.Add(-h.keep)) {
			delete(h.hours, start)
		}
	}
	for start := range h.minutes {
		if time.Unix(start, 0).Before(now.Add(-h.keep)) {
			delete(h.minutes, start)
		}
	}
}

// covers reports whether the archive's committed batches hold events at or
// before from and at or after to. A period inside the extent already seen
// is covered without reading the manifests (batches are never removed).
func (h *archiveHistory) covers(ctx context.Context, from, to time.Time) (bool, error) {
	if !h.early.IsZero() && !h.early.After(from) && !h.late.Before(to) {
		return true, nil
	}
	batches, err := archive.Manifests(ctx, h.bucket)
	if err != nil {
		return false, fmt.Errorf("archive history: %w", err)
	}
	for _, b := range batches {
		if !b.MinEventTime.IsZero() && (h.early.IsZero() || b.MinEventTime.Before(h.early)) {
			h.early = b.MinEventTime
		}
		if b.MaxEventTime.After(h.late) {
			h.late = b.MaxEventTime
		}
	}
	return !h.early.IsZero() && !h.early.After(from) && !h.late.Before(to), nil
}

// onMinute reports whether t is on a whole minute.
func onMinute(t time.Time) bool { return t.Equal(t.Truncate(time.Minute)) }

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

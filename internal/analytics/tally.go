package analytics

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/axiomhq/hyperloglog"
)

// Tally is the Total counters of some events and sketches of their
// distinct visitors and buyers, counted as Apply counts them: what a
// History keeps per hour of the archive. Tallies of disjoint sets of
// events merge into the tally of their union (Merge), so a period's
// visitors are counted once however many hours it spans. A Tally is not
// safe for concurrent use.
type Tally struct {
	counters         Counters
	visitors, buyers *hyperloglog.Sketch
}

// NewTally returns an empty Tally.
func NewTally() *Tally {
	return &Tally{visitors: hyperloglog.New14(), buyers: hyperloglog.New14()}
}

// TallyRecords tallies the records whose event time (the time Apply
// buckets them by, with cfg's FutureSkew) is in [from, to), each message
// id once (the first by Seq: the archive may hold a republished order
// twice, under two sequences), as the live processor counts them.
// Malformed records and events Apply does not count are skipped.
func TallyRecords(cfg Config, from, to time.Time, records []Record) (*Tally, error) {
	if !to.After(from) {
		return NewTally(), nil
	}
	ts, err := TallySteps(cfg, from, to, to.Sub(from), records)
	if err != nil {
		return nil, err
	}
	return ts[0], nil
}

// TallySteps tallies the records as TallyRecords does, in one pass, into
// one Tally per step of [from, to): the i-th holds the events in
// [from + i × step, from + (i+1) × step), the last ending at to. A message
// id is counted once across all of them. step must be positive.
func TallySteps(cfg Config, from, to time.Time, step time.Duration, records []Record) ([]*Tally, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if step <= 0 {
		return nil, fmt.Errorf("analytics: tally: step %v must be positive", step)
	}
	n := 0
	if to.After(from) {
		n = int((to.Sub(from) + step - 1) / step)
	}
	ts := make([]*Tally, n)
	for i := range ts {
		ts[i] = NewTally()
	}
	sorted := slices.Clone(records)
	slices.SortStableFunc(sorted, func(x, y Record) int { return cmp.Compare(x.Seq, y.Seq) })
	seen := map[string]struct{}{}
	var buf []Delta
	for i := range sorted {
		ev := &sorted[i].Event
		p, ok, err := parseEvent(ev, cfg.FutureSkew, buf)
		switch {
		case errors.Is(err, ErrMalformed), err == nil && !ok:
			continue
		case err != nil:
			return nil, fmt.Errorf("analytics: tally: %w", err)
		}
		buf = p.deltas
		if p.at.Before(from) || !p.at.Before(to) {
			continue
		}
		if _, dup := seen[ev.MessageID]; dup {
			continue
		}
		seen[ev.MessageID] = struct{}{}
		t := ts[p.at.Sub(from)/step]
		t.counters.Add(&p.deltas[0].Counters) // Total is always the first delta
		if p.visitor != "" && len(p.visits) > 0 {
			t.visitors.Insert([]byte(p.visitor))
			if p.visits[0].Buyer {
				t.buyers.Insert([]byte(p.visitor))
			}
		}
	}
	return ts, nil
}

// Merge adds the events of o to t; o is unchanged.
func (t *Tally) Merge(o *Tally) {
	t.counters.Add(&o.counters)
	_ = t.visitors.Merge(o.visitors) // one precision throughout: cannot fail
	_ = t.buyers.Merge(o.buyers)
}

// Totals returns the counters and the estimated distinct visitors and
// buyers; t is unchanged.
func (t *Tally) Totals() Totals {
	return Totals{Counters: t.counters,
		Visitors: int64(t.visitors.Clone().Estimate()), Buyers: int64(t.buyers.Clone().Estimate())}
}

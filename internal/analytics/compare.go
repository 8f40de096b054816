package analytics

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Span is one period a comparison reads, and where its figures came from.
type Span struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Source is "hot" (the hot store's buckets), "archive" (Config.History),
	// or "none" (neither holds the period: the figures are unknown).
	Source string `json:"source"`
	// Approximate is true when part of the span was estimated, e.g. a
	// partial hour prorated from its hour bucket; Note says how.
	Approximate bool   `json:"approximate,omitempty"`
	Note        string `json:"note,omitempty"`
}

// Comparison is one headline figure today so far against the same span
// of time yesterday and on the same weekday last week.
type Comparison struct {
	// Figure is one of "revenue_aed", "orders", "units", "visitors",
	// "buyers", "conversion", "average_order_aed", "views".
	Figure string  `json:"figure"`
	Today  float64 `json:"today"`
	// Yesterday and LastWeek are nil when their span's Source is "none".
	Yesterday *float64 `json:"yesterday"`
	LastWeek  *float64 `json:"last_week"`
	// VsYesterday and VsLastWeek are the relative changes, (today − then)
	// / then; nil when then is nil or 0.
	VsYesterday *float64 `json:"vs_yesterday"`
	VsLastWeek  *float64 `json:"vs_last_week"`
}

// Comparisons are the headline figures of today so far against yesterday
// and last week, as of At.
type Comparisons struct {
	At        time.Time    `json:"at"`
	Today     Span         `json:"today"`
	Yesterday Span         `json:"yesterday"`
	LastWeek  Span         `json:"last_week"`
	Figures   []Comparison `json:"figures"`
}

// Totals are the counters and distinct visitors of a period.
type Totals struct {
	Counters
	Visitors int64 `json:"visitors"`
	Buyers   int64 `json:"buyers"`
}

// History answers the totals of a period the hot store no longer holds,
// from the archive. It returns ok false when it does not hold the whole
// period either. Distinct visitors do not add up across hours: an
// implementation that keeps per-hour results keeps per-hour sketches
// (see Tally) and merges them for the period. Compare asks for periods
// that start on a whole hour and end on a whole minute.
type History interface {
	Totals(ctx context.Context, from, to time.Time) (t Totals, ok bool, err error)
}

// The figures a Comparisons holds, in order.
var compareFigures = []string{"revenue_aed", "orders", "units", "visitors", "buyers", "conversion", "average_order_aed", "views"}

// figure returns the named figure of t.
func figure(t Totals, name string) float64 {
	switch name {
	case "revenue_aed":
		return float64(t.RevenueAED)
	case "orders":
		return float64(t.Orders)
	case "units":
		return float64(t.Units)
	case "visitors":
		return float64(t.Visitors)
	case "buyers":
		return float64(t.Buyers)
	case "conversion":
		if t.Visitors == 0 {
			return 0
		}
		return min(ratio(t.Buyers, t.Visitors), 1)
	case "average_order_aed":
		if t.Orders == 0 {
			return 0
		}
		return float64(divRound(t.RevenueAED, t.Orders))
	case "views":
		return float64(t.Views)
	}
	return 0
}

// Compare returns today's headline figures so far against the same span
// yesterday and on the same weekday last week. Every span ends with the
// minute bucket holding now: today is [midnight in Config.Day, that
// minute's end), yesterday and last week the same 24 hours and 7 days
// earlier. A span is read from the hot store when it holds all of it
// (hour buckets for the whole hours, minute buckets for the hour under
// way); else, when the hot store holds the whole hours and the hour bucket
// of the one under way but not its minutes (yesterday's span), the minutes
// of that hour are prorated from its bucket (Approximate, with a Note);
// else from Config.History when it holds all of it (last week's span,
// past the hour retention); else the span's Source is "none" and
// its figures are nil: a partial sum is never shown as a whole. A History
// error is logged (Config.Logger) and the span falls back as without an
// archive, its Note saying the archive could not be read. The past spans
// are computed once a minute; today's side is read afresh.
func (r *Reader) Compare(ctx context.Context, now time.Time) (Comparisons, error) {
	now = now.UTC()
	end := now.Truncate(time.Minute).Add(time.Minute)
	dayFrom, _ := r.today(now)
	p, err := r.store.Progress(ctx)
	if err != nil {
		return Comparisons{}, fmt.Errorf("analytics: compare: %w", err)
	}
	today, todaySpan, err := r.spanTotals(ctx, dayFrom, end, p.Watermark)
	if err != nil {
		return Comparisons{}, fmt.Errorf("analytics: compare: %w", err)
	}
	past, err := r.compareCache.get(end, func() (Comparisons, error) {
		var c Comparisons
		for _, x := range []struct {
			span *Span
			back time.Duration
			fig  func(*Comparison) **float64
		}{
			{&c.Yesterday, 24 * time.Hour, func(f *Comparison) **float64 { return &f.Yesterday }},
			{&c.LastWeek, 7 * 24 * time.Hour, func(f *Comparison) **float64 { return &f.LastWeek }},
		} {
			t, span, err := r.spanTotals(ctx, dayFrom.Add(-x.back), end.Add(-x.back), p.Watermark)
			if err != nil {
				return Comparisons{}, err
			}
			*x.span = span
			if c.Figures == nil {
				c.Figures = make([]Comparison, len(compareFigures))
			}
			for i, name := range compareFigures {
				c.Figures[i].Figure = name
				if span.Source != "none" {
					v := figure(t, name)
					*x.fig(&c.Figures[i]) = &v
				}
			}
		}
		return c, nil
	})
	if err != nil {
		return Comparisons{}, fmt.Errorf("analytics: compare: %w", err)
	}
	out := Comparisons{At: now, Today: todaySpan, Yesterday: past.Yesterday, LastWeek: past.LastWeek,
		Figures: make([]Comparison, len(past.Figures))}
	for i, f := range past.Figures {
		f.Today = figure(today, f.Figure)
		f.VsYesterday, f.VsLastWeek = change(f.Today, f.Yesterday), change(f.Today, f.LastWeek)
		out.Figures[i] = f
	}
	return out, nil
}

// change returns (now − then) / then, or nil when then is nil or 0.
func change(now float64, then *float64) *float64 {
	if then == nil || *then == 0 {
		return nil
	}
	v := (now - *then) / *then
	return &v
}

// spanTotals returns the totals of [from, to) — from on a whole hour, to
// on a whole minute — and where they came from, as Compare describes.
func (r *Reader) spanTotals(ctx context.Context, from, to, watermark time.Time) (Totals, Span, error) {
	span := Span{From: from, To: to, Source: "none"}
	floors := r.cfg.floors(watermark)
	if watermark.IsZero() {
		floors = Floors{}
	}
	whole := to.Truncate(time.Hour)
	hoursHeld := !from.Before(floors.Hours)
	if hoursHeld && (whole.Equal(to) || !whole.Before(floors.Minutes)) {
		t, err := r.hotTotals(ctx, from, whole, to)
		span.Source = "hot"
		return t, span, err
	}
	unread := "" // why the archive did not answer, when it failed
	// The archive only for spans whose whole hours the hot store no longer
	// holds (last week's): reading a day of it once a minute, inline in a
	// dashboard push, costs far more than prorating yesterday's one hour.
	if r.cfg.History != nil && !hoursHeld {
		t, ok, err := r.cfg.History.Totals(ctx, from, to)
		switch {
		case err != nil:
			// Today's figures and what the hot store holds are still worth
			// showing: fall back as without an archive, and say so.
			if r.cfg.Logger != nil {
				r.cfg.Logger.Warn("archive history failed", "from", from, "to", to, "err", err)
			}
			unread = "the archive could not be read"
		case ok:
			span.Source = "archive"
			return t, span, nil
		}
	}
	if !hoursHeld {
		span.Note = unread
		return Totals{}, span, nil
	}
	t, err := r.proratedTotals(ctx, from, whole, to)
	if err != nil {
		return Totals{}, span, err
	}
	span.Source, span.Approximate = "hot", true
	span.Note = fmt.Sprintf("%s–%s UTC prorated from the %s hour bucket (%d of 60 minutes): the hot store no longer holds its minute buckets",
		whole.Format("15:04"), to.Format("15:04"), whole.Format("15:04"), int(to.Sub(whole)/time.Minute))
	return t, span, nil
}

// hotTotals reads the totals of the hour buckets in [from, whole) and the
// minute buckets in [whole, to).
func (r *Reader) hotTotals(ctx context.Context, from, whole, to time.Time) (Totals, error) {
	var t Totals
	hours, err := r.sum(ctx, Hour, Total, from, whole)
	if err != nil {
		return Totals{}, err
	}
	t.Counters = *orZero(hours[All])
	rs := []Range{{Res: Hour, Dim: Total, Member: All, From: from, To: whole}}
	if whole.Before(to) {
		minutes, err := r.sum(ctx, Minute, Total, whole, to)
		if err != nil {
			return Totals{}, err
		}
		t.Counters.Add(orZero(minutes[All]))
		rs = append(rs, Range{Res: Minute, Dim: Total, Member: All, From: whole, To: to})
	}
	reach, err := r.store.Reach(ctx, rs)
	if err != nil {
		return Totals{}, fmt.Errorf("reach: %w", err)
	}
	t.Visitors, t.Buyers = reach[All].Visitors, reach[All].Buyers
	return t, nil
}

// proratedTotals returns the totals of the hour buckets in [from, whole)
// plus the share (to − whole) / 1 h of the hour bucket starting at whole:
// its counters rounded to the nearest, and as many of the visitors and
// buyers it adds to the whole hours.
func (r *Reader) proratedTotals(ctx context.Context, from, whole, to time.Time) (Totals, error) {
	frac := float64(to.Sub(whole)) / float64(time.Hour)
	t, err := r.hotTotals(ctx, from, whole, whole)
	if err != nil {
		return Totals{}, err
	}
	last, err := r.sum(ctx, Hour, Total, whole, whole.Add(time.Hour))
	if err != nil {
		return Totals{}, err
	}
	part := *orZero(last[All])
	for _, f := range counterFields {
		p := f(&part)
		*p = int64(math.Round(float64(*p) * frac))
	}
	t.Counters.Add(&part)
	with, err := r.store.Reach(ctx, []Range{{Res: Hour, Dim: Total, Member: All, From: from, To: whole.Add(time.Hour)}})
	if err != nil {
		return Totals{}, fmt.Errorf("reach: %w", err)
	}
	t.Visitors += int64(math.Round(float64(max(with[All].Visitors-t.Visitors, 0)) * frac))
	t.Buyers += int64(math.Round(float64(max(with[All].Buyers-t.Buyers, 0)) * frac))
	return t, nil
}

// Reach returns the distinct visitors and buyers of each member over the
// union of the buckets of rs (see HotStore.Reach).
func (r *Reader) Reach(ctx context.Context, rs []Range) (map[string]Reach, error) {
	out, err := r.store.Reach(ctx, rs)
	if err != nil {
		return nil, fmt.Errorf("analytics: reach: %w", err)
	}
	return out, nil
}

package analytics

import (
	"context"
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
// period either.
type History interface {
	Totals(ctx context.Context, from, to time.Time) (t Totals, ok bool, err error)
}

// Compare returns today's headline figures so far against the same span
// yesterday and on the same weekday last week.
func (r *Reader) Compare(ctx context.Context, now time.Time) (Comparisons, error) {
	return Comparisons{}, errTODO
}

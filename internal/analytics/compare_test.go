package analytics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/souq"
)

// compareStory is a fixed sequence around t0 (Saturday 10:00 UTC, 14:00
// in the Gulf), applied in order:
//
//	last Saturday 10:00   order v7 AE 1 × 20.00 (pruned by the end: past the hour retention)
//	Friday 05:00          order v1 AE 2 × 40.00
//	Friday 10:00:30       view v4; order v4 AE 1 × 30.00
//	Friday 10:30          view v5
//	Friday 11:00          view v6 (after yesterday's span)
//	Friday 21:00 (today in the Gulf)  order v1 AE 1 × 100.00
//	Saturday 10:01        view v2 AE; order v2 AE 1 × 50.00; view v3 SA
func compareStory(t *testing.T, a *analytics.Aggregator) {
	t.Helper()
	day := 24 * time.Hour
	applyAll(t, a,
		by(order("w1", souq.EventOrderCompleted, -7*day, "AE", "Dubai", line("prd_a", "", "", 1, 2000)), "v7", ""),
		by(order("y1", souq.EventOrderCompleted, -29*time.Hour, "AE", "Dubai", line("prd_a", "", "", 2, 4000)), "v1", ""),
		by(view("y2", -day+30*time.Second, "prd_a", "", "", "AE"), "v4", ""),
		by(order("y3", souq.EventOrderCompleted, -day+40*time.Second, "AE", "Dubai", line("prd_a", "", "", 1, 3000)), "v4", ""),
		by(view("y4", -day+30*time.Minute, "prd_a", "", "", "AE"), "v5", ""),
		by(view("y5", -day+time.Hour, "prd_a", "", "", "AE"), "v6", ""),
		by(order("d1", souq.EventOrderCompleted, -13*time.Hour, "AE", "Dubai", line("prd_a", "", "", 1, 10000)), "v1", ""),
		by(view("d2", 61*time.Second, "prd_a", "", "", "AE"), "v2", ""),
		by(order("d3", souq.EventOrderCompleted, 62*time.Second, "AE", "Dubai", line("prd_a", "", "", 1, 5000)), "v2", ""),
		by(view("d4", 63*time.Second, "prd_a", "", "", "SA"), "v3", ""),
	)
}

// fakeHistory answers Totals for the periods starting at the times it
// holds, or err when set, and counts the calls.
type fakeHistory struct {
	calls int
	spans map[time.Time]analytics.Totals
	err   error
}

func (h *fakeHistory) Totals(_ context.Context, from, _ time.Time) (analytics.Totals, bool, error) {
	h.calls++
	if h.err != nil {
		return analytics.Totals{}, false, h.err
	}
	t, ok := h.spans[from.UTC()]
	return t, ok, nil
}

func fp(v float64) *float64 { return &v }

// figures returns the comparisons of today's figures against yesterday's
// and last week's (nil for none), in Compare's order.
func figures(today, yesterday, lastWeek []float64) []analytics.Comparison {
	names := []string{"revenue_aed", "orders", "units", "visitors", "buyers", "conversion", "average_order_aed", "views"}
	out := make([]analytics.Comparison, len(names))
	for i, n := range names {
		out[i] = analytics.Comparison{Figure: n, Today: today[i]}
		if yesterday != nil {
			out[i].Yesterday = fp(yesterday[i])
			if yesterday[i] != 0 {
				out[i].VsYesterday = fp((today[i] - yesterday[i]) / yesterday[i])
			}
		}
		if lastWeek != nil {
			out[i].LastWeek = fp(lastWeek[i])
			if lastWeek[i] != 0 {
				out[i].VsLastWeek = fp((today[i] - lastWeek[i]) / lastWeek[i])
			}
		}
	}
	return out
}

func TestCompare(t *testing.T) {
	now := t0.Add(2*time.Minute + 30*time.Second)
	end := t0.Add(3 * time.Minute)
	dayFrom := t0.Add(-14 * time.Hour)
	day, week := 24*time.Hour, 7*24*time.Hour
	// Today: 100 + 50 AED in 2 orders of 1 unit; visitors v1 v2 v3, buyers v1 v2; 2 views.
	today := []float64{15000, 2, 2, 3, 2, 2.0 / 3, 7500, 2}
	todaySpan := analytics.Span{From: dayFrom, To: end, Source: "hot"}

	t.Run("hot, prorated and none", func(t *testing.T) {
		a, _ := newAggregator(t, analytics.Config{})
		compareStory(t, a)
		got, err := a.Compare(t.Context(), now)
		if err != nil {
			t.Fatalf("Compare: %v", err)
		}
		// Yesterday: the whole hours to Friday 10:00 hold y1 (80.00, 2
		// units, v1); the hour bucket of Friday 10:00 (y2–y4: 30.00, two
		// views, v4 and v5) counts for 3 of its 60 minutes: 150 fils, no
		// whole order, unit, view or visitor.
		yesterday := []float64{8150, 1, 2, 1, 1, 1, 8150, 0}
		checkDiff(t, "figures", got.Figures, figures(today, yesterday, nil))
		checkDiff(t, "today", got.Today, todaySpan)
		if want := (analytics.Span{From: dayFrom.Add(-day), To: end.Add(-day), Source: "hot", Approximate: true}); got.Yesterday.From != want.From ||
			got.Yesterday.To != want.To || got.Yesterday.Source != want.Source || !got.Yesterday.Approximate ||
			!strings.Contains(got.Yesterday.Note, "prorated") {
			t.Errorf("yesterday: got %+v, want %+v with a note on prorating", got.Yesterday, want)
		}
		checkDiff(t, "last week", got.LastWeek, analytics.Span{From: dayFrom.Add(-week), To: end.Add(-week), Source: "none"})
	})

	t.Run("archive", func(t *testing.T) {
		// What an archive would hold: yesterday exactly (y1, y2, y3) and
		// last week's w1. Yesterday's whole hours are still in the hot
		// store: its partial hour is prorated, the archive not asked.
		h := &fakeHistory{spans: map[time.Time]analytics.Totals{
			dayFrom.Add(-day):  {Counters: analytics.Counters{Views: 1, Orders: 2, Units: 3, RevenueAED: 11000}, Visitors: 2, Buyers: 2},
			dayFrom.Add(-week): {Counters: analytics.Counters{Orders: 1, Units: 1, RevenueAED: 2000}, Visitors: 1, Buyers: 1},
		}}
		a, _ := newAggregator(t, analytics.Config{History: h})
		compareStory(t, a)
		got, err := a.Compare(t.Context(), now)
		if err != nil {
			t.Fatalf("Compare: %v", err)
		}
		checkDiff(t, "figures", got.Figures, figures(today,
			[]float64{8150, 1, 2, 1, 1, 1, 8150, 0}, []float64{2000, 1, 1, 1, 1, 1, 2000, 0}))
		if got.Yesterday.Source != "hot" || !got.Yesterday.Approximate {
			t.Errorf("yesterday: got %+v, want prorated from the hot store", got.Yesterday)
		}
		checkDiff(t, "spans", []analytics.Span{got.Today, got.LastWeek}, []analytics.Span{todaySpan,
			{From: dayFrom.Add(-week), To: end.Add(-week), Source: "archive"}})
		if h.calls != 1 {
			t.Errorf("history calls: got %d, want 1 (last week)", h.calls)
		}

		// The past spans are kept for the minute; today's side is read afresh.
		applyAll(t, a, by(view("d5", 2*time.Minute+40*time.Second, "prd_a", "", "", "AE"), "v8", ""))
		got, err = a.Compare(t.Context(), now.Add(20*time.Second))
		if err != nil {
			t.Fatalf("Compare: %v", err)
		}
		if h.calls != 1 || got.Figures[3].Today != 4 || got.Figures[7].Today != 3 {
			t.Errorf("20 s later: got %d history calls, %v visitors and %v views today; want 1, 4, 3", h.calls, got.Figures[3].Today, got.Figures[7].Today)
		}
		if _, err := a.Compare(t.Context(), now.Add(time.Minute)); err != nil {
			t.Fatalf("Compare: %v", err)
		}
		if h.calls != 2 {
			t.Errorf("the next minute: got %d history calls, want 2", h.calls)
		}
	})

	t.Run("archive unavailable", func(t *testing.T) {
		// A History error loses neither today's figures nor what the hot
		// store holds: yesterday is prorated from it, last week is
		// unknown and says the archive could not be read.
		a, _ := newAggregator(t, analytics.Config{History: &fakeHistory{err: errors.New("bucket unreachable")}})
		compareStory(t, a)
		got, err := a.Compare(t.Context(), now)
		if err != nil {
			t.Fatalf("Compare: %v", err)
		}
		checkDiff(t, "figures", got.Figures, figures(today, []float64{8150, 1, 2, 1, 1, 1, 8150, 0}, nil))
		if s := got.LastWeek; !strings.Contains(s.Note, "archive could not be read") || strings.Contains(s.Note, "unreachable") {
			t.Errorf("last week: got note %q, want it to say the archive could not be read, without the error", s.Note)
		}
		if got.Yesterday.Source != "hot" || !got.Yesterday.Approximate || got.LastWeek.Source != "none" {
			t.Errorf("spans: got yesterday %+v, last week %+v; want hot approximate and none", got.Yesterday, got.LastWeek)
		}
	})

	t.Run("a redelivered event", func(t *testing.T) {
		a, _ := newAggregator(t, analytics.Config{})
		compareStory(t, a)
		before, err := a.Compare(t.Context(), now)
		if err != nil {
			t.Fatal(err)
		}
		again := by(order("d3", souq.EventOrderCompleted, 62*time.Second, "AE", "Dubai", line("prd_a", "", "", 1, 5000)), "v2", "")
		if applied, err := a.Apply(t.Context(), 99, again); err != nil || applied {
			t.Fatalf("redelivery: got %v, %v; want not applied", applied, err)
		}
		after, err := a.Compare(t.Context(), now)
		if err != nil {
			t.Fatal(err)
		}
		checkDiff(t, "after a redelivery", after, before)
	})
}

package analytics_test

import (
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/souq"
)

// by returns ev as sent by a visitor: anonymousId anon and, when not
// empty, userId user.
func by(ev souq.Event, anon, user string) souq.Event {
	ev.AnonymousID, ev.UserID = anon, user
	return ev
}

// audienceStory is a fixed sequence of events around t0 (10:00 UTC,
// 14:00 in the Gulf), applied in this order:
//
//	19:00 UTC the day before (23:00 GST: yesterday)  e12 view        v10 AE
//	21:00 UTC the day before (01:00 GST: today)      e11 order       v9  AE  1 × AED 20.00
//	09:30  e10 view  v8 AE
//	10:00  e1  view  v1 AE;  e2 view v2 SA
//	10:01  e3  view  v1 AE;  e4 add  v3 AE
//	       e5  order v3 AE   2 × AED 50.00
//	       e6  order v4 SA   1 × SAR 90.00 (AED 88.14)
//	       e6  again (a redelivery)
//	       e7  view  userId usr_5 with anonymousId v1, SA (the visitor is usr_5)
//	       e8  view  v6, no market (unknown)
//	       e13 cancellation by v11 AE (not a visit)
//	10:02  e9  view  v7 KW
func audienceStory(t *testing.T, a *analytics.Aggregator) {
	t.Helper()
	day := -24 * time.Hour
	evs := []souq.Event{
		by(view("e12", day+9*time.Hour, "prd_a", "", "", "AE"), "v10", ""),
		by(order("e11", souq.EventOrderCompleted, day+11*time.Hour, "AE", "Dubai", line("prd_b", "COSRX", "skincare", 1, 2000)), "v9", ""),
		by(view("e10", -30*time.Minute, "prd_a", "", "", "AE"), "v8", ""),
		by(view("e1", 5*time.Second, "prd_a", "", "", "AE"), "v1", ""),
		by(view("e2", 10*time.Second, "prd_a", "", "", "SA"), "v2", ""),
		by(view("e3", 65*time.Second, "prd_a", "", "", "AE"), "v1", ""),
		by(add("e4", 70*time.Second, "prd_a", 2, "AE"), "v3", ""),
		by(order("e5", souq.EventOrderCompleted, 75*time.Second, "AE", "Dubai", line("prd_a", "COSRX", "skincare", 2, 5000)), "v3", ""),
		by(order("e6", souq.EventOrderCompleted, 80*time.Second, "SA", "Riyadh", line("prd_c", "Laneige", "lips", 1, 9000)), "v4", ""),
		by(order("e6", souq.EventOrderCompleted, 80*time.Second, "SA", "Riyadh", line("prd_c", "Laneige", "lips", 1, 9000)), "v4", ""),
		by(view("e7", 85*time.Second, "prd_a", "", "", "SA"), "v1", "usr_5"),
		by(view("e8", 90*time.Second, "prd_a", "", "", ""), "v6", ""),
		by(order("e13", souq.EventOrderCancelled, 95*time.Second, "AE", "Dubai", line("prd_b", "COSRX", "skincare", 1, 2000)), "v11", ""),
		by(view("e9", 125*time.Second, "prd_a", "", "", "KW"), "v7", ""),
	}
	for i, ev := range evs {
		applied, err := a.Apply(t.Context(), uint64(i+1), ev)
		if err != nil {
			t.Fatalf("Apply(%s): %v", ev.MessageID, err)
		}
		if want := i != 9; applied != want {
			t.Fatalf("Apply(%s), event %d: got applied %v, want %v", ev.MessageID, i, applied, want)
		}
	}
}

func aud(visitors, buyers, orders, units, revenue int64) analytics.Audience {
	a := analytics.Audience{Visitors: visitors, Buyers: buyers, Orders: orders, Units: units, RevenueAED: revenue}
	if visitors > 0 {
		a.Conversion = float64(buyers) / float64(visitors)
	}
	if orders > 0 {
		a.AverageOrderAED = (revenue + orders/2) / orders
		a.UnitsPerOrder = float64(units) / float64(orders)
	}
	return a
}

// markets returns the six markets' audiences, in display order, with the
// given ones filled in, then extra.
func markets(given map[string]analytics.Audience, extra ...analytics.MarketAudience) []analytics.MarketAudience {
	var out []analytics.MarketAudience
	for _, m := range souq.Markets() {
		out = append(out, analytics.MarketAudience{Market: string(m.Code), Audience: given[string(m.Code)]})
	}
	return append(out, extra...)
}

func TestAudience(t *testing.T) {
	a, _ := newAggregator(t, analytics.Config{})
	audienceStory(t, a)
	now := t0.Add(2*time.Minute + 30*time.Second)
	got, err := a.Audience(t.Context(), now)
	if err != nil {
		t.Fatalf("Audience: %v", err)
	}
	dayFrom := t0.Add(-14 * time.Hour) // midnight GST
	const sar90 = 8814                 // SAR 90.00 in fils: 9000 × 1469/1500
	want := []analytics.AudienceWindow{
		{Window: "minute", From: t0.Add(time.Minute), To: t0.Add(2 * time.Minute),
			Total: aud(5, 2, 2, 3, 10000+sar90), // v1 v3 v4 usr_5 v6; buyers v3 v4
			Markets: markets(map[string]analytics.Audience{"AE": aud(2, 1, 1, 2, 10000), "SA": aud(2, 1, 1, 1, sar90)},
				analytics.MarketAudience{Market: "unknown", Audience: aud(1, 0, 0, 0, 0)})},
		{Window: "hour", From: t0.Add(-57 * time.Minute), To: t0.Add(3 * time.Minute),
			Total: aud(8, 2, 2, 3, 10000+sar90), // and v8 v2 v7
			Markets: markets(map[string]analytics.Audience{"AE": aud(3, 1, 1, 2, 10000), "SA": aud(3, 1, 1, 1, sar90), "KW": aud(1, 0, 0, 0, 0)},
				analytics.MarketAudience{Market: "unknown", Audience: aud(1, 0, 0, 0, 0)})},
		{Window: "day", From: dayFrom, To: t0.Add(time.Hour),
			Total: aud(9, 3, 3, 4, 2000+10000+sar90), // and v9, a buyer; not v10 (yesterday)
			Markets: markets(map[string]analytics.Audience{"AE": aud(4, 2, 2, 3, 12000), "SA": aud(3, 1, 1, 1, sar90), "KW": aud(1, 0, 0, 0, 0)},
				analytics.MarketAudience{Market: "unknown", Audience: aud(1, 0, 0, 0, 0)})},
	}
	checkDiff(t, "windows", got.Windows, want)
	if got.Windows[2].Total.AverageOrderAED != 6938 || got.Windows[0].Total.AverageOrderAED != 9407 {
		t.Errorf("average order: got %d today and %d in the minute, want 6938 (20814 / 3) and 9407 (18814 / 2)",
			got.Windows[2].Total.AverageOrderAED, got.Windows[0].Total.AverageOrderAED)
	}

	wantMinutes := make([]analytics.VisitorPoint, 60)
	for i := range wantMinutes {
		wantMinutes[i].Start = t0.Add(time.Duration(i-57) * time.Minute)
	}
	wantMinutes[27].Visitors = 1                            // 09:30 v8
	wantMinutes[57].Visitors = 2                            // 10:00 v1 v2
	wantMinutes[58].Visitors, wantMinutes[58].Buyers = 5, 2 // 10:01
	wantMinutes[59].Visitors = 1                            // 10:02 v7
	checkDiff(t, "minutes", got.Minutes, wantMinutes)
	if !got.At.Equal(now) {
		t.Errorf("at: got %v, want %v", got.At, now)
	}
}

// TestAudienceConversionAtMostOne: conversion is clamped to 1, and there
// are no rates without visitors or orders.
func TestAudienceConversionAtMostOne(t *testing.T) {
	a, _ := newAggregator(t, analytics.Config{})
	got, err := a.Audience(t.Context(), t0)
	if err != nil {
		t.Fatalf("Audience: %v", err)
	}
	for _, w := range got.Windows {
		if w.Total != (analytics.Audience{}) || len(w.Markets) != 6 {
			t.Errorf("empty store, %s: got %+v and %d markets, want zeros and the six", w.Window, w.Total, len(w.Markets))
		}
	}
	applyAll(t, a, by(order("o1", souq.EventOrderCompleted, 0, "AE", "Dubai", line("prd_a", "", "", 1, 100)), "v1", ""))
	got, err = a.Audience(t.Context(), t0.Add(90*time.Second))
	if err != nil {
		t.Fatalf("Audience: %v", err)
	}
	if c := got.Windows[0].Total.Conversion; c != 1 {
		t.Errorf("one visitor who bought: got conversion %v, want 1", c)
	}
}

// TestRecomputeSameVisitors: recomputing from the records gives the same
// visitor estimates as the live store, per market, in every window, over
// a stream with redeliveries, late and malformed events.
func TestRecomputeSameVisitors(t *testing.T) {
	records, deliveries := stream(t)
	live, _ := newAggregator(t, analytics.Config{})
	for _, r := range deliveries {
		_, _ = live.Apply(t.Context(), r.Seq, r.Event)
	}
	re, err := analytics.Recompute(t.Context(), analytics.Config{}, records)
	if err != nil {
		t.Fatalf("Recompute: %v", err)
	}
	now := t0.Add(5 * time.Hour)
	want, err := live.Audience(t.Context(), now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := re.Audience(t.Context(), now)
	if err != nil {
		t.Fatal(err)
	}
	checkDiff(t, "recomputed audience against live", got, want)
	if want.Windows[1].Total.Visitors < 1000 {
		t.Errorf("live hour: got %d visitors, want over a thousand", want.Windows[1].Total.Visitors)
	}
	for _, res := range []analytics.Resolution{analytics.Minute, analytics.Hour} {
		r := []analytics.Range{{Res: res, Dim: analytics.Market}}
		w, err := live.Reach(t.Context(), r)
		if err != nil {
			t.Fatal(err)
		}
		g, err := re.Reach(t.Context(), r)
		if err != nil {
			t.Fatal(err)
		}
		checkDiff(t, "reach by market in "+string(res)+" buckets", g, w)
	}
}

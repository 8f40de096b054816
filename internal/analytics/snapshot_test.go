package analytics_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/analytics/analyticstest"
	"github.com/souq-commerce/souq/internal/souq"
)

func snapshot(t *testing.T, a *analytics.Aggregator, now time.Time) analytics.Snapshot {
	t.Helper()
	s, err := a.Snapshot(t.Context(), now)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return s
}

// TestSnapshot reads the dashboard at 10:30:30 UTC (14:30:30 in the Gulf,
// so today began at 20:00 UTC the day before) after a day of events.
func TestSnapshot(t *testing.T) {
	type C = analytics.Counters
	type A = analytics.Amounts
	now := t0.Add(30*time.Minute + 30*time.Second)
	o1 := []analyticstest.Line{line("prd_a", "COSRX", "skincare", 2, 8900), line("prd_b", "Anua", "toner", 1, 4550)} // AED 223.50
	a, _ := newAggregator(t, analytics.Config{})
	applyAll(t, a,
		view("y1", -14*time.Hour-10*time.Minute, "prd_a", "COSRX", "skincare", "AE"), // 19:50 UTC: yesterday in the Gulf
		order("y2", souq.EventOrderCompleted, -13*time.Hour-50*time.Minute, souq.AE, "Dubai", line("prd_a", "COSRX", "skincare", 1, 8900)),
		view("m0", -29*time.Minute-time.Second, "prd_a", "COSRX", "skincare", "AE"), // 09:30:59: today, not the last hour
		view("m1", -29*time.Minute, "prd_a", "COSRX", "skincare", "AE"),             // 09:31: the first minute of the last hour
		add("a1", 10*time.Minute, "prd_a", 2, "AE"),
		add("a2", 11*time.Minute, "prd_b", 1, "SA"),
		track("c1", analytics.EventCheckoutStarted, 12*time.Minute, nil, marketCtx("AE")),
		order("o1", souq.EventOrderCompleted, 13*time.Minute, souq.AE, "Dubai", o1...),
		order("o2", souq.EventOrderCompleted, 20*time.Minute, souq.KW, "Kuwait City", line("prd_a", "COSRX", "skincare", 3, 12500)),
		order("x1", souq.EventOrderCancelled, 25*time.Minute, souq.AE, "Dubai", o1...),
		view("u1", 26*time.Minute, "prd_c", "", "", ""),
		view("v1", 30*time.Minute, "prd_a", "COSRX", "skincare", "AE"),
		view("v2", 30*time.Minute+time.Second, "prd_a", "COSRX", "skincare", "AE"),
		view("v3", 30*time.Minute+2*time.Second, "prd_b", "Anua", "toner", "SA"),
	)
	s := snapshot(t, a, now)

	// KWD 37.500 is 44759 fils (see TestToAED).
	lastHour := C{Views: 5, AddEvents: 2, AddUnits: 3, Checkouts: 1, Orders: 2, Units: 6,
		Revenue: A{AED: 22350, KWD: 37500}, RevenueAED: 22350 + 44759,
		Cancellations: 1, CancelledUnits: 3, CancelledRevenue: A{AED: 22350}, CancelledAED: 22350}
	checkDiff(t, "last hour", s.LastHour, analytics.Row{Name: "all", Counters: lastHour, NetRevenueAED: 44759})
	today := lastHour
	today.Views, today.Orders, today.Units = 6, 3, 7
	today.Revenue.AED += 8900
	today.RevenueAED += 8900
	checkDiff(t, "today", s.Today, analytics.Row{Name: "all", Counters: today, NetRevenueAED: 8900 + 44759})
	checkDiff(t, "today from", s.TodayFrom, time.Date(2026, 3, 13, 20, 0, 0, 0, time.UTC))
	if !s.Watermark.Equal(t0.Add(30*time.Minute + 2*time.Second + analyticstest.ReceiveDelay)) {
		t.Errorf("watermark: got %v, want the last event's receipt", s.Watermark)
	}

	minutes := make([]analytics.MinutePoint, 60)
	for i := range minutes {
		minutes[i].Start = t0.Add(time.Duration(i-29) * time.Minute) // 09:31 … 10:30
	}
	minutes[0].Views = 1                                                        // 09:31
	minutes[39].AddUnits = 2                                                    // 10:10
	minutes[40].AddUnits = 1                                                    // 10:11
	minutes[41].Checkouts = 1                                                   // 10:12
	minutes[42].Orders, minutes[42].Units, minutes[42].RevenueAED = 1, 3, 22350 // 10:13
	minutes[49].Orders, minutes[49].Units, minutes[49].RevenueAED = 1, 3, 44759 // 10:20
	minutes[54].CancelledAED, minutes[54].Cancellations = 22350, 1              // 10:25
	minutes[55].Views = 1                                                       // 10:26
	minutes[59].Views = 3                                                       // 10:30, still filling
	checkDiff(t, "minutes", s.Minutes, minutes)

	checkDiff(t, "funnel", s.Funnel, analytics.Funnel{Views: 5, AddToCart: 2, Checkouts: 1, Orders: 2,
		ViewToCart: 0.4, CartToCheckout: 0.5, CheckoutToOrder: 2, ViewToOrder: 0.4})

	var markets []string
	byMarket := map[string]analytics.MarketFigures{}
	for _, m := range s.Markets {
		markets = append(markets, m.Market)
		byMarket[m.Market] = m
	}
	checkDiff(t, "markets", markets, []string{"AE", "SA", "QA", "KW", "BH", "OM", "unknown"})
	aeHour := C{Views: 3, AddEvents: 1, AddUnits: 2, Checkouts: 1, Orders: 1, Units: 3, Revenue: A{AED: 22350}, RevenueAED: 22350,
		Cancellations: 1, CancelledUnits: 3, CancelledRevenue: A{AED: 22350}, CancelledAED: 22350}
	aeToday := aeHour
	aeToday.Views, aeToday.Orders, aeToday.Units, aeToday.Revenue.AED, aeToday.RevenueAED = 4, 2, 4, 31250, 31250
	checkDiff(t, "AE", byMarket["AE"], analytics.MarketFigures{Market: "AE", Currency: souq.AED,
		Today:    analytics.MarketPeriod{Counters: aeToday, NetRevenueAED: 8900, RevenueLocal: "312.50"},
		LastHour: analytics.MarketPeriod{Counters: aeHour, NetRevenueAED: 0, RevenueLocal: "223.50"}})
	kw := analytics.MarketPeriod{Counters: C{Orders: 1, Units: 3, Revenue: A{KWD: 37500}, RevenueAED: 44759}, NetRevenueAED: 44759, RevenueLocal: "37.500"}
	checkDiff(t, "KW", byMarket["KW"], analytics.MarketFigures{Market: "KW", Currency: souq.KWD, Today: kw, LastHour: kw})
	none := analytics.MarketPeriod{Counters: C{}, RevenueLocal: "0.000"}
	checkDiff(t, "OM", byMarket["OM"], analytics.MarketFigures{Market: "OM", Currency: souq.OMR, Today: none, LastHour: none})
	unknown := analytics.MarketPeriod{Counters: C{Views: 1}}
	checkDiff(t, "unknown", byMarket["unknown"], analytics.MarketFigures{Market: "unknown", Today: unknown, LastHour: unknown})

	names := func(rows []analytics.Row) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.Name)
		}
		return out
	}
	checkDiff(t, "categories by revenue", names(s.Categories), []string{"skincare", "toner", "unknown"})
	checkDiff(t, "skincare", s.Categories[0], analytics.Row{Name: "skincare", NetRevenueAED: 44759, Counters: C{
		Views: 3, AddEvents: 2, AddUnits: 3, Orders: 2, Units: 5, Revenue: A{AED: 17800, KWD: 37500}, RevenueAED: 17800 + 44759,
		Cancellations: 1, CancelledUnits: 2, CancelledRevenue: A{AED: 17800}, CancelledAED: 17800}})
	checkDiff(t, "cities by revenue", names(s.Cities), []string{"Kuwait City", "Dubai", "unknown"})
	checkDiff(t, "brands by revenue", names(s.Brands), []string{"COSRX", "Anua", "unknown"})
}

func TestTrending(t *testing.T) {
	now := t0.Add(59*time.Minute + 30*time.Second) // windows end at 11:00
	var events []souq.Event
	views := func(id, product string, at time.Duration, n int) {
		for i := range n {
			events = append(events, view(id+string(rune('a'+i)), at, product, "B", "c", "AE"))
		}
	}
	views("a", "prd_a", 10*time.Minute, 12) // 10:10: the last hour only
	events = append(events, order("b", souq.EventOrderCompleted, 50*time.Minute, souq.AE, "Dubai", line("prd_b", "B", "c", 1, 4550)))
	views("c", "prd_c", 46*time.Minute, 1)
	events = append(events, add("c1", 57*time.Minute, "prd_c", 1, "AE"), add("c2", 57*time.Minute, "prd_c", 1, "AE"))
	views("d", "prd_d", 58*time.Minute, 5)
	views("e", "prd_e", 58*time.Minute, 5) // ties with prd_d: the smaller id first
	views("f", "prd_f", -time.Minute, 9)   // 09:59: before every window

	a, _ := newAggregator(t, analytics.Config{TopN: 3})
	applyAll(t, a, events...)
	got := snapshot(t, a, now).Trending

	type P = analytics.TrendingProduct
	want := []analytics.Trending{
		{Window: "5m", From: t0.Add(55 * time.Minute), Products: []P{
			{Rank: 1, ProductID: "prd_c", Score: 6, AddEvents: 2, AddUnits: 2},
			{Rank: 2, ProductID: "prd_d", Score: 5, Views: 5},
			{Rank: 3, ProductID: "prd_e", Score: 5, Views: 5},
		}},
		{Window: "15m", From: t0.Add(45 * time.Minute), Products: []P{
			{Rank: 1, ProductID: "prd_b", Score: 10, Orders: 1, Units: 1, RevenueAED: 4550},
			{Rank: 2, ProductID: "prd_c", Score: 7, Views: 1, AddEvents: 2, AddUnits: 2},
			{Rank: 3, ProductID: "prd_d", Score: 5, Views: 5},
		}},
		{Window: "60m", From: t0, Products: []P{
			{Rank: 1, ProductID: "prd_a", Score: 12, Views: 12},
			{Rank: 2, ProductID: "prd_b", Score: 10, Orders: 1, Units: 1, RevenueAED: 4550},
			{Rank: 3, ProductID: "prd_c", Score: 7, Views: 1, AddEvents: 2, AddUnits: 2},
		}},
	}
	checkDiff(t, "trending", got, want)

	empty := snapshot(t, a, now.Add(2*time.Hour)).Trending
	for _, w := range empty {
		if len(w.Products) != 0 {
			t.Errorf("trending %s two hours later: got %d products, want none", w.Window, len(w.Products))
		}
	}
}

func TestSeries(t *testing.T) {
	a, _ := newAggregator(t, analytics.Config{})
	applyAll(t, a,
		view("1", time.Minute, "prd_a", "B", "c", "AE"),
		view("2", time.Minute+5*time.Second, "prd_a", "B", "c", "AE"),
		view("3", 3*time.Minute, "prd_a", "B", "c", "AE"),
		view("4", 3*time.Minute, "prd_b", "B", "c", "AE"),
		view("5", 7*time.Minute, "prd_a", "B", "c", "AE"),
		order("6", souq.EventOrderCompleted, 65*time.Minute, souq.AE, "Dubai", line("prd_a", "B", "c", 1, 8900)),
	)
	values := func(points []analytics.Point) []int64 {
		var out []int64
		for _, p := range points {
			out = append(out, p.Value)
		}
		return out
	}
	tests := []struct {
		name string
		q    analytics.SeriesQuery
		want []int64
	}{
		{"one product per minute", analytics.SeriesQuery{Metric: "views", Dim: analytics.Product, Member: "prd_a", From: t0, To: t0.Add(10 * time.Minute), Step: time.Minute},
			[]int64{0, 2, 0, 1, 0, 0, 0, 1, 0, 0}},
		{"one product per 5 minutes", analytics.SeriesQuery{Metric: "views", Dim: analytics.Product, Member: "prd_a", From: t0, To: t0.Add(10 * time.Minute), Step: 5 * time.Minute},
			[]int64{3, 1}},
		{"every product", analytics.SeriesQuery{Metric: "views", Dim: analytics.Product, From: t0.Add(30 * time.Second), To: t0.Add(10 * time.Minute), Step: 5 * time.Minute},
			[]int64{4, 1}},
		{"revenue per hour", analytics.SeriesQuery{Metric: "revenue_aed", Dim: analytics.Total, From: t0, To: t0.Add(2 * time.Hour), Step: time.Hour},
			[]int64{0, 8900}},
		{"local revenue of a market", analytics.SeriesQuery{Metric: "revenue.AED", Dim: analytics.Market, Member: "AE", From: t0.Add(time.Hour), To: t0.Add(70 * time.Minute), Step: time.Minute},
			[]int64{0, 0, 0, 0, 0, 8900, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.Series(t.Context(), tt.q)
			if err != nil {
				t.Fatalf("Series: %v", err)
			}
			checkDiff(t, "values", values(got), tt.want)
			if want := tt.q.From.Truncate(time.Minute); !got[0].Start.Equal(want) {
				t.Errorf("first start: got %v, want %v", got[0].Start, want)
			}
		})
	}

	bad := []struct {
		name string
		q    analytics.SeriesQuery
	}{
		{"unknown metric", analytics.SeriesQuery{Metric: "likes", Dim: analytics.Total, From: t0, To: t0.Add(time.Hour), Step: time.Minute}},
		{"unknown dimension", analytics.SeriesQuery{Metric: "views", Dim: "colour", From: t0, To: t0.Add(time.Hour), Step: time.Minute}},
		{"step of 90 s", analytics.SeriesQuery{Metric: "views", Dim: analytics.Total, From: t0, To: t0.Add(time.Hour), Step: 90 * time.Second}},
		{"no step", analytics.SeriesQuery{Metric: "views", Dim: analytics.Total, From: t0, To: t0.Add(time.Hour)}},
		{"empty range", analytics.SeriesQuery{Metric: "views", Dim: analytics.Total, From: t0, To: t0, Step: time.Minute}},
		{"too many points", analytics.SeriesQuery{Metric: "views", Dim: analytics.Total, From: t0, To: t0.Add((analytics.MaxSeriesPoints + 1) * time.Minute), Step: time.Minute}},
	}
	for _, tt := range bad {
		if _, err := a.Series(t.Context(), tt.q); !errors.Is(err, souq.ErrInvalid) {
			t.Errorf("Series with %s: got %v, want an ErrInvalid error", tt.name, err)
		}
	}
}

func TestSnapshotCache(t *testing.T) {
	now := t0.Add(10 * time.Minute)
	a, _ := newAggregator(t, analytics.Config{SnapshotTTL: time.Second})
	applyAll(t, a, view("1", 9*time.Minute, "prd_a", "B", "c", "AE"))
	first := snapshot(t, a, now)
	if _, err := a.Apply(t.Context(), 2, view("2", 9*time.Minute, "prd_a", "B", "c", "AE")); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		at   time.Time
		want int64
	}{
		{"same second: cached", now.Add(900 * time.Millisecond), 1},
		{"next second: fresh", now.Add(time.Second), 2},
	}
	if first.LastHour.Views != 1 {
		t.Fatalf("first snapshot: got %d views, want 1", first.LastHour.Views)
	}
	for _, step := range steps {
		if got := snapshot(t, a, step.at).LastHour.Views; got != step.want {
			t.Errorf("%s: got %d views, want %d", step.name, got, step.want)
		}
	}
}

func TestSnapshotJSON(t *testing.T) {
	a, _ := newAggregator(t, analytics.Config{})
	applyAll(t, a, order("o", souq.EventOrderCompleted, 0, souq.KW, "Salmiya", line("prd_a", "B", "c", 1, 12500)))
	b, err := json.Marshal(snapshot(t, a, t0))
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	for _, want := range []string{
		`"last_hour":{"name":"all","views":0,`,
		`"revenue":{"KWD":12500},"revenue_aed":14920,`, // zero currencies left out
		`"cancelled_revenue":{},`,
		`{"market":"KW","currency":"KWD","today":{`,
		`"revenue_local":"12.500"`,
		`"trending":[{"window":"5m","from":"2026-03-14T09:56:00Z","products":[{"rank":1,"product_id":"prd_a","score":10,`,
		`"funnel":{"views":0,"add_to_cart":0,"checkouts":0,"orders":1,`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("snapshot JSON lacks %s:\n%s", want, b)
		}
	}
}

// TestConcurrentApplyAndRead runs under -race in CI: one goroutine applies,
// others read, and the final figures add up.
func TestConcurrentApplyAndRead(t *testing.T) {
	a, _ := newAggregator(t, analytics.Config{SnapshotTTL: 10 * time.Millisecond})
	m := newMix(3, 100)
	const n = 2000
	events := make([]souq.Event, n)
	views := int64(0)
	for i := range events {
		events[i] = m.Event(i, t0.Add(time.Duration(i)*time.Second/4))
		if events[i].Event == analytics.EventProductViewed {
			views++
		}
	}
	now := t0.Add(n * time.Second / 4)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for i := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				var err error
				switch i {
				case 0:
					_, err = a.Dump(t.Context())
				case 1:
					_, err = a.Series(t.Context(), analytics.SeriesQuery{Metric: "views", Dim: analytics.Product, From: t0, To: now, Step: time.Minute})
				default:
					_, err = a.Snapshot(t.Context(), time.Now())
				}
				if err != nil {
					t.Errorf("reader %d: %v", i, err)
					return
				}
				_ = a.Stats()
			}
		})
	}
	applyAll(t, a, events...)
	close(done)
	wg.Wait()
	if got := snapshot(t, a, now).Today.Views; got != views {
		t.Errorf("views today: got %d, want %d", got, views)
	}
}

// TestSnapshotCacheEqualsFresh checks the Aggregator's trending cache: after
// every step of a random stream (events on time and late, to closed minutes
// and to hour buckets only, duplicates, a watermark jump that prunes minutes
// inside the windows) and a dashboard clock that mostly moves forward across
// minute and hour boundaries but sometimes jumps back or ahead, its Snapshot
// equals one computed afresh by a Reader without a cache over the same store.
func TestSnapshotCacheEqualsFresh(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			cfg := analytics.Config{MinuteRetention: time.Hour, TopN: 100}
			a, store := newAggregator(t, cfg)
			// A Reader that cannot see the MemStore behind the interface
			// reads afresh; one over the MemStore keeps its sums, following
			// the store's own versions of its minute buckets.
			fresh, err := analytics.NewReader(struct{ analytics.HotStore }{store}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			follower, err := analytics.NewReader(store, cfg)
			if err != nil {
				t.Fatal(err)
			}
			m := newMix(seed, 40)
			rng := rand.New(rand.NewPCG(seed, 7))
			clock := t0.Add(-50 * time.Minute)
			var applied []souq.Event
			for step := range 1000 {
				clock = clock.Add(time.Duration(rng.IntN(15_000)) * time.Millisecond)
				for range 1 + rng.IntN(5) {
					var ev souq.Event
					if len(applied) > 0 && rng.IntN(20) == 0 {
						ev = applied[rng.IntN(len(applied))] // a redelivery
					} else {
						late := time.Duration(rng.IntN(2000)) * time.Millisecond
						switch r := rng.IntN(100); {
						case r < 8:
							late = time.Duration(rng.IntN(70)) * time.Minute // a closed minute, or hour buckets only
						case r < 10:
							late = time.Duration(rng.IntN(5)) * time.Hour
						}
						ev = m.Event(len(applied), clock.Add(-late))
						ev.ReceivedAt = clock
						if step == 500 {
							ev.ReceivedAt = clock.Add(40 * time.Minute) // the watermark jumps: minutes in the windows are pruned
						}
					}
					if _, err := a.Apply(t.Context(), uint64(len(applied)+1), ev); err != nil && !errors.Is(err, analytics.ErrMalformed) {
						t.Fatal(err)
					}
					applied = append(applied, ev)
				}
				now := clock.Add(time.Duration(rng.IntN(6*60_000)-5*60_000) * time.Millisecond)
				switch rng.IntN(50) {
				case 0:
					now = now.Add(-time.Hour)
				case 1:
					now = now.Add(45 * time.Minute)
				}
				got := snapshot(t, a, now)
				want, err := fresh.Snapshot(t.Context(), now)
				if err != nil {
					t.Fatal(err)
				}
				followed, err := follower.Snapshot(t.Context(), now)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range []struct {
					who string
					got analytics.Snapshot
				}{{"the Aggregator's", got}, {"a MemStore Reader's", followed}} {
					if reflect.DeepEqual(c.got, want) {
						continue
					}
					if diff := cmp.Diff(want, c.got); diff != "" {
						t.Fatalf("step %d, now %v: %s cached snapshot differs from a fresh one (-fresh +cached):\n%s", step, now, c.who, diff)
					}
				}
				end := now.Truncate(time.Minute).Add(time.Minute)
				q := analytics.ProductQuery{From: end.Add(-time.Hour), To: end}
				wantRows, err := fresh.Products(t.Context(), q)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range []*analytics.Reader{a.Reader, follower} {
					gotRows, err := r.Products(t.Context(), q)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(wantRows, gotRows); diff != "" {
						t.Fatalf("step %d, now %v: products from kept sums differ from fresh ones (-fresh +kept):\n%s", step, now, diff)
					}
				}
			}
		})
	}
}

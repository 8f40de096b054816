package analytics

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Audience is the distinct visitors of one window and what they bought.
// A visitor is the event's userId when it has one, else its anonymousId;
// "Order Completed" carries the visitor who placed the order, so a buyer
// is counted among the visitors too.
type Audience struct {
	// Visitors is the estimated number of distinct visitors with any
	// counted event in the window (HyperLogLog, standard error about 1%).
	Visitors int64 `json:"visitors"`
	// Buyers is the estimated number of distinct visitors with an "Order
	// Completed" in the window.
	Buyers     int64 `json:"buyers"`
	Orders     int64 `json:"orders"`
	Units      int64 `json:"units"`
	RevenueAED int64 `json:"revenue_aed"`
	// Conversion is Buyers / Visitors (0 without visitors; at most 1).
	Conversion float64 `json:"conversion"`
	// AverageOrderAED is RevenueAED / Orders in fils, rounded to the
	// nearest (0 without orders).
	AverageOrderAED int64 `json:"average_order_aed"`
	// UnitsPerOrder is Units / Orders (0 without orders).
	UnitsPerOrder float64 `json:"units_per_order"`
}

// MarketAudience is one market's Audience.
type MarketAudience struct {
	Market string `json:"market"`
	Audience
}

// AudienceWindow is the Audience of one window, in all and per market.
type AudienceWindow struct {
	// Window is "minute" (the last complete minute bucket), "hour" (the
	// 60 minute buckets ending with the one filling, as Snapshot.LastHour)
	// or "day" (today since midnight in Config.Day, from hour buckets).
	Window string    `json:"window"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Total  Audience  `json:"total"`
	// Markets are the six markets in display order, then "unknown" when
	// it has visitors.
	Markets []MarketAudience `json:"markets"`
}

// VisitorPoint is the distinct visitors and buyers of one minute bucket.
type VisitorPoint struct {
	Start    time.Time `json:"start"`
	Visitors int64     `json:"visitors"`
	Buyers   int64     `json:"buyers"`
}

// AudienceFigures are the dashboard's visitor figures as of At.
type AudienceFigures struct {
	At time.Time `json:"at"`
	// Windows are the minute, hour and day windows, in that order.
	Windows []AudienceWindow `json:"windows"`
	// Minutes are the last 60 minute buckets, oldest first (the newest
	// is still filling).
	Minutes []VisitorPoint `json:"minutes"`
}

// Audience returns the visitor figures as of now. With Config.SnapshotTTL
// set, calls in the same interval share one result (its slices are shared
// and must not be modified).
func (r *Reader) Audience(ctx context.Context, now time.Time) (AudienceFigures, error) {
	if r.cfg.SnapshotTTL <= 0 {
		return r.audience(ctx, now)
	}
	return r.audienceCache.get(now.UTC().Truncate(r.cfg.SnapshotTTL), func() (AudienceFigures, error) {
		return r.audience(ctx, now)
	})
}

func (r *Reader) audience(ctx context.Context, now time.Time) (AudienceFigures, error) {
	now = now.UTC()
	end := now.Truncate(time.Minute).Add(time.Minute)
	from := end.Add(-60 * time.Minute)
	dayFrom, dayTo := r.today(now)
	out := AudienceFigures{At: now}

	// Counters: the hour's minutes in all (which hold the last complete
	// minute too), the last complete minute and the hour by market (the
	// hour from the kept sums), the day from hour buckets.
	var minutes [60]Counters
	var hour Counters
	err := r.store.Read(ctx, Range{Res: Minute, Dim: Total, From: from, To: end}, func(start time.Time, _ string, c *Counters) {
		minutes[start.Sub(from)/time.Minute].Add(c)
		hour.Add(c)
	})
	if err != nil {
		return AudienceFigures{}, fmt.Errorf("analytics: audience: %w", err)
	}
	minuteFrom := end.Add(-2 * time.Minute)
	minuteMarkets, err := r.sum(ctx, Minute, Market, minuteFrom, minuteFrom.Add(time.Minute))
	if err != nil {
		return AudienceFigures{}, fmt.Errorf("analytics: audience: %w", err)
	}
	hourMarkets, err := r.lastHour(ctx, Market, end)
	if err != nil {
		return AudienceFigures{}, fmt.Errorf("analytics: audience: %w", err)
	}
	day, err := r.sum(ctx, Hour, Total, dayFrom, dayTo)
	if err != nil {
		return AudienceFigures{}, fmt.Errorf("analytics: audience: %w", err)
	}
	dayMarkets, err := r.sum(ctx, Hour, Market, dayFrom, dayTo)
	if err != nil {
		return AudienceFigures{}, fmt.Errorf("analytics: audience: %w", err)
	}

	windows := []struct {
		name     string
		res      Resolution
		from, to time.Time
		total    *Counters
		markets  map[string]*Counters
	}{
		{"minute", Minute, minuteFrom, minuteFrom.Add(time.Minute), &minutes[58], minuteMarkets},
		{"hour", Minute, from, end, &hour, hourMarkets},
		{"day", Hour, dayFrom, dayTo, orZero(day[All]), dayMarkets},
	}
	for _, w := range windows {
		aw := AudienceWindow{Window: w.name, From: w.from, To: w.to}
		total, err := r.store.Reach(ctx, []Range{{Res: w.res, Dim: Total, From: w.from, To: w.to}})
		if err != nil {
			return AudienceFigures{}, fmt.Errorf("analytics: audience: %w", err)
		}
		markets, err := r.store.Reach(ctx, []Range{{Res: w.res, Dim: Market, From: w.from, To: w.to}})
		if err != nil {
			return AudienceFigures{}, fmt.Errorf("analytics: audience: %w", err)
		}
		aw.Total = audienceOf(w.total, total[All])
		for _, m := range souq.Markets() {
			code := string(m.Code)
			aw.Markets = append(aw.Markets, MarketAudience{Market: code, Audience: audienceOf(orZero(w.markets[code]), markets[code])})
		}
		if v, ok := markets[Unknown]; ok && v.Visitors > 0 {
			aw.Markets = append(aw.Markets, MarketAudience{Market: Unknown, Audience: audienceOf(orZero(w.markets[Unknown]), v)})
		}
		out.Windows = append(out.Windows, aw)
	}

	out.Minutes = make([]VisitorPoint, 60)
	for i := range out.Minutes {
		out.Minutes[i].Start = from.Add(time.Duration(i) * time.Minute)
	}
	err = r.store.ReachByBucket(ctx, Range{Res: Minute, Dim: Total, Member: All, From: from, To: end}, func(start time.Time, _ string, v Reach) {
		p := &out.Minutes[start.Sub(from)/time.Minute]
		p.Visitors, p.Buyers = v.Visitors, v.Buyers
	})
	if err != nil {
		return AudienceFigures{}, fmt.Errorf("analytics: audience: %w", err)
	}
	return out, nil
}

// audienceOf returns the Audience of counters c and reach v.
func audienceOf(c *Counters, v Reach) Audience {
	a := Audience{Visitors: v.Visitors, Buyers: v.Buyers, Orders: c.Orders, Units: c.Units, RevenueAED: c.RevenueAED}
	a.Conversion = ratio(a.Buyers, a.Visitors)
	if a.Visitors > 0 {
		a.Conversion = min(a.Conversion, 1)
	}
	if a.Orders > 0 {
		a.AverageOrderAED = divRound(a.RevenueAED, a.Orders)
		a.UnitsPerOrder = float64(a.Units) / float64(a.Orders)
	}
	return a
}

// ratio returns a / b, or 0 when b is 0.
func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// divRound returns a / b rounded to the nearest integer, halves away from
// zero (b > 0).
func divRound(a, b int64) int64 {
	if a < 0 {
		return -divRound(-a, b)
	}
	return (a + b/2) / b
}

// today returns the hour buckets of today in Config.Day as of now: from
// midnight to the end of the hour holding now.
func (r *Reader) today(now time.Time) (from, to time.Time) {
	local := now.In(r.cfg.Day)
	from = time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, r.cfg.Day).UTC()
	return from, now.UTC().Truncate(time.Hour).Add(time.Hour)
}

// cached holds one result computed for a key, such as the interval of
// time a call falls in, so that calls with the same key share it.
type cached[T any] struct {
	mu  sync.Mutex // held while computing
	key time.Time
	v   *T
}

// get returns the result held for key, or computes and holds it.
func (c *cached[T]) get(key time.Time, compute func() (T, error)) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.v != nil && c.key.Equal(key) {
		return *c.v, nil
	}
	v, err := compute()
	if err != nil {
		var zero T
		return zero, err
	}
	c.key, c.v = key, &v
	return v, nil
}

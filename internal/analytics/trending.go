package analytics

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// trendWindows are the trending windows, in minutes, narrowest first.
var trendWindows = [...]int{5, 15, 60}

const numWindows = len(trendWindows)

// widest is the length of the widest trend window.
var widest = time.Duration(trendWindows[numWindows-1]) * time.Minute

// trend is the part of a product's Counters a trending list shows. It is
// an array so that sums and differences are one loop.
type trend [6]int64

// The fields of a trend.
const (
	tViews = iota
	tAddEvents
	tAddUnits
	tOrders
	tUnits
	tRevenueAED
)

func trendOf(c *Counters) trend {
	return trend{c.Views, c.AddEvents, c.AddUnits, c.Orders, c.Units, c.RevenueAED}
}

// add adds sign × o to t.
func (t *trend) add(o *trend, sign int64) {
	for i := range t {
		t[i] += sign * o[i]
	}
}

func (t *trend) score() int64 {
	return TrendScore(Counters{Views: t[tViews], AddEvents: t[tAddEvents], Orders: t[tOrders]})
}

// productTrend is one product's trend in one minute bucket.
type productTrend struct {
	id string
	t  trend
}

// trendSums are the trends of the products over each window.
type trendSums [numWindows]map[string]*trend

func newTrendSums() trendSums {
	var s trendSums
	for i := range s {
		s[i] = map[string]*trend{}
	}
	return s
}

// add adds sign × t to product id's sum in window i, dropping sums that
// come back to zero so that the maps hold only products of the window.
func (s *trendSums) add(i int, id string, t *trend, sign int64) {
	acc, ok := s[i][id]
	if !ok {
		acc = &trend{}
		s[i][id] = acc
	}
	acc.add(t, sign)
	if *acc == (trend{}) {
		delete(s[i], id)
	}
}

// inWindow reports whether the minute starting at start (Unix seconds)
// counts in trend window i ending at end.
func inWindow(start int64, end time.Time, i int) bool {
	return start >= end.Add(-time.Duration(trendWindows[i])*time.Minute).Unix() && start < end.Unix()
}

// changes records what Commit may have changed since a Snapshot last took
// the record: the minute buckets committed to, and the retention floor,
// below which the store has dropped buckets. The Aggregator notes every
// Commit after it returns; its own Reader takes the record before reading
// the store, so a change made during the read is noted again for the next
// one. It has its own mutex so that Apply never waits for a Snapshot.
type changes struct {
	mu      sync.Mutex
	minutes map[int64]struct{} // bucket starts, Unix seconds
	floor   int64              // the highest Floors.Minutes committed with, Unix seconds
}

func newChanges() *changes {
	return &changes{minutes: map[int64]struct{}{}, floor: minUnix}
}

func (c *changes) note(b *Batch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !b.Minute.IsZero() {
		c.minutes[b.Minute.Unix()] = struct{}{}
	}
	if !b.Floors.Minutes.IsZero() {
		c.floor = max(c.floor, b.Floors.Minutes.Unix())
	}
}

// take returns the minutes noted since the last take and the floor.
func (c *changes) take() (minutes map[int64]struct{}, floor int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	minutes = c.minutes
	c.minutes = make(map[int64]struct{}, len(minutes))
	return minutes, c.floor
}

// trendCache keeps, for the Aggregator's own Reader, the product minute
// buckets of the widest trend window as the last Snapshot read them, and
// their sums over each window, so that the next Snapshot reads again only
// the minutes that changed (usually the one filling) and those that
// entered the window, and subtracts those that left it. Its sums equal a
// fresh reading of the store: every minute held is one no Commit has
// touched since it was read, and integer sums and differences are exact.
type trendCache struct {
	mu      sync.Mutex // held while updating and ranking
	changes *changes
	end     time.Time                // the end of the windows the sums are for; zero when empty
	minutes map[int64][]productTrend // by bucket start (Unix seconds), within the widest window ending at end
	floor   int64                    // the retention floor the minutes were read above
	sums    trendSums
}

func newTrendCache(ch *changes) *trendCache {
	return &trendCache{changes: ch, floor: minUnix}
}

// update brings the sums to the windows ending at end.
func (c *trendCache) update(ctx context.Context, store HotStore, end time.Time) error {
	changed, floor := c.changes.take()
	switch {
	case c.end.IsZero() || end.Before(c.end) || !end.Before(c.end.Add(widest)):
		c.minutes, c.sums = map[int64][]productTrend{}, newTrendSums()
	case end.After(c.end):
		for start, cells := range c.minutes {
			for i := range trendWindows {
				if inWindow(start, c.end, i) && !inWindow(start, end, i) {
					for _, p := range cells {
						c.sums.add(i, p.id, &p.t, -1)
					}
				}
			}
			if !inWindow(start, end, numWindows-1) {
				delete(c.minutes, start)
			}
		}
	}
	c.end = end
	for start := range changed {
		c.drop(start)
	}
	if floor > c.floor {
		for start := range c.minutes {
			if start < floor {
				c.drop(start)
			}
		}
		c.floor = floor
	}
	// Read the minutes not held, each run of consecutive ones at once.
	from := end.Add(-widest)
	for m := from; m.Before(end); {
		if _, ok := c.minutes[m.Unix()]; ok {
			m = m.Add(time.Minute)
			continue
		}
		to := m.Add(time.Minute)
		for ; to.Before(end); to = to.Add(time.Minute) {
			if _, ok := c.minutes[to.Unix()]; ok {
				break
			}
		}
		for t := m; t.Before(to); t = t.Add(time.Minute) {
			c.minutes[t.Unix()] = nil
		}
		err := store.Read(ctx, Range{Res: Minute, Dim: Product, From: m, To: to}, func(start time.Time, member string, counters *Counters) {
			s := start.Unix()
			p := productTrend{id: member, t: trendOf(counters)}
			c.minutes[s] = append(c.minutes[s], p)
			for i := range trendWindows {
				if inWindow(s, end, i) {
					c.sums.add(i, member, &p.t, 1)
				}
			}
		})
		if err != nil {
			c.end = time.Time{} // partly read: start afresh next time
			return err
		}
		m = to
	}
	return nil
}

// drop forgets the minute starting at start, taking it out of the sums.
func (c *trendCache) drop(start int64) {
	cells, ok := c.minutes[start]
	if !ok {
		return
	}
	for i := range trendWindows {
		if inWindow(start, c.end, i) {
			for _, p := range cells {
				c.sums.add(i, p.id, &p.t, -1)
			}
		}
	}
	delete(c.minutes, start)
}

// readTrends sums the product minute buckets of each window ending at end,
// reading the widest window once.
func readTrends(ctx context.Context, store HotStore, end time.Time) (trendSums, error) {
	sums := newTrendSums()
	err := store.Read(ctx, Range{Res: Minute, Dim: Product, From: end.Add(-widest), To: end},
		func(start time.Time, member string, c *Counters) {
			t := trendOf(c)
			for i := range trendWindows {
				if inWindow(start.Unix(), end, i) {
					sums.add(i, member, &t, 1)
				}
			}
		})
	return sums, err
}

// trending ranks products over each trend window ending at end: from the
// cache when the Reader has one, else from a fresh reading of the store.
func (r *Reader) trending(ctx context.Context, end time.Time) ([]Trending, error) {
	if r.trends == nil {
		sums, err := readTrends(ctx, r.store, end)
		if err != nil {
			return nil, err
		}
		return r.rank(&sums, end), nil
	}
	r.trends.mu.Lock()
	defer r.trends.mu.Unlock()
	if err := r.trends.update(ctx, r.store, end); err != nil {
		return nil, err
	}
	return r.rank(&r.trends.sums, end), nil
}

// rank returns the top products of each window by TrendScore, ties to
// the smaller product id.
func (r *Reader) rank(sums *trendSums, end time.Time) []Trending {
	out := make([]Trending, numWindows)
	for i, w := range trendWindows {
		list := []TrendingProduct{}
		for id, t := range sums[i] {
			score := t.score()
			if score == 0 {
				continue
			}
			list = append(list, TrendingProduct{ProductID: id, Score: score, Views: t[tViews], AddEvents: t[tAddEvents],
				AddUnits: t[tAddUnits], Orders: t[tOrders], Units: t[tUnits], RevenueAED: t[tRevenueAED]})
		}
		slices.SortFunc(list, func(a, b TrendingProduct) int {
			return cmp.Or(cmp.Compare(b.Score, a.Score), strings.Compare(a.ProductID, b.ProductID))
		})
		if len(list) > r.cfg.TopN {
			list = list[:r.cfg.TopN]
		}
		for j := range list {
			list[j].Rank = j + 1
		}
		out[i] = Trending{Window: windowName(w), From: end.Add(-time.Duration(w) * time.Minute), Products: list}
	}
	return out
}

func windowName(minutes int) string { return strconv.Itoa(minutes) + "m" }

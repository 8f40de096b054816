package analytics

import (
	"cmp"
	"container/heap"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// trendWindows are the trending windows, narrowest first.
var trendWindows = []time.Duration{5 * time.Minute, 15 * time.Minute, 60 * time.Minute}

// trending ranks products over each trend window ending at end.
func (r *Reader) trending(ctx context.Context, end time.Time) ([]Trending, error) {
	var out []Trending
	err := r.products.with(ctx, r.store, end, func(sums []map[string]*windowSum[Counters]) {
		out = make([]Trending, len(trendWindows))
		for i, w := range trendWindows {
			out[i] = Trending{Window: windowName(w), From: end.Add(-w), Products: topProducts(sums[i], r.cfg.TopN)}
		}
	})
	return out, err
}

// topProducts returns the n products of sums with the highest TrendScore
// (ties to the smaller product id), leaving out those that score 0.
func topProducts(sums map[string]*windowSum[Counters], n int) []TrendingProduct {
	// A heap of the best n so far, worst on top: most products are
	// turned away by one comparison, without sorting them all.
	top := &trendHeap{}
	for id, s := range sums {
		t := &s.v
		score := TrendScore(*t)
		if score == 0 || n == 0 {
			continue
		}
		e := rankedTrend{id, score, t}
		if top.Len() < n {
			heap.Push(top, e)
		} else if better(e, (*top)[0]) {
			(*top)[0] = e
			heap.Fix(top, 0)
		}
	}
	slices.SortFunc(*top, func(a, b rankedTrend) int {
		return cmp.Or(cmp.Compare(b.score, a.score), strings.Compare(a.id, b.id))
	})
	list := make([]TrendingProduct, len(*top))
	for j, e := range *top {
		t := e.t
		list[j] = TrendingProduct{Rank: j + 1, ProductID: e.id, Score: e.score, Views: t.Views, AddEvents: t.AddEvents,
			AddUnits: t.AddUnits, Orders: t.Orders, Units: t.Units, RevenueAED: t.RevenueAED}
	}
	return list
}

type rankedTrend struct {
	id    string
	score int64
	t     *Counters
}

// better reports whether a ranks above b.
func better(a, b rankedTrend) bool {
	return a.score > b.score || a.score == b.score && a.id < b.id
}

// trendHeap is a heap with the lowest ranked on top.
type trendHeap []rankedTrend

func (h trendHeap) Len() int           { return len(h) }
func (h trendHeap) Less(i, j int) bool { return better(h[j], h[i]) }
func (h trendHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *trendHeap) Push(x any)        { *h = append(*h, x.(rankedTrend)) }
func (h *trendHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func windowName(w time.Duration) string { return strconv.Itoa(int(w/time.Minute)) + "m" }

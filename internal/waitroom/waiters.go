package waitroom

import (
	"container/heap"
	"sync"
	"time"
)

// waiters are the visits held waiting for news, in a heap by position, so
// that admitting positions up to a head wakes exactly the visits it
// admits: a queue of 400,000 costs one wake-up per admitted visit, not
// 400,000 per tick.
//
// Admitted positions are woken evenly over a spread (release, then step)
// rather than all at once: a tick's admissions then reach checkout as a
// stream, not as one burst queueing behind the hot product's row and
// eating a CPU-limited replica's quota in the first milliseconds of the
// tick.
type waiters struct {
	mu    sync.Mutex
	h     waiterHeap
	early map[*waiter]struct{} // woken by the draw
	// the release being paced: positions up to from were woken at start,
	// those up to to are woken by start+spread
	from, to int64
	start    time.Time
	spread   time.Duration
}

type waiter struct {
	pos   int64 // 0: an early arrival, woken at the draw
	c     chan struct{}
	index int // in the heap; -1 once woken or removed
}

func (w *waiters) init() { w.h, w.early = waiterHeap{}, map[*waiter]struct{}{} }

// add registers a visit waiting at pos.
func (w *waiters) add(pos int64) *waiter {
	wt := &waiter{pos: pos, c: make(chan struct{}), index: -1}
	w.mu.Lock()
	defer w.mu.Unlock()
	if pos == 0 {
		w.early[wt] = struct{}{}
	} else {
		heap.Push(&w.h, wt)
	}
	return wt
}

// remove forgets a visit that stopped waiting.
func (w *waiters) remove(wt *waiter) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.early, wt)
	if wt.index >= 0 {
		heap.Remove(&w.h, wt.index)
	}
}

// release admits the positions up to head: they are woken in order,
// evenly from now to now+spread as step is called (at once with spread
// 0), after what the last release had left to wake. Early arrivals are
// not among them: their news is the draw, wakeAll.
func (w *waiters) release(head int64, now time.Time, spread time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if head <= w.to {
		return
	}
	w.from, w.to, w.start, w.spread = w.level(now), head, now, spread
	w.wakeTo(w.level(now))
}

// forget starts afresh for a new sale, whose positions start at 1.
func (w *waiters) forget() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.from, w.to = 0, 0
}

// step wakes the positions the release in progress has reached by now.
func (w *waiters) step(now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.wakeTo(w.level(now))
}

// level is the position the release in progress has reached by now;
// w.mu must be held.
func (w *waiters) level(now time.Time) int64 {
	elapsed := now.Sub(w.start)
	if w.spread <= 0 || elapsed >= w.spread {
		return w.to
	}
	return w.from + int64(float64(w.to-w.from)*float64(max(0, elapsed))/float64(w.spread))
}

// wakeTo wakes the visits at positions up to head; w.mu must be held.
func (w *waiters) wakeTo(head int64) {
	for len(w.h) > 0 && w.h[0].pos <= head {
		close(heap.Pop(&w.h).(*waiter).c)
	}
}

// wakeAll wakes every visit: the sale sold out, the draw was made, or the
// room is stopping.
func (w *waiters) wakeAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, wt := range w.h {
		wt.index = -1
		close(wt.c)
	}
	for wt := range w.early {
		close(wt.c)
	}
	w.h, w.early = w.h[:0], map[*waiter]struct{}{}
}

// len is how many visits are waiting.
func (w *waiters) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.h) + len(w.early)
}

type waiterHeap []*waiter

func (h waiterHeap) Len() int           { return len(h) }
func (h waiterHeap) Less(i, j int) bool { return h[i].pos < h[j].pos }
func (h waiterHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *waiterHeap) Push(x any) {
	wt := x.(*waiter)
	wt.index = len(*h)
	*h = append(*h, wt)
}
func (h *waiterHeap) Pop() any {
	old := *h
	wt := old[len(old)-1]
	old[len(old)-1] = nil
	wt.index = -1
	*h = old[:len(old)-1]
	return wt
}

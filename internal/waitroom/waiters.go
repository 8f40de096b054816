package waitroom

import (
	"container/heap"
	"sync"
)

// waiters are the visits held waiting for news, in a heap by position, so
// that admitting positions up to a head wakes exactly the visits it
// admits: a queue of 400,000 costs one wake-up per admitted visit, not
// 400,000 per tick.
type waiters struct {
	mu    sync.Mutex
	h     waiterHeap
	early map[*waiter]struct{} // woken by the draw
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

// wake wakes the visits at positions up to head (not the early arrivals:
// their news is the draw, wakeAll).
func (w *waiters) wake(head int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
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

package loadgen

import (
	"container/heap"
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/souq-commerce/souq/internal/shopper"
)

// Sessions between their steps
//
// A session in progress is not a goroutine: it is a visit waiting in a
// heap by the time its next step is due (a shopper thinking costs its
// state, a few hundred bytes, not a stack). A dispatcher hands each due
// visit to one of a fixed number of workers, which plays the step (one
// request, or a few) and puts the visit back with its next due time. When
// every worker is busy a due step waits; its latency counts from when it
// was due, so the wait shows, as the shop's slowness would.

// visit is a session between its steps.
type visit struct {
	sess  *shopper.Session
	rng   *rand.Rand
	due   time.Time // when its next step should start
	first bool      // its first step has not run
	index int       // in the heap
	err   error     // how it ended
}

type visitHeap []*visit

func (h visitHeap) Len() int           { return len(h) }
func (h visitHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h visitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].index, h[j].index = i, j }
func (h *visitHeap) Push(x any)        { v := x.(*visit); v.index = len(*h); *h = append(*h, v) }
func (h *visitHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return v
}

// scheduler plays visits' steps when they are due, on workers.
type scheduler struct {
	now  func() time.Time
	wake chan struct{} // a visit was pushed
	work chan *visit

	mu      sync.Mutex
	waiting visitHeap

	// step plays a visit's step; finish is called once per visit, when
	// it has ended (done) or was stopped waiting for its next step.
	step   func(ctx context.Context, v *visit) (pause time.Duration, done bool)
	finish func(v *visit, stopped bool)

	inProgress sync.WaitGroup // visits pushed and not finished
}

func newScheduler(now func() time.Time, step func(context.Context, *visit) (time.Duration, bool), finish func(*visit, bool)) *scheduler {
	return &scheduler{now: now, wake: make(chan struct{}, 1), work: make(chan *visit), step: step, finish: finish,
		waiting: visitHeap{}}
}

// add adds a new visit due at v.due.
func (s *scheduler) add(v *visit) {
	s.inProgress.Add(1)
	s.push(v)
}

// push puts a visit in the heap, due at v.due.
func (s *scheduler) push(v *visit) {
	s.mu.Lock()
	heap.Push(&s.waiting, v)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run starts the workers and dispatches due visits until every visit
// added has ended and noMore is closed (no visit will be added), or until
// ctx ends: then the steps being played end (ctx is theirs), and the
// visits still waiting end unplayed, once noMore is closed.
func (s *scheduler) run(ctx context.Context, workers int, noMore <-chan struct{}) {
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for v := range s.work {
				pause, done := s.step(ctx, v)
				if done {
					s.finish(v, false)
					s.inProgress.Done()
					continue
				}
				v.due = s.now().Add(pause)
				s.push(v)
			}
		})
	}
	allDone := make(chan struct{})
	go func() {
		<-noMore
		s.inProgress.Wait()
		close(allDone)
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var next *visit
		var wait time.Duration = time.Hour
		if len(s.waiting) > 0 {
			if d := s.waiting[0].due.Sub(s.now()); d <= 0 {
				next = heap.Pop(&s.waiting).(*visit)
			} else {
				wait = d
			}
		}
		s.mu.Unlock()
		if next != nil {
			select {
			case s.work <- next:
				continue
			case <-ctx.Done():
				s.push(next)
			}
		}
		if ctx.Err() != nil {
			break
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-s.wake:
		case <-ctx.Done():
		case <-allDone:
			close(s.work)
			wg.Wait()
			return
		}
	}
	// Stopped: the workers end their steps (ctx is done), the visits
	// still waiting end unplayed.
	close(s.work)
	wg.Wait()
	<-noMore
	s.mu.Lock()
	left := s.waiting
	s.waiting = nil
	s.mu.Unlock()
	for _, v := range left {
		s.finish(v, true)
		s.inProgress.Done()
	}
}

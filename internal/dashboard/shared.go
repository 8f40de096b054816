package dashboard

import (
	"context"
	"sync"
	"time"
)

// sharedUpdates lets the requests that need a whole update — the alerts
// endpoint when no push judged them lately, the stock endpoint — share
// one: the last update computed (by the broadcaster or a request) while
// it is less than one interval old by the dashboard's clock, else one
// computation that concurrent requests wait for together.
type sharedUpdates struct {
	mu       sync.Mutex // guards the fields below; taken alone
	last     Update
	lastAt   time.Time     // the dashboard's clock when last was computed
	inflight chan struct{} // closed when the computation under way ends
	result   Update        // that computation's result, once inflight is closed
	err      error
}

// note records u, computed at at, as the last update.
func (s *sharedUpdates) note(u Update, at time.Time) {
	s.mu.Lock()
	if !at.Before(s.lastAt) {
		s.last, s.lastAt = u, at
	}
	s.mu.Unlock()
}

// sharedUpdate returns the last update while it is fresh, else joins or
// starts one computation. The computation runs under the dashboard's
// context (bounded by computeTimeout), not the request's, so a client
// that leaves does not fail the others waiting on it.
func (d *Dashboard) sharedUpdate(ctx context.Context) (Update, error) {
	s := &d.shared
	s.mu.Lock()
	if fresh(s.lastAt, d.now(), d.interval) {
		u := s.last
		s.mu.Unlock()
		return u, nil
	}
	done := s.inflight
	if done == nil {
		done = make(chan struct{})
		s.inflight = done
		go func() {
			cctx, cancel := context.WithTimeout(d.ctx, computeTimeout)
			defer cancel()
			u, err := d.update(cctx)
			s.mu.Lock()
			s.result, s.err, s.inflight = u, err, nil
			close(done)
			s.mu.Unlock()
		}()
	}
	s.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return Update{}, ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.result, s.err
}

package waitroom

import (
	"context"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Run advances the queue of the protected sale every Tick until ctx ends:
// it reads the sale's stock, admits as many positions as the controller's
// rate allows (and the stock makes worthwhile), and wakes the visitors
// whose news changed, spreading the wake-ups of the visits it admitted
// over the next tick (Tick wakes them at once). Every second it gives the
// controller what checkout did. An error of one tick is logged and the
// next tick tries again.
func (r *Room) Run(ctx context.Context) {
	t := time.NewTicker(r.cfg.Tick)
	defer t.Stop()
	pace := time.NewTicker(r.cfg.Tick / paceSteps)
	defer pace.Stop()
	last := r.cfg.Sales.Now()
	lastUpdate := last
	limited := false
	for {
		select {
		case <-ctx.Done():
			r.waiters.wakeAll()
			return
		case <-pace.C:
			r.waiters.step(r.cfg.Sales.Now())
			continue
		case <-t.C:
		}
		now := r.cfg.Sales.Now()
		// A tick late by a stall (CPU starvation, a slow store) admits
		// at most two ticks' worth: what the rate allowed while this
		// replica was stalled is not owed as one burst at checkout.
		held, err := r.tick(ctx, min(now.Sub(last), 2*r.cfg.Tick), r.cfg.Tick)
		last = now
		if err != nil {
			r.log.Warn("waiting room tick failed", "err", err)
			continue
		}
		limited = limited || held
		if now.Sub(lastUpdate) >= time.Second {
			o := r.monitor.Take()
			r.metrics.interval(o, r.ctrl.Update(o, limited))
			lastUpdate, limited = now, false
		}
	}
}

// paceSteps is how many steps Run wakes a tick's admissions in.
const paceSteps = 10

// Tick is one step of Run, dt after the last: it returns whether visitors
// were waiting that the rate did not admit. It wakes the visits it
// admitted at once. Exported for tests that drive the room by hand.
func (r *Room) Tick(ctx context.Context, dt time.Duration) (limited bool, err error) {
	return r.tick(ctx, dt, 0)
}

// tick is Tick, waking the visits it admits evenly over spread.
func (r *Room) tick(ctx context.Context, dt, spread time.Duration) (limited bool, err error) {
	sale, ok, err := r.protected(ctx)
	if err != nil || !ok {
		return false, err
	}
	now := r.cfg.Sales.Now()
	started := !now.Before(sale.StartsAt)
	remaining, err := r.stock(ctx, sale)
	if err != nil {
		return false, err
	}
	r.mu.Lock()
	fresh := r.sale != sale.ID
	r.mu.Unlock()
	if fresh {
		// A new sale (or a replica's first tick): forget the last one's
		// figures, and read where the queue stands before admitting, so
		// that the history starts before this replica's admissions.
		q, err := r.cfg.State.Advance(ctx, string(sale.ID), 0, started, false)
		if err != nil {
			return false, err
		}
		r.mu.Lock()
		r.sale, r.soldOut, r.carry, r.q = sale.ID, q.SoldOut, 0, q
		r.history = []sample{{at: now, head: q.Head, tail: q.Tail, used: q.Used}}
		r.mu.Unlock()
		r.waiters.forget()
	}
	r.mu.Lock()
	r.remaining = remaining
	soldOut := started && remaining == 0
	var n int64
	cut := false
	if started && !soldOut && !r.cfg.QueueOnly {
		r.carry += r.ctrl.Rate() * dt.Seconds()
		n = int64(r.carry)
		// Inventory: stop admitting while the unused admissions of the
		// last window outnumber k × the units left.
		room := int64(r.cfg.StockFactor*float64(remaining)) - r.outstanding(now)
		if n > room { // what the rate allowed beyond it is not owed later
			n, r.carry, cut = max(0, room), float64(max(0, room)), true
		}
		r.carry -= float64(n)
	}
	r.mu.Unlock()
	q, err := r.cfg.State.Advance(ctx, string(sale.ID), n, started, soldOut)
	if err != nil {
		return false, err
	}
	r.mu.Lock()
	prev := r.q
	r.q = q
	r.soldOut = q.SoldOut
	r.history = append(r.history, sample{at: now, head: q.Head, tail: q.Tail, used: q.Used})
	old := 0
	for old < len(r.history)-2 && now.Sub(r.history[old].at) > max(r.cfg.Window, time.Minute) {
		old++
	}
	r.history = r.history[old:]
	r.mu.Unlock()
	r.metrics.observe(prev, q, now, r)
	switch {
	case q.SoldOut || (q.Started && !prev.Started):
		r.waiters.wakeAll()
	case q.Head > prev.Head:
		r.waiters.release(q.Head, now, spread)
	}
	return started && !q.SoldOut && !cut && !r.cfg.QueueOnly && q.Waiting() > 0, nil
}

// outstanding is how many admissions of the last Window have not placed
// an order yet; r.mu must be held.
func (r *Room) outstanding(now time.Time) int64 {
	if len(r.history) == 0 {
		return 0
	}
	last := r.history[len(r.history)-1]
	first := r.history[0]
	for _, s := range r.history {
		if now.Sub(s.at) <= r.cfg.Window {
			first = s
			break
		}
	}
	return max(0, (last.head-first.head)-(last.used-first.used))
}

// stock returns the units left of the sale's products, reading the store.
func (r *Room) stock(ctx context.Context, sale souq.Sale) (int, error) {
	ids := make([]souq.ID, 0, len(sale.Prices))
	for id := range sale.Prices {
		ids = append(ids, id)
	}
	stocks, err := r.cfg.Stocks(ctx, ids)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, n := range stocks {
		total += max(0, n)
	}
	return total, nil
}

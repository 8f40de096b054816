package dashboard

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// hub computes one event frame per tick and hands it to every connected
// stream. Its goroutine (run) is started by the first stream to join and
// returns at the first tick with no stream left, or when the dashboard
// closes; close waits for it.
type hub struct {
	d *Dashboard

	mu       sync.Mutex // guards the fields below
	subs     map[chan []byte]struct{}
	running  bool
	closed   bool
	latest   []byte    // the last frame published
	latestAt time.Time // when, by the monotonic clock

	wg sync.WaitGroup // the run goroutine
}

func newHub(d *Dashboard) *hub {
	return &hub{d: d, subs: map[chan []byte]struct{}{}}
}

// join subscribes a stream. Frames arrive on the returned channel, which
// holds one frame: a frame not taken before the next is replaced by it.
// A new stream gets the latest frame at once when it is less than one
// interval old; otherwise the broadcaster is computing the first one.
// leave must be called when the stream ends. ok is false once the
// dashboard is closed.
func (h *hub) join() (frames <-chan []byte, leave func(), ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, false
	}
	ch := make(chan []byte, 1)
	if h.latest != nil && time.Since(h.latestAt) < h.d.interval {
		ch <- h.latest
	}
	h.subs[ch] = struct{}{}
	if !h.running {
		h.running = true
		h.wg.Add(1)
		go h.run()
	}
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}, true
}

// close refuses new streams and waits for the broadcaster to return; the
// dashboard's closing channel must already be closed.
func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.wg.Wait()
}

func (h *hub) run() {
	defer h.wg.Done()
	t := time.NewTicker(h.d.interval)
	defer t.Stop()
	for {
		if !h.publish(h.d.frame()) {
			return
		}
		select {
		case <-t.C:
		case <-h.d.closing:
			h.mu.Lock()
			h.running = false
			h.mu.Unlock()
			return
		}
	}
}

// publish hands frame to every stream; with none left it marks the
// broadcaster stopped and returns false.
func (h *hub) publish(frame []byte) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) == 0 {
		h.running = false
		h.latest = nil
		return false
	}
	h.latest, h.latestAt = frame, time.Now()
	for ch := range h.subs {
		select {
		case ch <- frame:
		default: // the stream has not taken the last one: replace it
			select {
			case <-ch:
			default:
			}
			select {
			case ch <- frame:
			default:
			}
		}
	}
	return true
}

// unavailableFrame tells the page the figures cannot be read just now.
var unavailableFrame = []byte("event: unavailable\ndata: {\"detail\":\"the figures are unavailable just now; retrying\"}\n\n")

// frame computes the next event: a "snapshot" with the Update, or an
// "unavailable" when the figures cannot be read.
func (d *Dashboard) frame() []byte {
	ctx, cancel := context.WithTimeout(d.ctx, computeTimeout)
	defer cancel()
	u, err := d.update(ctx)
	if err != nil {
		return unavailableFrame
	}
	data, err := json.Marshal(u)
	if err != nil {
		d.log.Error("encode dashboard update", "err", err)
		return unavailableFrame
	}
	frame := make([]byte, 0, len(data)+32)
	frame = append(frame, "event: snapshot\ndata: "...)
	frame = append(frame, data...)
	return append(frame, "\n\n"...)
}

package dashboard

import (
	"errors"
	"net/http"
	"time"
)

// Stream framing: the reconnection delay the browser should use, and the
// heartbeat comment that keeps proxies from closing an idle stream.
var (
	retryFrame     = []byte("retry: 3000\n\n")
	heartbeatFrame = []byte(": heartbeat\n\n")
)

// handleEvents streams Server-Sent Events: "snapshot" events with an
// Update every interval (the first at once), "unavailable" events while
// the figures cannot be read, and a heartbeat comment. It returns when the
// client goes away, a write fails or times out, or the dashboard closes.
func (d *Dashboard) handleEvents() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		frames, leave, ok := d.hub.join()
		if !ok {
			w.Header().Set("Retry-After", "5")
			writeProblem(w, r, http.StatusServiceUnavailable, "", "the server is shutting down")
			return
		}
		defer leave()

		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
		w.WriteHeader(http.StatusOK)

		rc := http.NewResponseController(w)
		write := func(b []byte) bool {
			// The server's WriteTimeout counts from the request; move the
			// deadline with each write so only a stuck client times out.
			if err := rc.SetWriteDeadline(time.Now().Add(writeWindow)); err != nil && !errors.Is(err, http.ErrNotSupported) {
				return false
			}
			if _, err := w.Write(b); err != nil {
				return false
			}
			return rc.Flush() == nil
		}
		if !write(retryFrame) {
			return
		}
		beat := time.NewTicker(d.heartbeat)
		defer beat.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-d.closing:
				return
			case f := <-frames:
				if !write(f) {
					return
				}
			case <-beat.C:
				if !write(heartbeatFrame) {
					return
				}
			}
		}
	})
}

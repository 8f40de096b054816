package dashboard

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// event is one Server-Sent Event.
type event struct{ name, data string }

// stream opens /dashboard/events on srv and sends its events on the
// returned channel until ctx ends or the stream does (then it closes the
// channel).
func stream(t *testing.T, ctx context.Context, url string) (*http.Response, <-chan event) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/dashboard/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	events := make(chan event, 100)
	go func() {
		defer close(events)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(nil, 1<<20)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" || ev.data != "" {
					events <- ev
				}
				ev = event{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			case strings.HasPrefix(line, ":"):
				events <- event{name: "comment", data: line}
			}
		}
	}()
	return res, events
}

// next returns the next event called name, failing after timeout.
func next(t *testing.T, events <-chan event, name string, timeout time.Duration) event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("the stream ended before a %q event", name)
			}
			if ev.name == name {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %q event within %v", name, timeout)
		}
	}
}

func TestEventsPushSnapshots(t *testing.T) {
	_, _, h := newTest(t, func(d *Deps) { d.Interval = 100 * time.Millisecond })
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	res, events := stream(t, ctx, srv.URL)
	for k, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-store"} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
	start := time.Now()
	for i := range 2 {
		ev := next(t, events, "snapshot", 3*time.Second)
		var u Update
		if err := json.Unmarshal([]byte(ev.data), &u); err != nil {
			t.Fatalf("event %d: decode: %v", i, err)
		}
		if diff := cmp.Diff(sampleSnapshot(), u.Snapshot); diff != "" {
			t.Errorf("event %d: snapshot differs (-want +got):\n%s", i, diff)
		}
		if u.Health == nil || !cmp.Equal(*u.Health, sampleHealth) {
			t.Errorf("event %d: health %+v, want %+v", i, u.Health, sampleHealth)
		}
		if diff := cmp.Diff(sampleNames, u.Names); diff != "" {
			t.Errorf("event %d: names differ (-want +got):\n%s", i, diff)
		}
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("two events took %v at a 100ms interval", took)
	}
}

func TestEventsFirstUpdateAtOnce(t *testing.T) {
	_, _, h := newTest(t, func(d *Deps) { d.Interval = time.Hour })
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, events := stream(t, ctx, srv.URL)
	next(t, events, "snapshot", 2*time.Second)

	// A second client joining a running broadcaster gets the latest
	// update at once too, not at the next tick.
	_, events2 := stream(t, ctx, srv.URL)
	next(t, events2, "snapshot", 2*time.Second)
}

func TestEventsHeartbeat(t *testing.T) {
	d, _, h := newTest(t, func(d *Deps) { d.Interval = time.Hour })
	d.heartbeat = 50 * time.Millisecond
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, events := stream(t, ctx, srv.URL)
	next(t, events, "comment", 2*time.Second)
	next(t, events, "comment", 2*time.Second)
}

// hubRunning reports whether the broadcaster goroutine is running.
func hubRunning(d *Dashboard) bool {
	d.hub.mu.Lock()
	defer d.hub.mu.Unlock()
	return d.hub.running
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 3s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEventsStopWhenClientLeaves(t *testing.T) {
	// interval is long, so nothing is written after the client leaves:
	// only the request's context can end the handler.
	for _, interval := range []time.Duration{time.Hour, 50 * time.Millisecond} {
		t.Run(interval.String(), func(t *testing.T) {
			d, src, h := newTest(t, func(d *Deps) { d.Interval = interval })
			returned := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h.ServeHTTP(w, r)
				if r.URL.Path == "/dashboard/events" {
					close(returned)
				}
			}))
			defer srv.Close()

			ctx, cancel := context.WithCancel(context.Background())
			_, events := stream(t, ctx, srv.URL)
			next(t, events, "snapshot", 2*time.Second)
			if !hubRunning(d) {
				t.Fatal("no broadcaster while a client is connected")
			}
			cancel()
			select {
			case <-returned:
			case <-time.After(3 * time.Second):
				t.Fatal("the handler did not return after the client left")
			}
			if interval > time.Second {
				return // the broadcaster notices at its next tick
			}
			eventually(t, "the broadcaster stops", func() bool { return !hubRunning(d) })
			calls := src.calls.Load()
			time.Sleep(6 * interval)
			if got := src.calls.Load(); got != calls {
				t.Errorf("%d snapshots computed with nobody connected", got-calls)
			}
		})
	}
}

func TestEventsShareOneComputation(t *testing.T) {
	const interval = 100 * time.Millisecond
	_, src, h := newTest(t, func(d *Deps) { d.Interval = interval })
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	const clients = 5
	start := time.Now()
	var streams []<-chan event
	for range clients {
		_, events := stream(t, ctx, srv.URL)
		streams = append(streams, events)
	}
	for _, events := range streams {
		for range 5 {
			next(t, events, "snapshot", 3*time.Second)
		}
	}
	ticks := int64(time.Since(start)/interval) + 2
	if got := src.calls.Load(); got > ticks {
		t.Errorf("%d snapshots computed for %d clients over %d ticks; want one a tick", got, clients, ticks)
	}
}

// The server's WriteTimeout counts from the request, so a stream must
// move the write deadline itself or it dies after WriteTimeout.
func TestEventsOutliveWriteTimeout(t *testing.T) {
	_, _, h := newTest(t, func(d *Deps) { d.Interval = 50 * time.Millisecond })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, events := stream(t, ctx, "http://"+ln.Addr().String())
	start := time.Now()
	for time.Since(start) < time.Second {
		next(t, events, "snapshot", time.Second)
	}
}

func TestEventsUnavailable(t *testing.T) {
	_, src, h := newTest(t, func(d *Deps) { d.Interval = 50 * time.Millisecond })
	src.fail(errStore)
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, events := stream(t, ctx, srv.URL)
	ev := next(t, events, "unavailable", 2*time.Second)
	if strings.Contains(ev.data, errStore.Error()) {
		t.Errorf("the event shows the internal error: %s", ev.data)
	}
	src.fail(nil)
	next(t, events, "snapshot", 2*time.Second)
}

func TestCloseEndsStreams(t *testing.T) {
	d, _, h := newTest(t, func(d *Deps) { d.Interval = 50 * time.Millisecond })
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, events := stream(t, ctx, srv.URL)
	next(t, events, "snapshot", 2*time.Second)

	done := make(chan struct{})
	go func() { d.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close did not return")
	}
	timeout := time.After(3 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-events:
		case <-timeout:
			t.Fatal("the stream is still open after Close")
		}
	}
	if hubRunning(d) {
		t.Error("the broadcaster still runs after Close")
	}
	res := get(t, h, "/dashboard/events")
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a stream opened after Close: status %d, want 503", res.StatusCode)
	}
}

// With Close registered, a graceful shutdown does not wait for open
// streams to end by themselves.
func TestShutdownWithOpenStream(t *testing.T) {
	d, _, h := newTest(t, func(d *Deps) { d.Interval = 50 * time.Millisecond })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	srv.RegisterOnShutdown(d.Close)
	go func() { _ = srv.Serve(ln) }()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, events := stream(t, ctx, "http://"+ln.Addr().String())
	next(t, events, "snapshot", 2*time.Second)

	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	start := time.Now()
	if err := srv.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown: %v after %v", err, time.Since(start))
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("shutdown took %v", took)
	}
}

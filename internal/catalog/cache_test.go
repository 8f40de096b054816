package catalog

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

func TestStaleCache(t *testing.T) {
	c := staleCache[string, int]{ttl: time.Second, stale: time.Second, max: 10}
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	check := func(what string, at time.Duration, gen uint64, wantV int, wantOK, wantRefresh bool) {
		t.Helper()
		v, ok, refresh := c.get("k", gen, t0.Add(at))
		if v != wantV || ok != wantOK || refresh != wantRefresh {
			t.Errorf("%s: got (%d, %t, %t), want (%d, %t, %t)", what, v, ok, refresh, wantV, wantOK, wantRefresh)
		}
	}
	check("empty", 0, 1, 0, false, false)
	c.put("k", 1, 7, t0)
	check("fresh", 500*time.Millisecond, 1, 7, true, false)
	check("another generation", 500*time.Millisecond, 2, 0, false, false)
	check("stale: the first caller refreshes", 1500*time.Millisecond, 1, 7, true, true)
	check("stale: the others are served", 1600*time.Millisecond, 1, 7, true, false)
	c.unmark("k")
	check("after a failed refresh another caller refreshes", 1700*time.Millisecond, 1, 7, true, true)
	check("past the stale time", 2500*time.Millisecond, 1, 0, false, false)
	c.put("k", 1, 8, t0.Add(2500*time.Millisecond))
	check("refreshed", 3*time.Second, 1, 8, true, false)
	for i := range 10 { // the bound starts the cache afresh
		c.put(string(rune('a'+i)), 1, i, t0)
	}
	check("after the cache filled up", 3*time.Second, 1, 0, false, false)
}

// TestStaleCacheFetch: a miss loads now; a stale value is served while a
// single background load replaces it; a failed load caches nothing.
func TestStaleCacheFetch(t *testing.T) {
	c := staleCache[string, int]{ttl: time.Hour, stale: time.Hour, max: 10, log: slog.New(slog.DiscardHandler)}
	loads := make(chan int, 10)
	load := func(v int, err error) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { loads <- v; return v, err }
	}
	if _, err := c.fetch(t.Context(), "k", 1, load(0, errors.New("down"))); err == nil {
		t.Fatal("a failed load: got nil error")
	}
	<-loads
	if v, err := c.fetch(t.Context(), "k", 1, load(7, nil)); err != nil || v != 7 {
		t.Fatalf("a miss: got %d, %v; want 7 loaded now", v, err)
	}
	<-loads
	// Age the entry past its fresh time.
	c.mu.Lock()
	c.entries["k"].freshUntil = time.Now().Add(-time.Minute)
	c.mu.Unlock()
	// The background load waits for release, so every fetch below finds
	// the stale value whatever the scheduling.
	release := make(chan struct{})
	slow := func(context.Context) (int, error) {
		loads <- 8
		<-release
		return 8, nil
	}
	for range 3 {
		if v, err := c.fetch(t.Context(), "k", 1, slow); err != nil || v != 7 {
			t.Fatalf("a stale value: got %d, %v; want 7 served", v, err)
		}
	}
	if got := <-loads; got != 8 {
		t.Fatalf("background load: got %d", got)
	}
	close(release)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if v, _, _ := c.get("k", 1, time.Now()); v == 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background load's value was never kept")
		}
	}
	if len(loads) != 0 {
		t.Errorf("stale fetches started %d more loads, want 1 in all", len(loads)+1)
	}
}

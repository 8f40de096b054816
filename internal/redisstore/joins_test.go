package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/souq-commerce/souq/internal/souq"
)

// TestJoinsWaitingAreBounded: while a pipeline of joins is stuck (a Redis
// that accepts and never answers), joins wait for the next one only up to
// a bound; beyond it a join is answered unavailable at once.
func TestJoinsWaitingAreBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	var mu sync.Mutex
	var held []net.Conn
	conns.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	})
	client := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), MaxRetries: -1, ReadTimeout: time.Minute, WriteTimeout: time.Minute})
	b := &joinBatcher{client: client, script: wrJoinScript, count: func() {}, maxPending: 2}
	ctx, cancel := context.WithCancel(t.Context())
	results := make(chan error, 3)
	join := func() { _, err := b.do(ctx, []string{"q", "v", "d"}, []any{"visitor"}); results <- err }
	waitPending := func(n int, running bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			b.mu.Lock()
			ok := len(b.pending) == n && b.running == running
			b.mu.Unlock()
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("never %d joins pending", n)
			}
		}
	}
	go join()
	waitPending(0, true) // the first is in its pipeline, stuck
	go join()
	go join()
	waitPending(2, true)
	if _, err := b.do(ctx, []string{"q", "v", "d"}, []any{"visitor"}); !errors.Is(err, souq.ErrUnavailable) {
		t.Errorf("a join beyond the bound: %v, want ErrUnavailable", err)
	}
	cancel()
	for range 3 {
		if err := <-results; !errors.Is(err, context.Canceled) {
			t.Errorf("a waiting join whose context ended: %v, want %v", err, context.Canceled)
		}
	}
	ln.Close()
	mu.Lock()
	for _, c := range held {
		c.Close()
	}
	mu.Unlock()
	conns.Wait()
	waitPending(0, false) // the sender ends: the stuck pipeline fails, the rest are dropped
	client.Close()
}

// TestJoinsLoadTheirScript: a Redis that does not know the join script
// (restarted, failed over to a replica that never saw it) refuses the
// pipeline's calls with NOSCRIPT; the script is loaded and the refused
// joins sent again, once, and the caller sees only its place.
func TestJoinsLoadTheirScript(t *testing.T) {
	s := openTest(t, Options{})
	prefix := "wr-" + randomPrefix()
	t.Cleanup(func() { deleteKeys(t, s, "{"+prefix+":*") })
	w := NewWaitingRoom(s, prefix)
	// The same script under a SHA no server has seen: flushing the shared
	// server's scripts would pull them from under other tests.
	w.joins.script = redis.NewScript("-- " + prefix + "\n" + wrJoinLua)
	var trips int
	w.joins.count = func() { trips++ }
	start := time.Now().Add(-time.Minute)
	for i, want := range []int{2, 1} { // refused and sent again; then known
		trips = 0
		p, _, err := w.Join(t.Context(), "sale_1", fmt.Sprint("visitor-", i), 0, time.Now(), start, time.Minute)
		if err != nil {
			t.Fatalf("join %d: %v", i+1, err)
		}
		if p.Position != int64(i+1) {
			t.Errorf("join %d: position %d, want %d", i+1, p.Position, i+1)
		}
		if trips != want {
			t.Errorf("join %d: %d pipelines, want %d", i+1, trips, want)
		}
	}
}

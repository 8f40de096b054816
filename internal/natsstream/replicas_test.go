package natsstream

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// Processes that open one durable share its messages, and binding to it
// again does not start it over.
func testSharedConsumer(t *testing.T, o Options) {
	s := openStream(t, o)
	const n = 60
	for i := range n {
		_, err := s.Publish(t.Context(), testEvent(i))
		must(t, "Publish", err)
	}
	c1, err := s.Consumer(t.Context(), "processor")
	must(t, "Consumer", err)
	c2, err := s.Consumer(t.Context(), "processor")
	must(t, "Consumer again", err)
	seen := map[uint64]int{}
	deadline := time.Now().Add(15 * time.Second)
	for len(seen) < n && time.Now().Before(deadline) {
		for _, c := range []*Consumer{c1, c2} {
			msgs, err := c.Fetch(t.Context(), 7, 200*time.Millisecond)
			must(t, "Fetch", err)
			for _, m := range msgs {
				seen[m.Seq]++
			}
			must(t, "AckBatch", c.AckBatch(t.Context(), msgs))
		}
	}
	for seq := uint64(1); seq <= n; seq++ {
		if seen[seq] != 1 {
			t.Errorf("seq %d delivered %d times to the two, want once", seq, seen[seq])
		}
	}
	c3, err := s.Consumer(t.Context(), "processor")
	must(t, "Consumer after the acks", err)
	if p, err := c3.Pending(t.Context()); err != nil || p != 0 {
		t.Errorf("Pending of the durable bound again: got %d, %v; want 0 (it keeps its place)", p, err)
	}
	// A durable made to start elsewhere keeps its start when bound again.
	_, err = s.ConsumerFrom(t.Context(), "archiver", n-9)
	must(t, "ConsumerFrom", err)
	c4, err := s.Consumer(t.Context(), "archiver")
	must(t, "Consumer of a durable with a start sequence", err)
	if msgs := fetchAll(t, c4, 10); msgs[0].Seq != n-9 {
		t.Errorf("first delivery after binding: got seq %d, want %d", msgs[0].Seq, n-9)
	}
}

// Each Ephemeral consumer is a process's own: it delivers every message.
func testEphemeral(t *testing.T, o Options) {
	s := openStream(t, o)
	for i := range 5 {
		_, err := s.Publish(t.Context(), testEvent(i))
		must(t, "Publish", err)
	}
	a, err := s.Ephemeral(t.Context(), "processor-mem")
	must(t, "Ephemeral", err)
	b, err := s.Ephemeral(t.Context(), "processor-mem")
	must(t, "Ephemeral again", err)
	if a.name == b.name {
		t.Fatalf("two Ephemeral consumers share the name %s", a.name)
	}
	for _, c := range []*Consumer{a, b} {
		if got := seqs(fetchAll(t, c, 5)); len(got) != 5 || got[0] != 1 {
			t.Errorf("%s: got %v, want sequences 1 to 5", c.name, got)
		}
	}
}

// waitFor polls cond until it holds or 30 seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Of two callers of Lead, one runs at a time; the other takes over when
// the first stops.
func testLead(t *testing.T, o Options) {
	s := openStream(t, o)
	var running, most atomic.Int32
	leader := make(chan int, 2)
	ctxs := make([]context.Context, 2)
	cancels := make([]context.CancelFunc, 2)
	done := make(chan error, 2)
	for i := range 2 {
		ctxs[i], cancels[i] = context.WithCancel(t.Context())
		go func() {
			done <- s.Lead(ctxs[i], "archiver", func(ctx context.Context) {
				n := running.Add(1)
				defer running.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				leader <- i
				<-ctx.Done()
			})
		}()
	}
	var first int
	select {
	case first = <-leader:
	case <-time.After(30 * time.Second):
		t.Fatal("no leader after 30 s")
	}
	cancels[first]() // the leader stops and lets go
	select {
	case second := <-leader:
		if second == first {
			t.Errorf("caller %d led again after its context ended", first)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the other caller did not take over within 30 s")
	}
	cancels[1-first]()
	for range 2 {
		if err := <-done; err != nil {
			t.Errorf("Lead: got %v, want nil once its context ends", err)
		}
	}
	if m := most.Load(); m != 1 {
		t.Errorf("at most %d ran at once, want 1", m)
	}
}

// A holder whose lease another took (it stalled past the TTL) stops.
func testLeaseLost(t *testing.T, o Options) {
	s := openStream(t, o)
	var stopped atomic.Bool
	started := make(chan struct{})
	go s.Lead(t.Context(), "archiver", func(ctx context.Context) {
		close(started)
		<-ctx.Done()
		stopped.Store(true)
	})
	<-started
	kv, err := s.leases(t.Context())
	must(t, "leases", err)
	_, err = kv.Put(t.Context(), "archiver", []byte("another"))
	must(t, "Put", err)
	waitFor(t, "the holder to stop", stopped.Load)
}

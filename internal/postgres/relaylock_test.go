package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/relay"
)

// TestRelayTurn: while one process's relay holds the turn another's
// Exclusively does not run; once it is released, it does.
func TestRelayTurn(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	a, b := openTest(t, url, Options{}), openTest(t, url, Options{})
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := a.Exclusively(t.Context(), func(context.Context) error {
			close(inside)
			<-release
			return nil
		})
		done <- err
	}()
	select {
	case <-inside:
	case err := <-done:
		t.Fatalf("the first relay did not get the turn (err %v): another holds it", err)
	}
	ran, err := b.Exclusively(t.Context(), func(context.Context) error { return nil })
	if ran || err != nil {
		t.Errorf("while another relay has the turn: got ran %v, %v; want false, nil", ran, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ran, err = b.Exclusively(t.Context(), func(context.Context) error { return nil })
	if !ran || err != nil {
		t.Errorf("after the turn is released: got ran %v, %v; want true, nil", ran, err)
	}
}

// TestRelayTurnPerSchema: shops in different schemas of one database take
// turns only with their own replicas.
func TestRelayTurnPerSchema(t *testing.T) {
	t.Parallel()
	a, other := openTest(t, testURL(t), Options{}), openTest(t, testURL(t), Options{}) // each in a fresh schema
	ran, err := a.Exclusively(t.Context(), func(ctx context.Context) error {
		ran, err := other.Exclusively(ctx, func(context.Context) error { return nil })
		if !ran || err != nil {
			t.Errorf("a shop in another schema while this one's relay has the turn: ran %v, %v; want true, nil", ran, err)
		}
		return nil
	})
	if !ran || err != nil {
		t.Fatalf("Exclusively: ran %v, %v", ran, err)
	}
}

// recorder is a stream that records what it is given to publish.
type recorder struct {
	mu   sync.Mutex
	seen map[string]int
	seq  uint64
}

func (r *recorder) PublishRawBatch(ctx context.Context, msgs []natsstream.RawMsg) ([]natsstream.PublishResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]natsstream.PublishResult, len(msgs))
	for i, m := range msgs {
		r.seen[m.MsgID]++
		r.seq++
		out[i].Ack.Seq = r.seq
		out[i].Ack.Duplicate = r.seen[m.MsgID] > 1
	}
	return out, nil
}

func (r *recorder) DeadLetter(context.Context, string, []byte, string) error { return nil }

// TestRelaysOnOneOutbox: three relays, one per replica, drain one outbox
// of 2,000 events: every event is published once.
func TestRelaysOnOneOutbox(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	var replicas []*DB
	for range 3 {
		replicas = append(replicas, openTest(t, url, Options{MaxConns: 4}))
	}
	insertProduct(t, replicas[0], "prd_relay", 1_000_000)
	const n = 2000
	for i := range n {
		o, ev := testOrder(t, i, "prd_relay", 1)
		if err := replicas[i%3].CreateOrder(t.Context(), o, ev, nil); err != nil {
			t.Fatal(err)
		}
	}
	stream := &recorder{seen: map[string]int{}}
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for _, db := range replicas {
		r := relay.New(db, stream, relay.Options{Batch: 50, Interval: time.Millisecond})
		wg.Go(func() { _ = r.Run(ctx) })
	}
	deadline := time.Now().Add(time.Minute)
	for {
		left, err := replicas[0].PendingOutbox(t.Context(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the outbox was not drained within a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	wg.Wait()
	twice := 0
	for _, c := range stream.seen {
		if c > 1 {
			twice++
		}
	}
	if len(stream.seen) != n || twice != 0 {
		t.Errorf("got %d events published, %d of them more than once; want %d, each once", len(stream.seen), twice, n)
	}
}

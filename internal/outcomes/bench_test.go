package outcomes_test

import (
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/outcomes"
)

// BenchmarkRecord measures what counting costs a checkout: Records from
// parallel goroutines (16 per CPU, as many requests in flight), with a
// flush every millisecond taking the counters away from under them.
func BenchmarkRecord(b *testing.B) {
	st := outcomes.NewMemStore(time.Now)
	r := outcomes.NewRecorder(st, outcomes.Options{})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = r.Flush(b.Context())
			}
		}
	}()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Record(outcomes.KindOrder)
		}
	})
	b.StopTimer()
	close(stop)
	<-done
	if err := r.Flush(b.Context()); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	ms, err := st.Minutes(b.Context(), now.Add(-time.Hour), now.Add(time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	var sum outcomes.Counts
	for _, m := range ms {
		sum.Add(m.Counts)
	}
	if sum.Orders != int64(b.N) {
		b.Fatalf("orders stored: got %d, want %d", sum.Orders, b.N)
	}
}

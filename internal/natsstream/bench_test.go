package natsstream

import (
	"testing"

	"github.com/souq-commerce/souq/internal/souq"
)

// BenchmarkPublish measures publishing "Product Viewed" events into the
// embedded stream, one by one (each waits for its ack) and in batches of
// 100 (acks awaited together), with and without an fsync per message.
// It reports events/s; -benchtime sets the number of events.
func BenchmarkPublish(b *testing.B) {
	for _, sync := range []struct {
		name   string
		always bool
	}{{"lazy-sync", false}, {"sync-always", true}} {
		for _, mode := range []struct {
			name  string
			batch int
		}{{"one-by-one", 1}, {"batch-100", 100}} {
			b.Run(sync.name+"/"+mode.name, func(b *testing.B) {
				s := openStream(b, Options{StoreDir: b.TempDir(), MaxBytes: 1 << 30, SyncAlways: sync.always})
				events := make([]souq.Event, mode.batch)
				b.ReportAllocs()
				b.ResetTimer()
				for n := 0; n < b.N; n += mode.batch {
					events := events[:min(mode.batch, b.N-n)]
					for i := range events {
						events[i] = testEvent(n + i)
					}
					if mode.batch == 1 {
						if _, err := s.Publish(b.Context(), events[0]); err != nil {
							b.Fatalf("Publish: got error %v, want nil", err)
						}
						continue
					}
					if _, err := s.PublishBatch(b.Context(), events); err != nil {
						b.Fatalf("PublishBatch: got error %v, want nil", err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

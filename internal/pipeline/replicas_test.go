package pipeline

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/natsstream"
)

// droppingAcks is a consumer whose acknowledgements of its first messages
// never reach the server (a replica that died after applying them): the
// stream redelivers those messages, to whichever replica fetches next.
type droppingAcks struct {
	Consumer
	mu      sync.Mutex
	acks    int
	dropped int
}

func (c *droppingAcks) AckBatch(ctx context.Context, msgs []natsstream.Msg) error {
	c.mu.Lock()
	if len(msgs) > 0 {
		c.acks++
	}
	drop := c.acks == 1 && len(msgs) > 0
	if drop {
		c.dropped += len(msgs)
	}
	c.mu.Unlock()
	if drop {
		return nil
	}
	return c.Consumer.AckBatch(ctx, msgs)
}

// TestProcessorReplicas: three processors share the durable consumer and
// one hot store (as replicas share Redis); one loses its acknowledgements,
// so its messages reach another replica too. Every event counts once: the
// aggregates equal a recomputation from the stream.
func TestProcessorReplicas(t *testing.T) {
	const n, m = 900, 20
	r := newRig(t)
	r.placeOrders(m)
	r.publishBehaviour(n)
	last := r.lastSeq()
	store := analytics.NewMemStore()
	var procs []*Processor
	var lossy *droppingAcks
	for i := range 3 {
		agg, err := analytics.New(t.Context(), store, analytics.Config{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := r.stream.Consumer(t.Context(), "processor")
		if err != nil {
			t.Fatal(err)
		}
		var consumer Consumer = c
		if i == 0 {
			lossy = &droppingAcks{Consumer: c}
			consumer = lossy
		}
		p := NewProcessor(consumer, agg, r.stream, nil)
		procs = append(procs, p)
		defer run(t, p.Run)()
		if i == 0 {
			// The lossy replica must get a batch before the others start,
			// or they may take every message and leave it nothing to lose.
			waitFor(t, "the first replica's first batch, its acknowledgement lost", func() bool {
				lossy.mu.Lock()
				defer lossy.mu.Unlock()
				return lossy.dropped > 0
			})
		}
	}
	counted := func() (applied, dups uint64) {
		for _, p := range procs {
			st := p.Stats()
			applied, dups = applied+st.Applied, dups+st.Duplicates
		}
		return applied, dups
	}
	waitFor(t, "every event applied and the lost acknowledgements redelivered", func() bool {
		applied, dups := counted()
		lossy.mu.Lock()
		dropped := lossy.dropped
		lossy.mu.Unlock()
		return applied == last && dropped > 0 && dups >= uint64(dropped)
	})
	var recs []analytics.Record
	if err := r.stream.Read(t.Context(), 1, last, func(msg natsstream.Msg) error {
		ev, err := msg.Event()
		recs = append(recs, analytics.Record{Seq: msg.Seq, Event: ev})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	again, err := analytics.Recompute(t.Context(), analytics.Config{}, recs)
	if err != nil {
		t.Fatal(err)
	}
	want, err := again.Dump(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	reader, err := analytics.NewReader(store, analytics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := reader.Dump(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("shared aggregates differ from a recomputation (-recomputed +shared):\n%s", diff)
	}
	// Replicas each reading the whole stream would see every event three
	// times; sharing the durable, they see the redelivered ones twice.
	if _, dups := counted(); dups >= last {
		t.Errorf("duplicates: got %d for %d events, want only the redelivered ones: the durable was not shared", dups, last)
	}
}

// TestArchiverReplicas: three archivers, each with its own writer on one
// archive, take turns under the archiver lease; the leader is stopped
// twice while events keep arriving. The archive ends with every event
// exactly once and its manifests account for the whole stream.
func TestArchiverReplicas(t *testing.T) {
	r := newRig(t)
	type replica struct {
		arch *Archiver
		stop func()
		led  chan struct{}
	}
	start := func() *replica {
		rp := &replica{arch: r.archiver(archive.Options{MaxRows: 150}), led: make(chan struct{}, 100)}
		rp.stop = run(t, func(ctx context.Context) error {
			return r.stream.Lead(ctx, "archiver", func(ctx context.Context) {
				rp.led <- struct{}{}
				if err := rp.arch.Run(ctx); err != nil {
					t.Errorf("archiver: %v", err)
				}
			})
		})
		return rp
	}
	replicas := []*replica{start(), start(), start()}
	leader := func() *replica {
		for {
			for _, rp := range replicas {
				select {
				case <-rp.led:
					return rp
				default:
				}
			}
			waitFor(t, "a leader", func() bool {
				for _, rp := range replicas {
					if len(rp.led) > 0 {
						return true
					}
				}
				return false
			})
		}
	}
	total := 0
	for round := range 3 {
		r.publishBehaviour(400)
		total += 400
		l := leader()
		last := r.lastSeq()
		waitFor(t, "the leader to archive what was published", func() bool { return l.arch.Stats().LastSeq >= last-200 })
		if round < 2 {
			l.stop() // the leader goes away mid-stream; another takes over
			replicas = append(replicas, start())
		}
	}
	last := r.lastSeq()
	idx := archive.NewIndex(r.bucket)
	waitFor(t, "the archive to reach the end of the stream", func() bool {
		cov, err := idx.Coverage(t.Context())
		return err == nil && cov.LastSeq == last
	})
	for _, rp := range replicas {
		rp.stop()
	}
	records, err := archive.ReadAll(t.Context(), r.bucket, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, records, total)
	cov, err := idx.Coverage(t.Context())
	if err != nil || !cov.OK() {
		t.Errorf("coverage: got %+v, %v; want every sequence accounted for once", cov, err)
	}
}

package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/collector"
	"github.com/souq-commerce/souq/internal/fileblob"
	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/natstest"
	"github.com/souq-commerce/souq/internal/souq"
)

// streamPublisher gives the collector the stream.
type streamPublisher struct{ s *natsstream.Stream }

func (p streamPublisher) PublishBatch(ctx context.Context, evs []souq.Event) ([]error, error) {
	return p.s.PublishEvents(ctx, evs)
}

func (p streamPublisher) DeadLetter(ctx context.Context, reason string, raw []byte) error {
	return p.s.DeadLetter(ctx, "collector", raw, reason)
}

// loadResult is what the senders saw.
type loadResult struct {
	mu          sync.Mutex
	acked       []string // message ids of events in batches answered 200
	unavailable int      // 503 answers with a Retry-After
	other       []string // anything else
}

// sendLoad posts batches of Product Viewed events to the collector at url
// until ctx ends.
func sendLoad(ctx context.Context, url, writeKey string, sender int, res *loadResult) {
	markets := []string{"AE", "SA", "KW", "QA", "BH", "OM"}
	for n := 0; ctx.Err() == nil; n++ {
		var batch []map[string]any
		var ids []string
		for i := range 20 {
			id := fmt.Sprintf("evt_s%d_%06d_%02d", sender, n, i)
			ids = append(ids, id)
			batch = append(batch, map[string]any{
				"type": "track", "event": "Product Viewed", "messageId": id, "anonymousId": fmt.Sprintf("anon-%d", i),
				"timestamp":  time.Now().UTC().Format(time.RFC3339Nano),
				"properties": map[string]any{"product_id": fmt.Sprintf("prd_%d", (n+i)%40), "brand": "COSRX"},
				"context":    map[string]any{"market": markets[(n+i)%len(markets)]},
			})
		}
		body, _ := json.Marshal(map[string]any{"batch": batch})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/batch", bytes.NewReader(body))
		req.SetBasicAuth(writeKey, "")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue // the test is ending
		}
		resp.Body.Close()
		res.mu.Lock()
		switch {
		case resp.StatusCode == http.StatusOK:
			res.acked = append(res.acked, ids...)
		case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
			res.unavailable++
		default:
			res.other = append(res.other, resp.Status)
		}
		res.mu.Unlock()
	}
}

// TestClusterNodeLoss runs the collector, the processor and the archiver
// on a three-node JetStream cluster holding the stream in three replicas.
// Mid-load the stream's leader is stopped hard, then a second node, so the
// stream cannot take writes, and both come back. Every event the collector
// acknowledged is archived exactly once, the collector answered 503 with
// Retry-After while writes were impossible, and the aggregates equal a
// recount from the archive.
func TestClusterNodeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	cluster := natstest.Start(t, 3)
	var stream *natsstream.Stream
	deadline := time.Now().Add(60 * time.Second)
	for {
		var err error
		stream, err = natsstream.Open(t.Context(), natsstream.Options{URL: cluster.URL(), Replicas: 3, AckWait: 2 * time.Second})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("open an R3 stream on the cluster: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	defer stream.Close()

	const writeKey = "cluster-test-key"
	coll := collector.New(collector.Deps{Publisher: streamPublisher{stream}, DeadLetters: streamPublisher{stream},
		WriteKeys: []string{writeKey}, RatePerSecond: 1e6, Burst: 1e6})
	mux := http.NewServeMux()
	for _, rt := range coll.Routes() {
		mux.Handle(rt.Pattern, rt.Handler)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()

	store := analytics.NewMemStore()
	agg, err := analytics.New(t.Context(), store, analytics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := stream.Ephemeral(t.Context(), "processor-mem")
	if err != nil {
		t.Fatal(err)
	}
	proc := NewProcessor(pc, agg, stream, nil)
	bucket, err := fileblob.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	arch := NewArchiver(Durable(stream, "archiver"), archive.New(bucket, archive.Options{MaxAge: 200 * time.Millisecond}), stream, nil)
	stopProc := run(t, proc.Run)
	stopArch := run(t, func(ctx context.Context) error {
		return stream.Lead(ctx, "archiver", func(ctx context.Context) { _ = arch.Run(ctx) })
	})

	load, stopLoad := context.WithCancel(t.Context())
	res := &loadResult{}
	var senders sync.WaitGroup
	for i := range 4 {
		senders.Go(func() { sendLoad(load, srv.URL, writeKey, i, res) })
	}
	acked := func() int {
		res.mu.Lock()
		defer res.mu.Unlock()
		return len(res.acked)
	}
	waitFor(t, "load before the fault", func() bool { return acked() >= 2000 })
	leader := streamLeader(t, cluster)
	cluster.Stop(leader) // hard: no lame duck
	before := acked()
	waitFor(t, "writes through the loss of the stream's leader", func() bool { return acked() >= before+1000 })
	other := (leader + 1) % 3
	cluster.Stop(other) // one node of three left: no quorum
	waitFor(t, "503 answers while the stream cannot take writes", func() bool {
		res.mu.Lock()
		defer res.mu.Unlock()
		return res.unavailable > 0
	})
	cluster.Restart(leader)
	cluster.Restart(other)
	before = acked()
	waitFor(t, "writes after both nodes came back", func() bool { return acked() >= before+1000 })
	stopLoad()
	senders.Wait()

	// A publish the cluster stored while its answer was lost (a node
	// stopped mid-request) can land after the senders stopped: wait until
	// the stream's end has stayed put for a second and both the archive
	// and the processor have reached it, so that they stop having read
	// the same events. The processor's highest sequence is not enough: a
	// delivery lost with a node comes again only after the ack wait, after
	// newer ones, so its consumer must also have nothing pending.
	var last uint64
	var changed time.Time
	waitFor(t, "the archive and the processor to reach the end of a settled stream", func() bool {
		info, err := stream.Info(t.Context())
		if err != nil {
			return false
		}
		if changed.IsZero() || info.LastSeq != last {
			last, changed = info.LastSeq, time.Now()
		}
		if time.Since(changed) < time.Second || arch.Stats().LastSeq < last || proc.Stats().LastSeq < last {
			return false
		}
		pending, err := pc.Pending(t.Context())
		return err == nil && pending == 0
	})
	stopArch()
	stopProc()
	if a, p := arch.Stats().LastSeq, proc.Stats().LastSeq; a != p {
		t.Fatalf("the archive stopped at sequence %d and the processor at %d: the stream grew while they stopped", a, p)
	}

	records, err := archive.ReadAll(t.Context(), bucket, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range records {
		count[r.Event.MessageID]++
	}
	for id, n := range count {
		if n != 1 {
			t.Errorf("%s archived %d times, want once", id, n)
		}
	}
	res.mu.Lock()
	for _, id := range res.acked {
		if count[id] == 0 {
			t.Errorf("%s was acknowledged with a 200 but is not in the archive", id)
		}
	}
	if len(res.other) > 0 {
		t.Errorf("answers other than 200 and 503 with Retry-After: %v", res.other[:min(5, len(res.other))])
	}
	t.Logf("%d events acknowledged, %d archived, %d answers 503", len(res.acked), len(records), res.unavailable)
	res.mu.Unlock()

	var recs []analytics.Record
	for _, r := range records {
		recs = append(recs, analytics.Record{Seq: r.Seq, Event: r.Event})
	}
	again, err := analytics.Recompute(t.Context(), analytics.Config{}, recs)
	if err != nil {
		t.Fatal(err)
	}
	want, err := again.Dump(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got, err := agg.Dump(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("aggregates differ from a recount from the archive (-archive +live):\n%s", diff)
	}
}

// streamLeader returns the index of the node leading the events stream.
func streamLeader(t *testing.T, c *natstest.Cluster) int {
	t.Helper()
	for range 100 {
		for i := range 3 {
			s := c.Node(i)
			if s == nil {
				continue
			}
			if s.JetStreamIsStreamLeader("$G", natsstream.DefaultStream) {
				return i
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no leader for the events stream")
	return -1
}

package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/fileblob"
	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/pipelinetest"
	"github.com/souq-commerce/souq/internal/relay"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/sqlite"
)

// rig is the embedded pipeline on a fresh data directory.
type rig struct {
	t      *testing.T
	dir    string
	db     *sqlite.DB
	stream *natsstream.Stream
	bucket *fileblob.Dir

	behaviour int // behaviour events published so far
}

func newRig(t *testing.T) *rig {
	t.Helper()
	e := pipelinetest.Open(t, natsstream.Options{AckWait: time.Second})
	return &rig{t: t, dir: e.Dir, db: e.DB, stream: e.Stream, bucket: e.Bucket}
}

var t0 = time.Date(2026, 11, 28, 17, 58, 30, 0, time.UTC)

// placeOrders commits m orders through the store, each writing its outbox
// event, and relays the outbox to the stream.
func (r *rig) placeOrders(m int) {
	r.t.Helper()
	p := souq.Product{ID: "prd_serum", SKU: "BOJ-01", Slug: "glow-serum", Brand: "Beauty of Joseon", Category: "skincare",
		Name: souq.Localized{EN: "Glow Serum", AR: "سيروم"}, Prices: map[souq.MarketCode]int64{souq.KW: 7250}, Stock: 1000}
	if err := r.db.CreateProduct(r.t.Context(), p, "glow serum"); err != nil {
		r.t.Fatal(err)
	}
	for i := range m {
		at := t0.Add(time.Duration(i) * 7 * time.Second)
		o := souq.Order{ID: souq.ID(fmt.Sprintf("ord_test%04d", i)), Status: souq.StatusPlaced, Market: souq.KW, Currency: souq.KWD,
			Customer:        souq.Customer{Name: "Fatima", Email: "f@example.kw", Phone: "+96599887766"},
			ShippingAddress: souq.Address{Line1: "Block 3", Area: "Salmiya", City: "Salmiya", Country: souq.KW},
			Payment:         souq.Payment{Method: souq.PayCashOnDelivery}, CreatedAt: at, UpdatedAt: at,
			Lines: []souq.OrderLine{{ProductID: p.ID, SKU: p.SKU, Name: p.Name, Brand: p.Brand, Category: p.Category,
				Quantity: 2, UnitPrice: 7250, LineTotal: 14500}}, Total: 14500}
		ev, err := souq.NewOrderEvent(souq.EventOrderCompleted, o, at)
		if err != nil {
			r.t.Fatal(err)
		}
		if err := r.db.CreateOrder(r.t.Context(), o, ev, nil); err != nil {
			r.t.Fatal(err)
		}
	}
	rl := relay.New(r.db, r.stream, relay.Options{})
	for {
		n, err := rl.RunOnce(r.t.Context())
		if err != nil {
			r.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// publishBehaviour publishes n behaviour events, as the collector would.
func (r *rig) publishBehaviour(n int) {
	r.t.Helper()
	names := []string{analytics.EventProductViewed, analytics.EventProductViewed, analytics.EventProductAdded, analytics.EventCheckoutStarted}
	markets := []string{"AE", "SA", "KW", "QA", "BH", "OM"}
	var evs []souq.Event
	for i := r.behaviour; i < r.behaviour+n; i++ {
		props, _ := json.Marshal(map[string]any{"product_id": fmt.Sprintf("prd_%d", i%7), "brand": "COSRX", "category": "skincare", "quantity": 1 + i%2})
		ctx, _ := json.Marshal(map[string]any{"market": markets[i%len(markets)]})
		at := t0.Add(time.Duration(i) * 3 * time.Second) // spans an hour boundary
		evs = append(evs, souq.Event{MessageID: fmt.Sprintf("evt_b%05d", i), Type: "track", Event: names[i%len(names)],
			Timestamp: at, ReceivedAt: at, AnonymousID: fmt.Sprintf("anon-%d", i%13), Properties: props, Context: ctx})
	}
	r.behaviour += n
	for start := 0; start < len(evs); start += 100 {
		res, err := r.stream.PublishBatch(r.t.Context(), evs[start:min(start+100, len(evs))])
		if err != nil {
			r.t.Fatalf("publish: %v (%v)", err, res)
		}
	}
}

// run starts fn in a goroutine; the returned stop cancels it and waits.
func run(t *testing.T, fn func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := fn(ctx); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return func() { cancel(); wg.Wait() }
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rig) lastSeq() uint64 {
	r.t.Helper()
	info, err := r.stream.Info(r.t.Context())
	if err != nil {
		r.t.Fatal(err)
	}
	return info.LastSeq
}

func (r *rig) archiver(opt archive.Options) *Archiver {
	r.t.Helper()
	if opt.MaxAge == 0 {
		opt.MaxAge = 100 * time.Millisecond
	}
	return NewArchiver(Durable(r.stream, "archiver"), archive.New(r.bucket, opt), r.stream, nil)
}

// TestEndToEnd: N behaviour events and M orders give an archive of exactly
// N+M events and aggregates equal to a recomputation from the archive.
func TestEndToEnd(t *testing.T) {
	const n, m = 1500, 40
	r := newRig(t)
	r.placeOrders(m)
	r.publishBehaviour(n)
	last := r.lastSeq()
	if last != n+m {
		t.Fatalf("stream last seq: got %d, want %d", last, n+m)
	}

	agg, err := analytics.New(t.Context(), analytics.NewMemStore(), analytics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := r.stream.Consumer(t.Context(), "processor")
	if err != nil {
		t.Fatal(err)
	}
	proc := NewProcessor(pc, agg, r.stream, nil)
	arch := r.archiver(archive.Options{MaxRows: 400})
	reg := prometheus.NewRegistry()
	RegisterMetrics(reg, proc, arch, r.stream)
	stopProc, stopArch := run(t, proc.Run), run(t, arch.Run)
	waitFor(t, "the processor", func() bool { return proc.Stats().LastSeq == last })
	waitFor(t, "the archiver", func() bool { return arch.Stats().LastSeq == last })
	// The archiver counts a flushed file before it acknowledges the
	// file's messages; stopping it in between leaves them to be
	// redelivered, so wait for the acknowledgements too.
	waitFor(t, "archiver lag 0", func() bool { return metric(t, reg, "souq_pipeline_consumer_lag", "archiver") == 0 })
	stopProc()
	stopArch()
	waitFor(t, "lag 0", func() bool { return metric(t, reg, "souq_pipeline_consumer_lag", "processor") == 0 })
	for _, m := range []struct {
		name, label string
		want        float64
	}{
		{"souq_pipeline_events_applied_total", "", n + m},
		{"souq_archive_events_total", "", n + m},
		{"souq_pipeline_consumer_lag", "archiver", 0},
		{"souq_stream_messages", "", n + m},
		{"souq_dead_letters", "", 0},
		{"souq_archive_missing_total", "", 0},
		{"souq_pipeline_processing_seconds", "", n + m}, // the histogram's count
	} {
		if got := metric(t, reg, m.name, m.label); got != m.want {
			t.Errorf("%s{%s}: got %v, want %v", m.name, m.label, got, m.want)
		}
	}
	if files := metric(t, reg, "souq_archive_files_total", ""); files < 4 {
		t.Errorf("archive files: got %v, want at least 4 (batches of 400)", files)
	}

	records, err := archive.ReadAll(t.Context(), r.bucket, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, records, n+m)
	if got := proc.Stats(); got.Applied+got.Duplicates != n+m || got.DeadLettered != 0 {
		t.Errorf("processor stats: got %+v, want %d events seen, none dead-lettered", got, n+m)
	}
	// Events are applied a fetch at a time: at least one fetch per
	// ProcessorBatch events, at most one per event.
	if got := proc.Stats().Batches; got < (n+m+ProcessorBatch-1)/ProcessorBatch || got > n+m {
		t.Errorf("processor batches: got %d for %d events, want %d to %d", got, n+m, (n+m+ProcessorBatch-1)/ProcessorBatch, n+m)
	} else if m := metric(t, reg, "souq_pipeline_processor_batches_total", ""); m != float64(got) {
		t.Errorf("souq_pipeline_processor_batches_total: got %v, want %d", m, got)
	}

	var recs []analytics.Record
	for _, rec := range records {
		recs = append(recs, analytics.Record{Seq: rec.Seq, Event: rec.Event})
	}
	again, err := analytics.Recompute(t.Context(), analytics.Config{}, recs)
	if err != nil {
		t.Fatal(err)
	}
	live, err := agg.Dump(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want, err := again.Dump(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, live); diff != "" {
		t.Errorf("live aggregates differ from a recomputation from the archive (-recomputed +live):\n%s", diff)
	}
	snap, err := agg.Snapshot(t.Context(), t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if snap.Today.Orders != m {
		t.Errorf("orders today: got %d, want %d", snap.Today.Orders, m)
	}
}

// metric reads one gathered value: a gauge's or counter's value, or a
// histogram's sample count; label is the consumer label's value or "".
func metric(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if label != "" && (len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() != label) {
				continue
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	t.Fatalf("metric %s{%s} not found", name, label)
	return 0
}

func checkExactlyOnce(t *testing.T, records []archive.Record, want int) {
	t.Helper()
	seen := map[string]bool{}
	for _, rec := range records {
		if seen[rec.Event.MessageID] {
			t.Errorf("event %s archived twice", rec.Event.MessageID)
		}
		seen[rec.Event.MessageID] = true
	}
	if len(records) != want || len(seen) != want {
		t.Errorf("archived events: got %d (%d distinct), want %d", len(records), len(seen), want)
	}
}

// TestArchiverCrashBetweenFlushAndAck stops the archiver after a batch is
// committed but before its messages are acknowledged; a new archiver on the
// same archive and consumer gets them again and archives nothing twice.
func TestArchiverCrashBetweenFlushAndAck(t *testing.T) {
	const n = 500
	r := newRig(t)
	r.publishBehaviour(n)

	crashed := make(chan struct{})
	first := r.archiver(archive.Options{MaxRows: 300})
	first.afterFlush = func() error {
		select {
		case <-crashed:
		default:
			close(crashed)
		}
		return errors.New("injected crash after flush")
	}
	stop := run(t, first.Run)
	<-crashed
	stop()

	second := r.archiver(archive.Options{MaxRows: 300})
	stop = run(t, second.Run)
	waitFor(t, "the second archiver", func() bool { return second.Stats().LastSeq == n })
	stop()

	records, err := archive.ReadAll(t.Context(), r.bucket, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, records, n)
}

// TestArchiverRestartAfterDeadFetch: messages delivered to a fetch that died
// with an earlier archiver (here: fetched and never acknowledged) come back
// only after the ack wait, behind newer ones. A restarted archiver must
// still archive every event once: it reads the stream again from after its
// last committed sequence.
func TestArchiverRestartAfterDeadFetch(t *testing.T) {
	const n = 100
	r := newRig(t) // ack wait 1 s
	r.publishBehaviour(n / 2)
	first := r.archiver(archive.Options{})
	stop := run(t, first.Run)
	waitFor(t, "the first archiver", func() bool { return first.Stats().LastSeq == n/2 })
	stop()

	r.publishBehaviour(n / 2)
	dead, err := r.stream.ConsumerFrom(t.Context(), "archiver", n/2+1) // the durable as it was
	if err != nil {
		t.Fatal(err)
	}
	if msgs, err := dead.Fetch(t.Context(), 10, time.Second); err != nil || len(msgs) == 0 || msgs[0].Seq != n/2+1 {
		t.Fatalf("dead fetch: got %d messages (%v), want the ones after seq %d", len(msgs), err, n/2)
	}

	second := r.archiver(archive.Options{})
	stop = run(t, second.Run)
	waitFor(t, "the second archiver", func() bool { return second.Stats().LastSeq == n })
	time.Sleep(1500 * time.Millisecond) // past the ack wait: any old delivery is back
	stop()
	records, err := archive.ReadAll(t.Context(), r.bucket, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, records, n)
}

// TestProcessorRedeliveryIsIdempotent applies the stream with one consumer,
// then replays it all through a second consumer into the same aggregates:
// nothing changes.
func TestProcessorRedeliveryIsIdempotent(t *testing.T) {
	const n = 300
	r := newRig(t)
	r.placeOrders(10)
	r.publishBehaviour(n)
	last := r.lastSeq()
	agg, err := analytics.New(t.Context(), analytics.NewMemStore(), analytics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for i, durable := range []string{"processor", "processor-replay"} {
		c, err := r.stream.Consumer(t.Context(), durable)
		if err != nil {
			t.Fatal(err)
		}
		p := NewProcessor(c, agg, r.stream, nil)
		stop := run(t, p.Run)
		waitFor(t, durable, func() bool { return p.Stats().LastSeq == last })
		stop()
		st := p.Stats()
		if i == 1 && (st.Applied != 0 || st.Duplicates != last) {
			t.Errorf("replay: got %+v, want every event a duplicate", st)
		}
	}
}

// TestMalformedEventsAreDeadLettered: a message that is not an event, and
// an event the aggregates reject, go to the dead letters and are
// acknowledged; the rest is applied.
func TestMalformedEventsAreDeadLettered(t *testing.T) {
	r := newRig(t)
	if _, err := r.stream.PublishRaw(t.Context(), "souq.events.track.product_viewed", "bad-1", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	badQty, _ := json.Marshal(map[string]any{"product_id": "prd_1", "quantity": -4})
	if _, err := r.stream.Publish(t.Context(), souq.Event{MessageID: "bad-2", Type: "track", Event: analytics.EventProductAdded,
		Timestamp: t0, ReceivedAt: t0, AnonymousID: "a", Properties: badQty}); err != nil {
		t.Fatal(err)
	}
	r.publishBehaviour(10)
	agg, err := analytics.New(t.Context(), analytics.NewMemStore(), analytics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.stream.Consumer(t.Context(), "processor")
	if err != nil {
		t.Fatal(err)
	}
	p := NewProcessor(c, agg, r.stream, nil)
	stop := run(t, p.Run)
	waitFor(t, "the processor", func() bool { return p.Stats().LastSeq == 12 })
	stop()
	if st := p.Stats(); st.DeadLettered != 2 || st.Applied != 10 {
		t.Errorf("stats: got %+v, want 2 dead-lettered and 10 applied", st)
	}
	info, err := r.stream.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.DeadLetters != 2 {
		t.Errorf("dead letters in the stream: got %d, want 2", info.DeadLetters)
	}
	pending, err := c.Pending(t.Context())
	if err != nil || pending != 0 {
		t.Errorf("consumer pending: got %d, %v; want 0", pending, err)
	}
}

// TestProcessorDoesNotWaitForABatch: the processor takes what is pending
// without waiting for a full batch. Its consumer here hands one message
// to a fetch that does not wait, and holds every waiting fetch until the
// test ends: a processor that waited for a batch would never apply it.
func TestProcessorDoesNotWaitForABatch(t *testing.T) {
	r := newRig(t)
	r.publishBehaviour(1)
	c, err := r.stream.Consumer(t.Context(), "processor")
	if err != nil {
		t.Fatal(err)
	}
	agg, err := analytics.New(t.Context(), analytics.NewMemStore(), analytics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p := NewProcessor(&noWaiting{Consumer: c}, agg, r.stream, nil)
	defer run(t, p.Run)()
	waitFor(t, "the processor", func() bool { return p.Stats().LastSeq == 1 })
}

// noWaiting passes fetches that do not wait to its consumer and blocks
// those that do until their context ends.
type noWaiting struct{ *natsstream.Consumer }

func (c *noWaiting) Fetch(ctx context.Context, max int, wait time.Duration) ([]natsstream.Msg, error) {
	if wait > 0 {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return c.Consumer.Fetch(ctx, max, 0)
}

// losingConsumer drops the first half of the messages of its second fetch:
// they were delivered to the consumer but never reached the archiver, as
// when a fetch's deadline fires while the server is delivering (a busy
// machine). The stream redelivers them after the ack wait, behind newer
// messages.
type losingConsumer struct {
	Consumer
	fetches int
	lost    []uint64
}

func (c *losingConsumer) Fetch(ctx context.Context, max int, wait time.Duration) ([]natsstream.Msg, error) {
	msgs, err := c.Consumer.Fetch(ctx, max, wait)
	if err != nil || len(msgs) < 2 {
		return msgs, err
	}
	c.fetches++
	if c.fetches != 2 {
		return msgs, nil
	}
	half := len(msgs) / 2
	for _, m := range msgs[:half] {
		c.lost = append(c.lost, m.Seq)
	}
	return msgs[half:], nil
}

// TestArchiverLostDeliveryIsReadAgain: a delivery that never reaches the
// archiver must not become a hole behind a file that claims its range. The
// archiver sees the gap, reads the stream again from the missing sequence,
// and the archive ends with every event exactly once.
func TestArchiverLostDeliveryIsReadAgain(t *testing.T) {
	const n = 400
	r := newRig(t) // ack wait 1 s
	r.publishBehaviour(n)
	var lossy *losingConsumer
	open := func(ctx context.Context, from uint64) (Consumer, error) {
		c, err := r.stream.ConsumerFrom(ctx, "archiver", from)
		if err != nil {
			return nil, err
		}
		if lossy == nil { // only the first consumer loses deliveries
			lossy = &losingConsumer{Consumer: c}
			return &smallFetches{lossy}, nil
		}
		return c, nil
	}
	a := NewArchiver(open, archive.New(r.bucket, archive.Options{MaxAge: 50 * time.Millisecond}), r.stream, nil)
	stop := run(t, a.Run)
	waitFor(t, "the archiver", func() bool { return a.Stats().LastSeq == n })
	time.Sleep(1500 * time.Millisecond) // past the ack wait: the lost deliveries are back
	stop()
	if lossy == nil || len(lossy.lost) == 0 || a.Stats().Gaps == 0 {
		t.Fatal("no delivery was lost: the test did not exercise the gap")
	}
	if st := a.Stats(); st.Missing != 0 {
		t.Errorf("missing: got %d, want 0 (the stream held every event)", st.Missing)
	}
	records, err := archive.ReadAll(t.Context(), r.bucket, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, records, n)
}

// smallFetches fetches at most 50 messages at a time, so that the archive
// is fed in several fetches.
type smallFetches struct{ *losingConsumer }

func (c *smallFetches) Fetch(ctx context.Context, max int, wait time.Duration) ([]natsstream.Msg, error) {
	return c.losingConsumer.Fetch(ctx, min(max, 50), wait)
}

// TestArchiverRecordsWhatTheStreamNoLongerHolds: events that expired from
// the stream before the archiver reached them cannot be archived; the
// archiver records them as missing in the manifest (and counts them), and
// archives the rest.
func TestArchiverRecordsWhatTheStreamNoLongerHolds(t *testing.T) {
	e := pipelinetest.Open(t, natsstream.Options{AckWait: time.Second, MaxAge: 500 * time.Millisecond})
	r := &rig{t: t, dir: e.Dir, db: e.DB, stream: e.Stream, bucket: e.Bucket}
	r.publishBehaviour(10)
	waitFor(t, "the first events to expire", func() bool {
		info, err := r.stream.Info(t.Context())
		return err == nil && info.Msgs == 0
	})
	r.publishBehaviour(10)
	a := r.archiver(archive.Options{})
	stop := run(t, a.Run)
	waitFor(t, "the archiver", func() bool { return a.Stats().LastSeq == 20 })
	stop()
	if st := a.Stats(); st.Missing != 10 || st.Archived != 10 {
		t.Errorf("stats: got %d missing and %d archived, want 10 and 10", st.Missing, st.Archived)
	}
	batches, err := archive.Manifests(t.Context(), r.bucket)
	if err != nil {
		t.Fatal(err)
	}
	var missing []archive.SeqRange
	for _, b := range batches {
		if !b.Accounted() {
			t.Errorf("batch %d–%d does not account for its range", b.FirstSeq, b.LastSeq)
		}
		missing = append(missing, b.Missing...)
	}
	if want := []archive.SeqRange{{First: 1, Last: 10}}; !cmp.Equal(missing, want) {
		t.Errorf("missing in the manifests: got %v, want %v", missing, want)
	}
}

// TestArchiverRejectedTakeTheirPlace: a message that is not an event and
// an event the archive cannot store are dead-lettered once, even when
// delivered again before their batch is flushed, and the manifest
// lists their sequences as rejected, so the batch still accounts for its
// whole range and the events after them are archived.
func TestArchiverRejectedTakeTheirPlace(t *testing.T) {
	r := newRig(t)
	r.publishBehaviour(3)
	if _, err := r.stream.PublishRaw(t.Context(), "souq.events.track.product_viewed", "bad-1", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.stream.Publish(t.Context(), souq.Event{MessageID: "bad-2", Type: "track", Event: "Product Viewed", ReceivedAt: t0}); err != nil {
		t.Fatal(err) // no event time: the archive cannot partition it
	}
	r.publishBehaviour(3)
	// The batch waits past the ack wait (1 s): every pending message,
	// the rejected ones too, is delivered again before the flush.
	a := r.archiver(archive.Options{MaxAge: 2500 * time.Millisecond})
	stop := run(t, a.Run)
	waitFor(t, "the archiver", func() bool { return a.Stats().LastSeq == 8 })
	stop()
	if st := a.Stats(); st.DeadLettered != 2 || st.Archived != 6 {
		t.Errorf("stats: got %d dead-lettered and %d archived, want 2 and 6", st.DeadLettered, st.Archived)
	}
	batches, err := archive.Manifests(t.Context(), r.bucket)
	if err != nil {
		t.Fatal(err)
	}
	var rejected []uint64
	for _, b := range batches {
		rejected = append(rejected, b.Rejected...)
	}
	if cov := archive.Measure(batches); !cov.OK() || cov.LastSeq != 8 || !cmp.Equal(rejected, []uint64{4, 5}) {
		t.Errorf("coverage %+v, rejected %v; want every sequence to 8 accounted for, 4 and 5 rejected", cov, rejected)
	}
}

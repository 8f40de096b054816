package audit_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/souq-commerce/souq/internal/checkout"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/audit"
	"github.com/souq-commerce/souq/internal/fileblob"
	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/pipeline"
	"github.com/souq-commerce/souq/internal/pipelinetest"
	"github.com/souq-commerce/souq/internal/relay"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/sqlite"
)

// rig is the embedded pipeline on a fresh data directory, laid out as
// souq serve lays it out, after orders and behaviour events went through
// the relay and the archiver.
type rig struct {
	t      *testing.T
	dir    string
	db     *sqlite.DB
	stream *natsstream.Stream
	bucket *fileblob.Dir
	t0     time.Time // the first event's time
	now    time.Time // the rig's present: its events are in the 90 minutes before
	orders []souq.ID // in the order they were placed
}

const (
	nOrders    = 30
	nCancelled = 3
	nBehaviour = 600
	nEvents    = nOrders + nCancelled + nBehaviour
)

// options change how newRig builds the data.
type options struct {
	dupWindow time.Duration // the stream's duplicate window; 0 the default
	// beforeArchive runs after everything is published and before the
	// archiver runs.
	beforeArchive func(r *rig)
	// now places the rig in time: its events fall in the 90 minutes
	// before it; zero is time.Now.
	now time.Time
}

func newRig(t *testing.T, o options) *rig {
	t.Helper()
	e := pipelinetest.Open(t, natsstream.Options{AckWait: 5 * time.Second, DuplicateWindow: o.dupWindow, Listen: "127.0.0.1:0"})
	// Event times span the last 90 to 15 minutes, older than any grace
	// period the tests use, with nanoseconds, which the database and the
	// archive do not keep.
	now := o.now
	if now.IsZero() {
		now = time.Now()
	}
	r := &rig{t: t, dir: e.Dir, db: e.DB, stream: e.Stream, bucket: e.Bucket, now: now.UTC(),
		t0: now.UTC().Add(-90 * time.Minute).Truncate(time.Second).Add(123456789)}
	r.createProduct()
	for i := range nOrders {
		r.placeOrder(r.t0.Add(time.Duration(i) * 7 * time.Second))
	}
	for i := range nCancelled {
		r.cancelOrder(r.orders[i*7], r.t0.Add(20*time.Minute+time.Duration(i)*time.Second))
	}
	// Three archiver runs make at least three batches: the orders, then
	// each half of the behaviour events.
	r.relayAll()
	r.archiveAll()
	evs := behaviour("evt_b", nBehaviour, r.t0.Add(45*time.Minute)) // 600 × 3 s: the last 45 to 15 minutes
	r.publish(evs[:nBehaviour/2])
	r.archiveAll()
	r.publish(evs[nBehaviour/2:])
	if o.beforeArchive != nil {
		o.beforeArchive(r)
	}
	r.archiveAll()
	return r
}

var product = souq.Product{ID: "prd_serum", SKU: "BOJ-01", Slug: "glow-serum", Brand: "Beauty of Joseon", Category: "skincare",
	Name: souq.Localized{EN: "Glow Serum", AR: "سيروم"}, Prices: map[souq.MarketCode]int64{souq.KW: 7250}, Stock: 100000}

func (r *rig) createProduct() {
	r.t.Helper()
	if err := r.db.CreateProduct(r.t.Context(), product, "glow serum"); err != nil {
		r.t.Fatal(err)
	}
}

// placeOrder commits an order placed at at with its outbox event, as
// checkout does; the relay has not seen it yet.
func (r *rig) placeOrder(at time.Time) souq.ID {
	r.t.Helper()
	id := souq.NewID(souq.OrderPrefix)
	o := souq.Order{ID: id, Status: souq.StatusPlaced, Market: souq.KW, Currency: souq.KWD,
		Customer:        souq.Customer{Name: "Fatima", Email: "f@example.kw", Phone: "+96599887766"},
		ShippingAddress: souq.Address{Line1: "Block 3", Area: "Salmiya", City: "Salmiya", Country: souq.KW},
		Payment:         souq.Payment{Method: souq.PayCashOnDelivery}, CreatedAt: at, UpdatedAt: at, CompletedAt: &at,
		Lines: []souq.OrderLine{{ProductID: product.ID, SKU: product.SKU, Name: product.Name, Brand: product.Brand,
			Category: product.Category, Quantity: 2, UnitPrice: 7250, LineTotal: 14500}}, Total: 14500}
	ev, err := souq.NewOrderEvent(souq.EventOrderCompleted, o, at)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.db.CreateOrder(r.t.Context(), o, ev, nil); err != nil {
		r.t.Fatal(err)
	}
	r.orders = append(r.orders, id)
	return id
}

func (r *rig) cancelOrder(id souq.ID, at time.Time) {
	r.t.Helper()
	_, err := r.db.UpdateOrder(r.t.Context(), id, at, func(o *souq.Order) (checkout.OrderUpdate, error) {
		o.Status, o.CancelledAt = souq.StatusCancelled, &at
		ev, err := souq.NewOrderEvent(souq.EventOrderCancelled, *o, at)
		return checkout.OrderUpdate{Restock: true, Events: []souq.OutboxEvent{ev}}, err
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) relayAll() {
	r.t.Helper()
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

// behaviour returns n behaviour events starting at at, 3 seconds apart.
func behaviour(prefix string, n int, at time.Time) []souq.Event {
	names := []string{analytics.EventProductViewed, analytics.EventProductViewed, analytics.EventProductAdded, analytics.EventCheckoutStarted}
	markets := []string{"AE", "SA", "KW", "QA", "BH", "OM"}
	var evs []souq.Event
	for i := range n {
		props, _ := json.Marshal(map[string]any{"product_id": fmt.Sprintf("prd_%d", i%7), "brand": "COSRX", "category": "skincare", "quantity": 1 + i%2})
		ctx, _ := json.Marshal(map[string]any{"market": markets[i%len(markets)]})
		ts := at.Add(time.Duration(i) * 3 * time.Second)
		evs = append(evs, souq.Event{MessageID: fmt.Sprintf("%s%05d", prefix, i), Type: "track", Event: names[i%len(names)],
			Timestamp: ts, ReceivedAt: ts, AnonymousID: fmt.Sprintf("anon-%d", i%13), Properties: props, Context: ctx})
	}
	return evs
}

func (r *rig) publish(evs []souq.Event) {
	r.t.Helper()
	for chunk := range slices.Chunk(evs, 100) {
		if res, err := r.stream.PublishBatch(r.t.Context(), chunk); err != nil {
			r.t.Fatalf("publish: %v (%v)", err, res)
		}
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

// archiveAll runs the archiver until it has committed the whole stream.
func (r *rig) archiveAll() {
	r.t.Helper()
	arch := pipeline.NewArchiver(pipeline.Durable(r.stream, "archiver"), archive.New(r.bucket, archive.Options{MaxRows: 200, MaxAge: 100 * time.Millisecond}), r.stream, nil)
	ctx, cancel := context.WithCancel(r.t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := arch.Run(ctx); err != nil {
			r.t.Errorf("archiver: %v", err)
		}
	})
	defer func() { cancel(); wg.Wait() }()
	last := r.lastSeq()
	deadline := time.Now().Add(30 * time.Second)
	for arch.Stats().LastSeq < last {
		if time.Now().After(deadline) {
			r.t.Fatalf("archiver reached seq %d, want %d", arch.Stats().LastSeq, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rig) inputs() audit.Inputs {
	return audit.Inputs{Database: r.db, Stream: r.stream, Archive: r.bucket, Grace: audit.DefaultGrace}
}

// audit runs the audit over a range holding every event of the rig.
func (r *rig) audit(in audit.Inputs) audit.Report {
	r.t.Helper()
	to := time.Now()
	if r.now.After(to) {
		to = r.now
	}
	rep, err := audit.Run(r.t.Context(), in, r.t0.Add(-time.Hour), to.Add(time.Hour))
	if err != nil {
		r.t.Fatal(err)
	}
	return rep
}

func hop(t *testing.T, rep audit.Report, name string) audit.Hop {
	t.Helper()
	h, ok := rep.Hop(name)
	if !ok {
		t.Fatalf("report has no hop %q", name)
	}
	return h
}

// text renders the report, for failure messages.
func text(rep audit.Report) string {
	var b bytes.Buffer
	_ = rep.WriteText(&b)
	return b.String()
}

// checkIDs compares a list of ids (their first words) with want, sorted:
// the total, and the first MaxIDs.
func checkIDs(t *testing.T, what string, got audit.IDs, want []string) {
	t.Helper()
	if got.Total != len(want) {
		t.Errorf("%s: got %d ids, want %d", what, got.Total, len(want))
	}
	kept := want[:min(len(want), audit.MaxIDs)]
	if words := firstWords(got); !slices.Equal(words, kept) {
		t.Errorf("%s: got ids %q, want %q", what, words, kept)
	}
}

// firstWords returns each id with anything after its first space removed.
func firstWords(ids audit.IDs) []string {
	var out []string
	for _, s := range ids.IDs {
		w, _, _ := strings.Cut(s, " ")
		out = append(out, w)
	}
	return out
}

func TestCleanPipeline(t *testing.T) {
	t.Parallel()
	r := newRig(t, options{})
	rep := r.audit(r.inputs())
	if !rep.Clean() {
		t.Fatalf("got differences in a clean pipeline:\n%s", text(rep))
	}
	checks := []struct {
		hop, count string
		want       int
	}{
		{audit.HopOrdersOutbox, "orders", nOrders},
		{audit.HopOrdersOutbox, "cancellations", nCancelled},
		{audit.HopOrdersOutbox, "order event rows", nOrders + nCancelled},
		{audit.HopOutboxStream, "published", nOrders + nCancelled},
		{audit.HopOutboxStream, "stream order events", nOrders + nCancelled},
		{audit.HopStreamArchive, "stream messages", nEvents},
		{audit.HopStreamArchive, "archive records", nEvents},
		{audit.HopAggregates, "archive records", nEvents},
		{audit.HopAggregates, "stream messages", nEvents},
	}
	for _, c := range checks {
		if got := hop(t, rep, c.hop).Counts[c.count]; got != c.want {
			t.Errorf("%s count %q: got %d, want %d", c.hop, c.count, got, c.want)
		}
	}
	if h := hop(t, rep, audit.HopAggregates); h.Counts["archive cells"] == 0 || h.Counts["archive cells"] != h.Counts["stream cells"] {
		t.Errorf("aggregate cells: got %v, want the same non-zero number on both sides", h.Counts)
	}
	if h := hop(t, rep, audit.HopLive); !strings.Contains(h.Skipped, "live aggregates not compared") {
		t.Errorf("live hop without a URL: got skipped %q, want \"live aggregates not compared…\"", h.Skipped)
	}
	if out := text(rep); !strings.Contains(out, "Result: clean") || !strings.Contains(out, audit.HopStreamArchive+": ok") {
		t.Errorf("text report lacks the clean verdict:\n%s", out)
	}

	// A range that holds nothing is clean too, and counts nothing.
	empty, err := audit.Run(t.Context(), r.inputs(), r.t0.Add(-48*time.Hour), r.t0.Add(-47*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !empty.Clean() || hop(t, empty, audit.HopStreamArchive).Counts["stream messages"] != 0 {
		t.Errorf("empty range: got\n%s", text(empty))
	}

	// The temporary consumers are gone; the archiver's is untouched.
	nc, err := nats.Connect(r.stream.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(t.Context(), natsstream.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	lister := st.ConsumerNames(t.Context())
	for n := range lister.Name() {
		names = append(names, n)
	}
	if err := lister.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"archiver"}) {
		t.Errorf("consumers after two audits: got %q, want only the archiver's", names)
	}
}

func TestInvalidRange(t *testing.T) {
	t.Parallel()
	now := time.Now()
	_, err := audit.Run(t.Context(), audit.Inputs{}, now, now)
	if !errors.Is(err, audit.ErrInvalidRange) {
		t.Errorf("empty range: got %v, want ErrInvalidRange", err)
	}
}

// manifests returns the archive's committed batches.
func (r *rig) manifests() []archive.Batch {
	r.t.Helper()
	bs, err := archive.Manifests(r.t.Context(), r.bucket)
	if err != nil {
		r.t.Fatal(err)
	}
	if len(bs) < 3 {
		r.t.Fatalf("want at least 3 batches to damage one in the middle, got %d", len(bs))
	}
	return bs
}

// putManifest writes b's manifest in place of the one of the batch
// starting at b.FirstSeq.
func (r *rig) putManifest(b archive.Batch) {
	r.t.Helper()
	r.putManifestAt(fmt.Sprintf("events/_manifests/%020d.json", b.FirstSeq), b)
}

func (r *rig) putManifestAt(key string, b archive.Batch) {
	r.t.Helper()
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.bucket.Put(r.t.Context(), key, data); err != nil {
		r.t.Fatal(err)
	}
}

// fileIDs returns the message ids of an archive file.
func (r *rig) fileIDs(key string) []string {
	r.t.Helper()
	data, err := r.bucket.Get(r.t.Context(), key)
	if err != nil {
		r.t.Fatal(err)
	}
	recs, err := archive.ReadFile(data)
	if err != nil {
		r.t.Fatal(err)
	}
	var ids []string
	for _, rec := range recs {
		ids = append(ids, rec.Event.MessageID)
	}
	slices.Sort(ids)
	return ids
}

// TestDuplicatedArchiveFile copies a committed file into a second batch
// (its own manifest, under another sequence range): every event of the
// file is reported duplicated, by id, and nothing else.
func TestDuplicatedArchiveFile(t *testing.T) {
	t.Parallel()
	r := newRig(t, options{})
	b := r.manifests()[1]
	f := b.Files[0]
	data, err := r.bucket.Get(t.Context(), f.Key)
	if err != nil {
		t.Fatal(err)
	}
	copyKey := strings.Replace(f.Key, fmt.Sprintf("%020d-%020d", b.FirstSeq, b.LastSeq), fmt.Sprintf("%020d-%020d", b.FirstSeq, b.LastSeq-1), 1)
	if err := r.bucket.Put(t.Context(), copyKey, data); err != nil {
		t.Fatal(err)
	}
	dup := b
	dup.LastSeq, dup.Rows = b.LastSeq-1, f.Rows
	f.Key = copyKey
	dup.Files = []archive.File{f}
	// A second manifest from the same sequence can only be one named the
	// way earlier versions named them, by first and last sequence.
	r.putManifestAt(fmt.Sprintf("events/_manifests/%020d-%020d.json", dup.FirstSeq, dup.LastSeq), dup)

	rep := r.audit(r.inputs())
	h := hop(t, rep, audit.HopStreamArchive)
	want := r.fileIDs(copyKey)
	checkIDs(t, "duplicated", h.Duplicated, want)
	// Besides the duplicates, the copy's manifest overlaps the batch it
	// was copied from and does not account for its whole range.
	if rep.Clean() || rep.Differences() != len(want)+2 {
		t.Errorf("differences: got %d, want %d (the duplicates, an overlap and a short batch):\n%s", rep.Differences(), len(want)+2, text(rep))
	}
	if got := strings.Join(h.Mismatched.IDs, "\n"); !strings.Contains(got, "overlaps an earlier batch") || !strings.Contains(got, "does not account for its whole range") {
		t.Errorf("mismatched: got %q, want the overlap and the short batch", h.Mismatched.IDs)
	}
	if !strings.Contains(text(rep), "2 copies") {
		t.Errorf("text report does not say how many copies:\n%s", text(rep))
	}
}

// TestEventsMissingFromArchive loses the events of one file, either with
// its manifest entry or leaving the manifest to promise it: the events are
// reported missing by id, and the aggregates recomputed from the archive
// differ from those recomputed from the stream.
func TestEventsMissingFromArchive(t *testing.T) {
	t.Parallel()
	for _, keepEntry := range []bool{false, true} {
		t.Run(fmt.Sprintf("keep manifest entry %v", keepEntry), func(t *testing.T) {
			t.Parallel()
			r := newRig(t, options{})
			b := r.manifests()[1]
			lost := b.Files[0]
			want := r.fileIDs(lost.Key)
			if err := r.bucket.Delete(t.Context(), lost.Key); err != nil {
				t.Fatal(err)
			}
			if !keepEntry {
				b.Files = b.Files[1:]
				b.Rows -= lost.Rows
				r.putManifest(b)
			}

			rep := r.audit(r.inputs())
			h := hop(t, rep, audit.HopStreamArchive)
			checkIDs(t, "missing", h.Missing, want)
			wantBad := 1 // the rewritten manifest no longer accounts for its range
			if !keepEntry && (h.Mismatched.Total != 1 || !strings.Contains(h.Mismatched.IDs[0], "does not account for its whole range")) {
				t.Errorf("mismatched: got %q, want the short batch", h.Mismatched.IDs)
			}
			if keepEntry {
				wantBad = 1
				if h.Mismatched.Total != 1 || !strings.HasPrefix(h.Mismatched.IDs[0], lost.Key+": missing") {
					t.Errorf("mismatched: got %q, want %s reported missing", h.Mismatched.IDs, lost.Key)
				}
			}
			if got := h.Differences(); got != len(want)+wantBad {
				t.Errorf("stream → archive differences: got %d, want %d:\n%s", got, len(want)+wantBad, text(rep))
			}
			if agg := hop(t, rep, audit.HopAggregates); agg.Differences() == 0 {
				t.Errorf("aggregates without %d events compare equal:\n%s", len(want), text(rep))
			}
			if rep.Clean() {
				t.Error("report is clean")
			}
		})
	}
}

// TestUnpublishedOutbox: orders whose outbox rows the relay has not
// published are pending within the grace period (clean) and stalled after
// it (a difference).
func TestUnpublishedOutbox(t *testing.T) {
	t.Parallel()
	r := newRig(t, options{})
	old := r.placeOrder(time.Now().Add(-10 * time.Minute))
	fresh := r.placeOrder(time.Now())
	ids := r.outboxIDs()

	rep := r.audit(r.inputs())
	h := hop(t, rep, audit.HopOutboxStream)
	if got := firstWords(h.Stalled); !slices.Equal(got, []string{ids[old]}) {
		t.Errorf("stalled: got %q, want the old order's event %s", got, ids[old])
	}
	if got := firstWords(h.Pending); !slices.Equal(got, []string{ids[fresh]}) {
		t.Errorf("pending: got %q, want the fresh order's event %s", got, ids[fresh])
	}
	if rep.Differences() != 1 || h.Counts["unpublished"] != 2 {
		t.Errorf("got %d differences and %d unpublished, want 1 and 2:\n%s", rep.Differences(), h.Counts["unpublished"], text(rep))
	}

	in := r.inputs()
	in.Grace = time.Hour
	if rep := r.audit(in); !rep.Clean() || hop(t, rep, audit.HopOutboxStream).Pending.Total != 2 {
		t.Errorf("with a grace period of an hour: got\n%s\nwant clean with 2 pending", text(rep))
	}
}

// outboxIDs maps each order to its Order Completed event id.
func (r *rig) outboxIDs() map[souq.ID]string {
	r.t.Helper()
	_, rows, err := r.db.OrdersAndOutboxBetween(r.t.Context(), time.Time{}, time.Now().Add(time.Hour))
	if err != nil {
		r.t.Fatal(err)
	}
	m := map[souq.ID]string{}
	for _, row := range rows {
		if row.Name == souq.EventOrderCompleted {
			m[row.OrderID] = string(row.ID)
		}
	}
	return m
}

// TestOrdersWithoutTheirOutboxRow damages the outbox behind the store's
// back: a deleted row leaves its order without its event (and the stream
// with an order event the outbox lacks); a second row for one order is a
// duplicate, and, being marked published, missing from the stream.
func TestOrdersWithoutTheirOutboxRow(t *testing.T) {
	t.Parallel()
	r := newRig(t, options{})
	ids := r.outboxIDs()
	gone, twice := r.orders[1], r.orders[2]
	raw, err := sql.Open("sqlite", filepath.Join(r.dir, "souq.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(t.Context(), `DELETE FROM outbox WHERE id = ?`, ids[gone]); err != nil {
		t.Fatal(err)
	}
	const copyID = "evt_copy0000000000000000"
	if _, err := raw.ExecContext(t.Context(), `INSERT INTO outbox (id, name, payload, created_at, published_at)
		SELECT ?, name, payload, created_at, published_at FROM outbox WHERE id = ?`, copyID, ids[twice]); err != nil {
		t.Fatal(err)
	}

	rep := r.audit(r.inputs())
	oo := hop(t, rep, audit.HopOrdersOutbox)
	if want := []string{string(gone) + " (Order Completed)"}; !slices.Equal(oo.Missing.IDs, want) {
		t.Errorf("orders → outbox missing: got %q, want %q", oo.Missing.IDs, want)
	}
	if want := []string{copyID, ids[twice]}; !slices.Equal(firstWords(oo.Duplicated), slices.Sorted(slices.Values(want))) {
		t.Errorf("orders → outbox duplicated: got %q, want %q", oo.Duplicated.IDs, want)
	}
	ob := hop(t, rep, audit.HopOutboxStream)
	if want := []string{copyID}; !slices.Equal(ob.Missing.IDs, want) {
		t.Errorf("outbox → stream missing: got %q, want %q", ob.Missing.IDs, want)
	}
	if want := []string{ids[gone]}; !slices.Equal(firstWords(ob.Extra), want) {
		t.Errorf("outbox → stream extra: got %q, want %q", ob.Extra.IDs, want)
	}
	if rep.Differences() != 5 {
		t.Errorf("differences: got %d, want 5:\n%s", rep.Differences(), text(rep))
	}
}

// TestStreamDuplicate republishes an order event after the stream's
// duplicate window, as a relay that crashed before marking would: the
// stream holds the event twice, which the audit reports by id.
func TestStreamDuplicate(t *testing.T) {
	t.Parallel()
	var again string
	r := newRig(t, options{dupWindow: 200 * time.Millisecond, beforeArchive: func(r *rig) {
		contents, err := audit.ReadStream(r.t.Context(), r.stream)
		if err != nil {
			r.t.Fatal(err)
		}
		ev := contents.Msgs[0].Event
		if ev.Event != souq.EventOrderCompleted {
			r.t.Fatalf("first message: got %q, want an order event", ev.Event)
		}
		time.Sleep(300 * time.Millisecond)
		r.publish([]souq.Event{ev})
		again = ev.MessageID
	}})
	rep := r.audit(r.inputs())
	h := hop(t, rep, audit.HopOutboxStream)
	if got := firstWords(h.Duplicated); !slices.Equal(got, []string{again}) {
		t.Errorf("duplicated in the stream: got %q, want %s", h.Duplicated.IDs, again)
	}
	if rep.Differences() != 1 {
		t.Errorf("differences: got %d, want 1 (the archive holds each message once):\n%s", rep.Differences(), text(rep))
	}
}

// TestNotYetArchived: messages past the archiver's last batch are pending
// within the grace period and stalled after it.
func TestNotYetArchived(t *testing.T) {
	t.Parallel()
	r := newRig(t, options{})
	r.publish(behaviour("evt_late", 5, time.Now().Add(-30*time.Second)))

	rep := r.audit(r.inputs())
	h := hop(t, rep, audit.HopStreamArchive)
	if !rep.Clean() || h.Pending.Total != 5 || !strings.HasPrefix(h.Pending.IDs[0], "evt_late00000 (seq") {
		t.Errorf("just published: got\n%s\nwant clean with 5 pending", text(rep))
	}
	in := r.inputs()
	in.Now = func() time.Time { return time.Now().Add(5 * time.Minute) }
	rep = r.audit(in)
	if h := hop(t, rep, audit.HopStreamArchive); h.Stalled.Total != 5 || rep.Differences() != 5 {
		t.Errorf("five minutes later: got\n%s\nwant 5 stalled", text(rep))
	}
}

// TestLiveAggregates compares with a server's snapshot: equal, different,
// absent (404), and refused without the admin token.
// liveAggregatesTimes are the instants TestLiveAggregates runs at: the
// Gulf day starts at 20:00 UTC, so the "today" figures change meaning
// around it, and the rig's events reach 90 minutes back.
var liveAggregatesTimes = []string{"2026-11-20T03:00:00Z", "2026-11-20T12:00:00Z", "2026-11-20T19:59:00Z",
	"2026-11-20T20:00:00Z", "2026-11-20T20:30:00Z", "2026-11-20T21:29:00Z", "2026-11-20T21:31:00Z", "2026-11-20T23:59:00Z"}

func TestLiveAggregates(t *testing.T) {
	t.Parallel()
	for _, at := range liveAggregatesTimes {
		now, err := time.Parse(time.RFC3339, at)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(at, func(t *testing.T) {
			t.Parallel()
			testLiveAggregates(t, now)
		})
	}
}

func testLiveAggregates(t *testing.T, now time.Time) {
	r := newRig(t, options{now: now})
	contents, err := audit.ReadStream(t.Context(), r.stream)
	if err != nil {
		t.Fatal(err)
	}
	var recs []analytics.Record
	for _, m := range contents.Msgs {
		recs = append(recs, analytics.Record{Seq: m.Seq, Event: m.Event})
	}
	live, err := analytics.Recompute(t.Context(), analytics.Config{}, recs)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := live.Snapshot(t.Context(), r.now)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Today.Orders == 0 && snap.LastHour.Views == 0 {
		t.Fatalf("the snapshot at %s shows no orders today and no views in the last hour", snap.At)
	}
	tampered := snap
	tampered.Today.Orders++

	for _, tt := range []struct {
		name       string
		token      string
		serve      any // the snapshot, or nil for 404
		wantSkip   string
		wantDiffer string
	}{
		{name: "equal", token: "tok", serve: snap},
		{name: "different", token: "tok", serve: tampered, wantDiffer: "today.orders: "},
		{name: "no analytics API", token: "tok", wantSkip: "404"},
		{name: "wrong token", token: "nope", serve: snap, wantSkip: "401"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				switch {
				case req.URL.Path != audit.SnapshotPath || tt.serve == nil:
					http.NotFound(w, req)
				case req.Header.Get("Authorization") != "Bearer tok":
					w.WriteHeader(http.StatusUnauthorized)
				default:
					_ = json.NewEncoder(w).Encode(tt.serve)
				}
			}))
			defer srv.Close()
			in := r.inputs()
			in.LiveURL, in.AdminToken = srv.URL+"/", tt.token
			rep := r.audit(in)
			h := hop(t, rep, audit.HopLive)
			switch {
			case tt.wantSkip != "":
				if !strings.Contains(h.Skipped, "live aggregates not compared") || !strings.Contains(h.Skipped, tt.wantSkip) || !rep.Clean() {
					t.Errorf("got skipped %q (clean %v), want not compared, mentioning %s", h.Skipped, rep.Clean(), tt.wantSkip)
				}
			case tt.wantDiffer != "":
				if h.Mismatched.Total != 1 || !strings.HasPrefix(h.Mismatched.IDs[0], tt.wantDiffer) || rep.Clean() {
					t.Errorf("got mismatched %q, want one, %s…", h.Mismatched.IDs, tt.wantDiffer)
				}
			default:
				if h.Skipped != "" || h.Differences() != 0 || h.Counts["live max_seq"] != int(snap.MaxSeq) {
					t.Errorf("got\n%s\nwant the live snapshot compared and equal", text(rep))
				}
			}
		})
	}
}

// TestReportJSON checks the JSON form's fields and the cap on ids.
func TestReportJSON(t *testing.T) {
	t.Parallel()
	r := newRig(t, options{})
	r.publish(behaviour("evt_many", MaxIDsPlus, time.Now().Add(-time.Hour)))
	in := r.inputs()
	in.Now = func() time.Time { return time.Now().Add(time.Hour) }
	rep := r.audit(in)
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Clean        bool    `json:"clean"`
		Differences  int     `json:"differences"`
		GraceSeconds float64 `json:"grace_seconds"`
		From         time.Time
		Hops         []struct {
			Name    string         `json:"name"`
			Counts  map[string]int `json:"counts"`
			Stalled struct {
				Total int      `json:"total"`
				IDs   []string `json:"ids"`
			} `json:"stalled"`
			Missing struct {
				IDs []string `json:"ids"`
			} `json:"missing"`
		} `json:"hops"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("decode %s: %v", b.String(), err)
	}
	if got.Clean || got.Differences != MaxIDsPlus || got.GraceSeconds != 60 || !got.From.Equal(r.t0.Add(-time.Hour).Truncate(time.Microsecond)) {
		t.Errorf("got clean %v, %d differences, grace %vs, from %v; want false, %d, 60, %v",
			got.Clean, got.Differences, got.GraceSeconds, got.From, MaxIDsPlus, r.t0.Add(-time.Hour))
	}
	if len(got.Hops) != 5 || got.Hops[2].Name != audit.HopStreamArchive {
		t.Fatalf("hops: got %+v", got.Hops)
	}
	st := got.Hops[2].Stalled
	if st.Total != MaxIDsPlus || len(st.IDs) != audit.MaxIDs || !strings.HasPrefix(st.IDs[0], "evt_many00000 ") {
		t.Errorf("stalled: got total %d with %d ids starting %q, want %d with %d", st.Total, len(st.IDs), st.IDs[:1], MaxIDsPlus, audit.MaxIDs)
	}
	if got.Hops[0].Missing.IDs == nil {
		t.Error("an empty list is null in JSON, want []")
	}
}

// MaxIDsPlus is more events than a list keeps.
const MaxIDsPlus = audit.MaxIDs + 20

// TestArchivedAfterTheStreamWasRead: a batch the archiver commits while
// the audit runs may hold sequences past those the audit read from the
// stream. They are not checked (a warning), nor counted as extra.
func TestArchivedAfterTheStreamWasRead(t *testing.T) {
	t.Parallel()
	r := newRig(t, options{})
	w := archive.New(r.bucket, archive.Options{})
	if _, err := w.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	next := r.lastSeq() + 1
	for i, ev := range behaviour("evt_next", 3, time.Now().Add(-10*time.Minute)) {
		if err := w.Add(next+uint64(i), ev); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	rep := r.audit(r.inputs())
	h := hop(t, rep, audit.HopStreamArchive)
	if !rep.Clean() || len(h.Warnings) != 1 || !strings.HasPrefix(h.Warnings[0], "3 archived records were stored in the stream after") {
		t.Errorf("got\n%s\nwant clean, warning of 3 records stored after the read", text(rep))
	}
}

// TestPrunedOutbox: once the published outbox rows are deleted under the
// server's retention, an audit told that retention does not report their
// orders and stream events as lacking a row, and says how many it could
// not check; told nothing, it does report them.
func TestPrunedOutbox(t *testing.T) {
	t.Parallel()
	r := newRig(t, options{})
	n, err := r.db.DeleteOutboxPublishedBefore(t.Context(), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != nOrders+nCancelled {
		t.Fatalf("deleted %d published rows, want %d", n, nOrders+nCancelled)
	}
	if rep := r.audit(r.inputs()); rep.Clean() || hop(t, rep, audit.HopOrdersOutbox).Missing.Total != nOrders+nCancelled {
		t.Errorf("without the retention: got\n%s\nwant %d orders and cancellations missing their rows", text(rep), nOrders+nCancelled)
	}
	in := r.inputs()
	in.OutboxRetention = time.Minute // every event of the rig is older
	rep := r.audit(in)
	if !rep.Clean() {
		t.Fatalf("with the retention: got differences\n%s", text(rep))
	}
	for _, h := range []string{audit.HopOrdersOutbox, audit.HopOutboxStream} {
		if w := hop(t, rep, h).Warnings; len(w) != 1 || !strings.Contains(w[0], "older than the outbox retention") {
			t.Errorf("%s warnings: got %q, want one about the retention", h, w)
		}
	}
}

// TestCardOrders: a card order counts from when its payment is confirmed,
// not when it was placed; one released unpaid writes no event and is
// expected to have none; a refunded one has its "Order Refunded".
func TestCardOrders(t *testing.T) {
	t.Parallel()
	r := newRig(t, options{beforeArchive: func(r *rig) {
		at := r.t0.Add(30 * time.Minute)
		released := r.placeCardOrder(at)
		r.changeOrder(released, at.Add(15*time.Minute), func(o *souq.Order, now time.Time) []string {
			o.Status, o.CancelledAt, o.Payment.Status = souq.StatusCancelled, &now, souq.PaymentCanceled
			return nil
		})
		paid := r.placeCardOrder(at.Add(time.Second))
		r.changeOrder(paid, at.Add(2*time.Minute), func(o *souq.Order, now time.Time) []string {
			o.Status, o.CompletedAt, o.Payment.Status = souq.StatusPaid, &now, souq.PaymentCaptured
			return []string{souq.EventOrderCompleted}
		})
		refunded := r.placeCardOrder(at.Add(2 * time.Second))
		r.changeOrder(refunded, at.Add(3*time.Minute), func(o *souq.Order, now time.Time) []string {
			o.Status, o.CompletedAt, o.Payment.Status = souq.StatusPaid, &now, souq.PaymentCaptured
			return []string{souq.EventOrderCompleted}
		})
		r.changeOrder(refunded, at.Add(4*time.Minute), func(o *souq.Order, now time.Time) []string {
			o.Status, o.CancelledAt, o.Payment.Status = souq.StatusCancelled, &now, souq.PaymentRefundPending
			return []string{souq.EventOrderCancelled}
		})
		r.changeOrder(refunded, at.Add(5*time.Minute), func(o *souq.Order, now time.Time) []string {
			o.Payment.Status, o.Payment.RefundedAt, o.Payment.RefundReference = souq.PaymentRefunded, &now, "re_1"
			return []string{souq.EventOrderRefunded}
		})
		r.relayAll()
	}})
	rep := r.audit(r.inputs())
	if !rep.Clean() {
		t.Fatalf("got differences:\n%s", text(rep))
	}
	oo := hop(t, rep, audit.HopOrdersOutbox)
	for count, want := range map[string]int{"orders": nOrders + 2, "cancellations": nCancelled + 1, "refunds": 1,
		"order event rows": nOrders + nCancelled + 4} {
		if got := oo.Counts[count]; got != want {
			t.Errorf("orders → outbox count %q: got %d, want %d", count, got, want)
		}
	}
}

// placeCardOrder commits a card order pending payment at at: its stock
// held, no event.
func (r *rig) placeCardOrder(at time.Time) souq.ID {
	r.t.Helper()
	id := souq.NewID(souq.OrderPrefix)
	due := at.Add(15 * time.Minute)
	o := souq.Order{ID: id, Status: souq.StatusPendingPayment, Market: souq.KW, Currency: souq.KWD,
		Customer:        souq.Customer{Name: "Dana", Phone: "+96599887711"},
		ShippingAddress: souq.Address{Line1: "Block 5", Area: "Salmiya", City: "Salmiya", Country: souq.KW},
		Payment: souq.Payment{Method: souq.PayCard, Provider: "test", Reference: "pay_test_" + string(id),
			Status: souq.PaymentPending, Capture: "automatic", DueAt: &due},
		CreatedAt: at, UpdatedAt: at,
		Lines: []souq.OrderLine{{ProductID: product.ID, SKU: product.SKU, Name: product.Name, Brand: product.Brand,
			Category: product.Category, Quantity: 1, UnitPrice: 7250, LineTotal: 7250}}, Total: 7250}
	if err := r.db.CreateOrder(r.t.Context(), o, souq.OutboxEvent{}, nil); err != nil {
		r.t.Fatal(err)
	}
	return id
}

// changeOrder applies change to an order at at, writing the events it
// names.
func (r *rig) changeOrder(id souq.ID, at time.Time, change func(*souq.Order, time.Time) []string) {
	r.t.Helper()
	_, err := r.db.UpdateOrder(r.t.Context(), id, at, func(o *souq.Order) (checkout.OrderUpdate, error) {
		var up checkout.OrderUpdate
		was := o.Status
		for _, name := range change(o, at) {
			ev, err := souq.NewOrderEvent(name, *o, at)
			if err != nil {
				return up, err
			}
			up.Events = append(up.Events, ev)
		}
		up.Restock = was != souq.StatusCancelled && o.Status == souq.StatusCancelled
		return up, nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

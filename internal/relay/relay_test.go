package relay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/pipelinetest"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/sqlite"
)

// t0 is the tests' reference time.
var t0 = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

// env is a real SQLite store with one product in stock and a real embedded
// stream.
type env struct {
	db      *sqlite.DB
	stream  *natsstream.Stream
	product souq.Product
}

// newEnv opens both in a fresh temporary directory and closes them when
// the test ends.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := pipelinetest.Open(t, natsstream.Options{MaxBytes: 64 << 20})
	db, st := e.DB, e.Stream

	p := souq.Product{
		ID: "prd_relay", SKU: "SKN-001", Slug: "skn-001", Brand: "Cosrx", Category: "skincare",
		Name:        souq.Localized{EN: "Snail Mucin Essence", AR: "جوهر مخاط الحلزون"},
		Description: souq.Localized{EN: "Essence", AR: "جوهر"},
		Prices:      map[souq.MarketCode]int64{souq.AE: 5000},
		Stock:       100000, CreatedAt: t0, UpdatedAt: t0,
	}
	must(t, "CreateProduct", db.CreateProduct(t.Context(), p, catalog.SearchText(p)))
	return &env{db: db, stream: st, product: p}
}

// must fails the test at once when err is not nil.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: got error %v, want nil", what, err)
	}
}

// placeOrders commits n one-line orders, each with its "Order Completed"
// outbox event, i seconds after t0, and returns the events.
func (e *env) placeOrders(t *testing.T, n int) []souq.OutboxEvent {
	t.Helper()
	events := make([]souq.OutboxEvent, n)
	for i := range events {
		at := t0.Add(time.Duration(i) * time.Second)
		line := souq.OrderLine{
			ProductID: e.product.ID, SKU: e.product.SKU, Name: e.product.Name, Brand: e.product.Brand,
			Category: e.product.Category, Quantity: 1, UnitPrice: 5000, LineTotal: 5000,
			VAT: souq.VATIncluded(5000, 500), VATBasisPoints: 500,
		}
		o := souq.Order{
			ID: souq.NewID(souq.OrderPrefix), Status: souq.StatusPlaced, Market: souq.AE, Currency: souq.AED,
			Lines: []souq.OrderLine{line}, Total: line.LineTotal, VAT: line.VAT,
			Customer:        souq.Customer{Name: "Fatima Al Mansoori", Email: "fatima@example.ae", Phone: "+971501234567"},
			ShippingAddress: souq.Address{Line1: "Villa 12", Area: "Al Barsha", City: "Dubai", Country: souq.AE},
			Payment:         souq.Payment{Method: souq.PayCashOnDelivery},
			AccessTokenHash: souq.HashToken("token"),
			CreatedAt:       at, UpdatedAt: at,
		}
		ev, err := souq.NewOrderEvent(souq.EventOrderCompleted, o, at)
		must(t, "NewOrderEvent", err)
		e.commit(t, o, ev)
		events[i] = ev
	}
	return events
}

// commit writes an order with the given outbox event.
func (e *env) commit(t *testing.T, o souq.Order, ev souq.OutboxEvent) {
	t.Helper()
	must(t, "CreateOrder", e.db.CreateOrder(t.Context(), o, ev, nil))
}

// pending returns the ids of the unpublished outbox events, oldest first.
func (e *env) pending(t *testing.T) []souq.ID {
	t.Helper()
	evs, err := e.db.PendingOutbox(t.Context(), 100000)
	must(t, "PendingOutbox", err)
	ids := []souq.ID{}
	for _, ev := range evs {
		ids = append(ids, ev.ID)
	}
	return ids
}

// streamed returns the message ids held by the stream, in stream order,
// checking each message's subject and that its data is the outbox payload.
func (e *env) streamed(t *testing.T, payloads map[souq.ID][]byte) []souq.ID {
	t.Helper()
	info, err := e.stream.Info(t.Context())
	must(t, "Info", err)
	c, err := e.stream.Consumer(t.Context(), fmt.Sprintf("check%d", time.Now().UnixNano()))
	must(t, "Consumer", err)
	ids := []souq.ID{}
	for uint64(len(ids)) < info.Msgs {
		msgs, err := c.Fetch(t.Context(), int(info.Msgs)-len(ids), time.Second)
		must(t, "Fetch", err)
		if len(msgs) == 0 {
			t.Fatalf("fetched %d of the %d messages in the stream", len(ids), info.Msgs)
		}
		for _, m := range msgs {
			ev, err := m.Event()
			must(t, "Event", err)
			if want := "souq.events.track.order_completed"; m.Subject != want {
				t.Errorf("message %d: got subject %q, want %q", m.Seq, m.Subject, want)
			}
			if want, ok := payloads[souq.ID(ev.MessageID)]; !ok || string(m.Data) != string(want) {
				t.Errorf("message %d: got data %s, want the outbox payload %s", m.Seq, m.Data, want)
			}
			ids = append(ids, souq.ID(ev.MessageID))
		}
	}
	return ids
}

// idsOf returns the events' ids and their payloads by id.
func idsOf(events []souq.OutboxEvent) ([]souq.ID, map[souq.ID][]byte) {
	ids := []souq.ID{}
	payloads := map[souq.ID][]byte{}
	for _, ev := range events {
		ids = append(ids, ev.ID)
		payloads[ev.ID] = ev.Payload
	}
	return ids, payloads
}

// drain runs passes until one finds nothing pending and returns the passes'
// counts.
func drain(t *testing.T, r *Relay) []int {
	t.Helper()
	var counts []int
	for range 100 {
		n, err := r.RunOnce(t.Context())
		must(t, "RunOnce", err)
		counts = append(counts, n)
		if n == 0 {
			return counts
		}
	}
	t.Fatalf("outbox not drained after 100 passes: %v", counts)
	return nil
}

func TestRelayPublishesEachEventOnce(t *testing.T) {
	tests := []struct {
		name       string
		orders     int
		batch      int
		wantPasses []int
	}{
		{"empty outbox", 0, 100, []int{0}},
		{"one", 1, 100, []int{1, 0}},
		{"one batch", 7, 100, []int{7, 0}},
		{"several batches", 250, 100, []int{100, 100, 50, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			events := e.placeOrders(t, tt.orders)
			published := t0.Add(time.Hour)
			r := New(e.db, e.stream, Options{Batch: tt.batch, Now: func() time.Time { return published }})

			if d := cmp.Diff(tt.wantPasses, drain(t, r)); d != "" {
				t.Errorf("events per pass (-want +got):\n%s", d)
			}
			wantIDs, payloads := idsOf(events)
			if d := cmp.Diff(wantIDs, e.streamed(t, payloads)); d != "" {
				t.Errorf("stream holds (-want +got):\n%s", d)
			}
			if d := cmp.Diff([]souq.ID{}, e.pending(t)); d != "" {
				t.Errorf("pending after the relay (-want +got):\n%s", d)
			}
			if got, want := r.Stats(), (Stats{Published: uint64(tt.orders)}); got != want {
				t.Errorf("Stats: got %+v, want %+v", got, want)
			}
			// A second relay finds nothing to do.
			if n, err := New(e.db, e.stream, Options{}).RunOnce(t.Context()); n != 0 || err != nil {
				t.Errorf("RunOnce after draining: got %d, %v; want 0, nil", n, err)
			}
		})
	}
}

func TestRelayCrashBetweenPublishAndMark(t *testing.T) {
	tests := []struct {
		name string
		// crash is the afterPublish hook: it stops the relay after the
		// stream acknowledged the events and before they are marked.
		crash func(cancel context.CancelFunc) func(context.Context)
	}{
		{"context cancelled", func(cancel context.CancelFunc) func(context.Context) {
			return func(context.Context) { cancel() }
		}},
		{"panic", func(context.CancelFunc) func(context.Context) {
			return func(context.Context) { panic("crash between publish and mark") }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			events := e.placeOrders(t, 3)
			wantIDs, payloads := idsOf(events)

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			crashing := New(e.db, e.stream, Options{})
			crashing.afterPublish = tt.crash(cancel)
			func() {
				defer func() { _ = recover() }()
				if _, err := crashing.RunOnce(ctx); err == nil {
					t.Errorf("RunOnce that crashed before marking: got nil error, want one")
				}
			}()
			if d := cmp.Diff(wantIDs, e.pending(t)); d != "" {
				t.Errorf("pending after the crash (-want +got):\n%s", d)
			}
			if d := cmp.Diff(wantIDs, e.streamed(t, payloads)); d != "" {
				t.Errorf("stream after the crash (-want +got):\n%s", d)
			}

			restarted := New(e.db, e.stream, Options{})
			if d := cmp.Diff([]int{3, 0}, drain(t, restarted)); d != "" {
				t.Errorf("events per pass after the restart (-want +got):\n%s", d)
			}
			if got, want := restarted.Stats(), (Stats{Duplicates: 3}); got != want {
				t.Errorf("Stats after the restart: got %+v, want %+v", got, want)
			}
			if d := cmp.Diff(wantIDs, e.streamed(t, payloads)); d != "" {
				t.Errorf("stream after the restart, each event once (-want +got):\n%s", d)
			}
			if d := cmp.Diff([]souq.ID{}, e.pending(t)); d != "" {
				t.Errorf("pending after the restart (-want +got):\n%s", d)
			}
		})
	}
}

func TestRelayBadPayloads(t *testing.T) {
	e := newEnv(t)
	good := e.placeOrders(t, 2)
	tests := []struct {
		name    string
		payload string
	}{
		{"not JSON", `{"messageId": "evt_`},
		{"not an event", `[1, 2, 3]`},
		{"another event's id", `{"messageId":"evt_someoneelse","type":"track","event":"Order Completed"}`},
	}
	var bad []souq.ID
	for i, tt := range tests {
		id := souq.NewID(souq.EventPrefix)
		o := souq.Order{
			ID: souq.NewID(souq.OrderPrefix), Status: souq.StatusPlaced, Market: souq.AE, Currency: souq.AED,
			Payment: souq.Payment{Method: souq.PayCashOnDelivery}, CreatedAt: t0, UpdatedAt: t0,
		}
		e.commit(t, o, souq.OutboxEvent{ID: id, Name: tt.name, Payload: []byte(tt.payload), CreatedAt: t0.Add(time.Duration(i) * time.Millisecond)})
		bad = append(bad, id)
	}
	more := e.placeOrders(t, 1)

	r := New(e.db, e.stream, Options{})
	if d := cmp.Diff([]int{6, 0}, drain(t, r)); d != "" {
		t.Errorf("events per pass (-want +got):\n%s", d)
	}
	if got, want := r.Stats(), (Stats{Published: 3, DeadLetters: 3}); got != want {
		t.Errorf("Stats: got %+v, want %+v", got, want)
	}
	info, err := e.stream.Info(t.Context())
	must(t, "Info", err)
	if info.Msgs != 3 || info.DeadLetters != 3 {
		t.Errorf("Info: got %d events and %d dead letters, want 3 and 3", info.Msgs, info.DeadLetters)
	}
	wantIDs, payloads := idsOf(append(good, more...))
	got := e.streamed(t, payloads)
	slices.Sort(got)
	slices.Sort(wantIDs)
	if d := cmp.Diff(wantIDs, got); d != "" {
		t.Errorf("stream holds (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]souq.ID{}, e.pending(t)); d != "" {
		t.Errorf("pending, bad payloads included (-want +got):\n%s", d)
	}
}

func TestRelayStreamDown(t *testing.T) {
	e := newEnv(t)
	events := e.placeOrders(t, 2)
	wantIDs, _ := idsOf(events)
	must(t, "Close stream", e.stream.Close())

	r := New(e.db, e.stream, Options{})
	n, err := r.RunOnce(t.Context())
	if n != 2 || err == nil {
		t.Errorf("RunOnce with the stream closed: got %d, %v; want 2 and an error", n, err)
	}
	if got, want := r.Stats(), (Stats{Failures: 2}); got != want {
		t.Errorf("Stats: got %+v, want %+v", got, want)
	}
	if d := cmp.Diff(wantIDs, e.pending(t)); d != "" {
		t.Errorf("pending after failing to publish (-want +got):\n%s", d)
	}
}

func TestRelayRun(t *testing.T) {
	e := newEnv(t)
	first := e.placeOrders(t, 3)
	// An interval far longer than the test: only Notify can wake the relay.
	r := New(e.db, e.stream, Options{Interval: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	waitPending(t, e, 0) // the first pass runs at once
	second := e.placeOrders(t, 2)
	r.Notify()
	waitPending(t, e, 0)
	wantIDs, payloads := idsOf(append(first, second...))
	if d := cmp.Diff(wantIDs, e.streamed(t, payloads)); d != "" {
		t.Errorf("stream holds (-want +got):\n%s", d)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: got error %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("Run still running 5s after its context was cancelled")
	}
	if got, want := r.Stats(), (Stats{Published: 5}); got != want {
		t.Errorf("Stats: got %+v, want %+v", got, want)
	}
}

// waitPending waits up to 5 seconds for the outbox to hold want pending
// events.
func waitPending(t *testing.T, e *env, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := len(e.pending(t))
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending events: got %d after 5s, want %d", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRelayRunRetriesAfterFailure(t *testing.T) {
	e := newEnv(t)
	e.placeOrders(t, 2)
	failing := &flakyOutbox{Outbox: e.db, fails: 2}
	r := New(failing, e.stream, Options{Interval: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	waitPending(t, e, 0)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: got error %v, want nil", err)
	}
	if got, want := r.Stats(), (Stats{Published: 2, Failures: 2}); got != want {
		t.Errorf("Stats: got %+v, want %+v", got, want)
	}
}

// flakyOutbox fails its first reads.
type flakyOutbox struct {
	Outbox
	fails int // reads left to fail; used from Run's goroutine only
}

var errUnavailable = errors.New("database unavailable")

func (f *flakyOutbox) PendingOutbox(ctx context.Context, limit int) ([]souq.OutboxEvent, error) {
	if f.fails > 0 {
		f.fails--
		return nil, errUnavailable
	}
	return f.Outbox.PendingOutbox(ctx, limit)
}

// TestRelayPrune deletes the rows published longer than the retention ago,
// in several batches, and never an unpublished one.
func TestRelayPrune(t *testing.T) {
	e := newEnv(t)
	e.placeOrders(t, 6000) // more than one pruning batch
	published := make([]souq.ID, 0, 6000)
	evs, err := e.db.PendingOutbox(t.Context(), 100000)
	must(t, "PendingOutbox", err)
	for _, ev := range evs {
		published = append(published, ev.ID)
	}
	must(t, "MarkOutboxPublished", e.db.MarkOutboxPublished(t.Context(), published, t0.Add(time.Hour)))
	later := e.placeOrders(t, 3) // unpublished

	clock := t0.Add(time.Hour + 30*time.Minute)
	r := New(e.db, e.stream, Options{Now: func() time.Time { return clock }})
	for _, c := range []struct {
		retention time.Duration
		want      int
	}{
		{0, 0},              // kept forever
		{time.Hour, 0},      // published 30 minutes ago: kept
		{time.Minute, 6000}, // past the retention: deleted
		{time.Minute, 0},    // nothing left to delete
	} {
		n, err := r.Prune(t.Context(), c.retention)
		must(t, "Prune", err)
		if n != c.want {
			t.Errorf("Prune(%s): deleted %d rows, want %d", c.retention, n, c.want)
		}
	}
	if got := e.pending(t); len(got) != len(later) {
		t.Errorf("unpublished rows after pruning: got %d, want %d", len(got), len(later))
	}
}

// turnOutbox is an Exclusive outbox whose turn another relay may hold.
type turnOutbox struct {
	Outbox
	held  bool // another relay holds the turn
	reads int  // PendingOutbox calls
}

func (o *turnOutbox) Exclusively(ctx context.Context, fn func(ctx context.Context) error) (bool, error) {
	if o.held {
		return false, nil
	}
	return true, fn(ctx)
}

func (o *turnOutbox) PendingOutbox(ctx context.Context, limit int) ([]souq.OutboxEvent, error) {
	o.reads++
	return o.Outbox.PendingOutbox(ctx, limit)
}

// TestRelayTakesTurns: with an Exclusive outbox, a pass runs only in the
// relay's turn; while another relay holds it, nothing is read or
// published.
func TestRelayTakesTurns(t *testing.T) {
	e := newEnv(t)
	e.placeOrders(t, 3)
	out := &turnOutbox{Outbox: e.db, held: true}
	r := New(out, e.stream, Options{Now: func() time.Time { return t0 }})
	n, err := r.RunOnce(t.Context())
	if n != 0 || err != nil || out.reads != 0 {
		t.Fatalf("RunOnce while another relay has the turn: got %d, %v, %d reads; want 0, nil, 0", n, err, out.reads)
	}
	out.held = false
	if n, err := r.RunOnce(t.Context()); n != 3 || err != nil {
		t.Fatalf("RunOnce in its turn: got %d, %v; want 3, nil", n, err)
	}
	waitPending(t, e, 0)
	if got := r.Stats().Published; got != 3 {
		t.Errorf("published: got %d, want 3", got)
	}
}

// seqlessAcks is a stream whose acknowledgements of the first publish carry
// no sequence: the message may not be stored, whatever the reply said.
type seqlessAcks struct {
	*natsstream.Stream
	calls int
}

func (s *seqlessAcks) PublishRawBatch(ctx context.Context, msgs []natsstream.RawMsg) ([]natsstream.PublishResult, error) {
	s.calls++
	if s.calls == 1 {
		return make([]natsstream.PublishResult, len(msgs)), nil
	}
	return s.Stream.PublishRawBatch(ctx, msgs)
}

// TestRelayMarksOnlyRealAcks: an event is marked published only on an
// acknowledgement with a stream sequence; a duplicate's (the stream had
// it) counts as published.
func TestRelayMarksOnlyRealAcks(t *testing.T) {
	e := newEnv(t)
	events := e.placeOrders(t, 3)
	wantIDs, _ := idsOf(events)
	r := New(e.db, &seqlessAcks{Stream: e.stream}, Options{})
	if _, err := r.RunOnce(t.Context()); err == nil {
		t.Errorf("RunOnce with acknowledgements without a sequence: got no error, want one")
	}
	if d := cmp.Diff(wantIDs, e.pending(t)); d != "" {
		t.Errorf("pending after acknowledgements without a sequence (-want +got):\n%s", d)
	}
	if _, err := r.RunOnce(t.Context()); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if p := e.pending(t); len(p) != 0 {
		t.Errorf("pending after real acknowledgements: got %v, want none", p)
	}
}

// TestRelayOldestPending: the relay reports when the oldest event it
// found pending was written (the outbox's age), and nothing once the
// outbox is empty.
func TestRelayOldestPending(t *testing.T) {
	e := newEnv(t)
	e.placeOrders(t, 2)
	r := New(e.db, e.stream, Options{})
	if got := r.OldestPending(); !got.IsZero() {
		t.Errorf("before any pass: oldest pending %v, want none", got)
	}
	must(t, "Close stream", e.stream.Close())
	if _, err := r.RunOnce(t.Context()); err == nil {
		t.Fatal("RunOnce with the stream closed succeeded")
	}
	if got := r.OldestPending(); !got.Equal(t0) {
		t.Errorf("events left pending: oldest pending %v, want the first order's %v", got, t0)
	}

	e = newEnv(t)
	e.placeOrders(t, 3)
	r = New(e.db, e.stream, Options{})
	for range 2 {
		if _, err := r.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.OldestPending(); !got.IsZero() {
		t.Errorf("outbox emptied: oldest pending %v, want none", got)
	}
}

package natsstream

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/souq-commerce/souq/internal/souq"
)

// testMaxBytes keeps the streams of tests small, so that many fit on one
// server's storage reservation.
const testMaxBytes = 64 << 20

// testAckWait makes redelivery quick enough to test.
const testAckWait = time.Second

// TestStreamEmbedded runs the contract suite against the embedded server.
func TestStreamEmbedded(t *testing.T) {
	runStreamTests(t, func(t *testing.T) Options {
		t.Helper()
		return Options{StoreDir: t.TempDir(), MaxBytes: testMaxBytes, AckWait: testAckWait}
	})
}

// TestStreamListening runs the contract suite over TCP against an embedded
// server that listens on a port, which exercises the Options.URL path
// without an external server.
func TestStreamListening(t *testing.T) {
	runStreamTests(t, func(t *testing.T) Options {
		t.Helper()
		host := openStream(t, Options{StoreDir: t.TempDir(), Namespace: "host", MaxBytes: testMaxBytes, Listen: "127.0.0.1:0"})
		if host.ClientURL() == "" {
			t.Fatalf("ClientURL with Listen set: got \"\", want a URL")
		}
		return Options{URL: host.ClientURL(), Namespace: testNamespace(t), MaxBytes: testMaxBytes, AckWait: testAckWait}
	})
}

// TestStreamExternal runs the contract suite against the NATS server at
// SOUQ_TEST_NATS_URL, each subtest in its own namespace whose streams are
// deleted when it ends.
func TestStreamExternal(t *testing.T) {
	url := os.Getenv("SOUQ_TEST_NATS_URL")
	if url == "" {
		t.Skip("SOUQ_TEST_NATS_URL not set: skipping tests against an external NATS server")
	}
	runStreamTests(t, func(t *testing.T) Options {
		t.Helper()
		o := Options{URL: url, Namespace: testNamespace(t), MaxBytes: testMaxBytes, AckWait: testAckWait}
		t.Cleanup(func() { deleteStreams(t, o) })
		return o
	})
}

// testNamespace returns a namespace unique to the test and to this run: a
// hash of the test's name and a random part.
func testNamespace(t *testing.T) string {
	t.Helper()
	h := fnv.New32a()
	h.Write([]byte(t.Name()))
	return fmt.Sprintf("t%08x_%s", h.Sum32(), string(souq.NewID(""))[:8])
}

// deleteStreams deletes what a Stream opened with o keeps on its server.
func deleteStreams(t *testing.T, o Options) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, o)
	if err != nil {
		t.Errorf("delete streams: %v", err)
		return
	}
	defer s.Close()
	if err := s.Delete(ctx); err != nil {
		t.Errorf("delete streams: %v", err)
	}
}

// openStream opens a stream, failing the test at once on an error, and
// closes it when the test ends.
func openStream(t testing.TB, o Options) *Stream {
	t.Helper()
	s, err := Open(t.Context(), o)
	if err != nil {
		t.Fatalf("Open: got error %v, want nil", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: got error %v, want nil", err)
		}
	})
	return s
}

// runStreamTests is the contract suite of a Stream. newOptions returns the
// options of a new, empty pair of streams; opening them twice reaches the
// same streams (the restart test relies on it).
func runStreamTests(t *testing.T, newOptions func(t *testing.T) Options) {
	tests := []struct {
		name string
		fn   func(t *testing.T, o Options)
	}{
		{"RoundTrip", testRoundTrip},
		{"Duplicate", testDuplicate},
		{"Batch", testBatch},
		{"BatchPartialFailure", testBatchPartialFailure},
		{"InvalidPublish", testInvalidPublish},
		{"Restart", testRestart},
		{"Pending", testPending},
		{"FetchWait", testFetchWait},
		{"Limits", testLimits},
		{"MaxBytesDiscardsOldest", testMaxBytesDiscardsOldest},
		{"MaxAgeExpires", testMaxAgeExpires},
		{"DeadLetters", testDeadLetters},
		{"NextHeld", testNextHeld},
		{"Read", testRead},
		{"SharedConsumer", testSharedConsumer},
		{"Ephemeral", testEphemeral},
		{"Lead", testLead},
		{"LeaseLost", testLeaseLost},
		{"Delete", testDelete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newOptions(t))
		})
	}
}

// t0 is the event time of the test events.
var t0 = time.Date(2026, 3, 1, 9, 30, 0, 123456000, time.UTC)

// testEvent returns a "Product Viewed" track event with a new id.
func testEvent(i int) souq.Event {
	return souq.Event{
		MessageID:   string(souq.NewID(souq.EventPrefix)),
		Type:        "track",
		Event:       "Product Viewed",
		Timestamp:   t0.Add(time.Duration(i) * time.Second),
		ReceivedAt:  t0.Add(time.Duration(i)*time.Second + 40*time.Millisecond),
		AnonymousID: "anon-" + fmt.Sprint(i%7),
		Properties:  []byte(fmt.Sprintf(`{"product_id":"prd_%03d","sku":"SKN-%03d","price":"49.00","currency":"AED"}`, i%50, i%50)),
		Context:     []byte(`{"market":"AE","locale":"ar-AE"}`),
	}
}

// must fails the test at once when err is not nil.
func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: got error %v, want nil", what, err)
	}
}

// fetchAll fetches until n messages arrived or 10 seconds passed.
func fetchAll(t *testing.T, c *Consumer, n int) []Msg {
	t.Helper()
	var msgs []Msg
	deadline := time.Now().Add(10 * time.Second)
	for len(msgs) < n && time.Now().Before(deadline) {
		got, err := c.Fetch(t.Context(), n-len(msgs), 500*time.Millisecond)
		must(t, "Fetch", err)
		msgs = append(msgs, got...)
	}
	if len(msgs) != n {
		t.Fatalf("fetched %d messages, want %d", len(msgs), n)
	}
	return msgs
}

// seqs returns the messages' stream sequences.
func seqs(msgs []Msg) []uint64 {
	out := make([]uint64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

// checkInfo fails the test unless the stream holds want messages.
func checkInfo(t *testing.T, s *Stream, want Info) {
	t.Helper()
	got, err := s.Info(t.Context())
	must(t, "Info", err)
	got.Bytes = 0 // depends on the encoding; checked where it matters
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Info: got differs from want (-want +got):\n%s", d)
	}
}

func testRoundTrip(t *testing.T, o Options) {
	s := openStream(t, o)
	page := souq.Event{MessageID: "evt_page0000000000000001", Type: "page", Name: "Home", Timestamp: t0, ReceivedAt: t0, AnonymousID: "anon-1"}
	order := testEvent(1)
	order.Event = souq.EventOrderCompleted
	events := []souq.Event{testEvent(0), page, order}
	wantSubjects := []string{"souq.events.track.product_viewed", "souq.events.page", "souq.events.track.order_completed"}

	for i, ev := range events {
		ack, err := s.Publish(t.Context(), ev)
		must(t, "Publish", err)
		if want := (Ack{Seq: uint64(i + 1)}); ack != want {
			t.Errorf("Publish(%s): got %+v, want %+v", ev.MessageID, ack, want)
		}
	}
	checkInfo(t, s, Info{Msgs: 3, FirstSeq: 1, LastSeq: 3})

	c, err := s.Consumer(t.Context(), "processor")
	must(t, "Consumer", err)
	msgs := fetchAll(t, c, 3)
	for i, m := range msgs {
		if m.Seq != uint64(i+1) {
			t.Errorf("message %d: got seq %d, want %d", i, m.Seq, i+1)
		}
		if m.Subject != wantSubjects[i] {
			t.Errorf("message %d: got subject %q, want %q", i, m.Subject, wantSubjects[i])
		}
		if m.Delivered != 1 {
			t.Errorf("message %d: got delivered %d, want 1", i, m.Delivered)
		}
		if age := time.Since(m.Stored); age < 0 || age > time.Minute {
			t.Errorf("message %d: got stored %s ago, want within a minute", i, age)
		}
		got, err := m.Event()
		must(t, "Event", err)
		if d := cmp.Diff(events[i], got); d != "" {
			t.Errorf("message %d event: got differs from want (-want +got):\n%s", i, d)
		}
	}
	must(t, "AckBatch", c.AckBatch(t.Context(), msgs))
	checkPending(t, c, 0)
}

func testDuplicate(t *testing.T, o Options) {
	s := openStream(t, o)
	ev := testEvent(0)
	first, err := s.Publish(t.Context(), ev)
	must(t, "Publish", err)
	_, err = s.Publish(t.Context(), testEvent(1))
	must(t, "Publish other", err)

	tests := []struct {
		name    string
		publish func() (Ack, error)
	}{
		{"Publish", func() (Ack, error) { return s.Publish(t.Context(), ev) }},
		{"PublishRaw", func() (Ack, error) {
			return s.PublishRaw(t.Context(), ev.Subject(), ev.MessageID, []byte(`{"other":"payload"}`))
		}},
		{"PublishBatch", func() (Ack, error) {
			rs, err := s.PublishBatch(t.Context(), []souq.Event{ev})
			return rs[0].Ack, err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ack, err := tt.publish()
			must(t, tt.name, err)
			if want := (Ack{Seq: first.Seq, Duplicate: true}); ack != want {
				t.Errorf("%s of a duplicate: got %+v, want %+v", tt.name, ack, want)
			}
		})
	}
	checkInfo(t, s, Info{Msgs: 2, FirstSeq: 1, LastSeq: 2})
}

func testBatch(t *testing.T, o Options) {
	s := openStream(t, o)
	events := make([]souq.Event, 100)
	for i := range events {
		events[i] = testEvent(i)
	}
	results, err := s.PublishBatch(t.Context(), events)
	must(t, "PublishBatch", err)
	if len(results) != len(events) {
		t.Fatalf("PublishBatch: got %d results, want %d", len(results), len(events))
	}
	for i, r := range results {
		if want := (PublishResult{Ack: Ack{Seq: uint64(i + 1)}}); r != want {
			t.Errorf("result %d: got %+v, want %+v", i, r, want)
		}
	}
	checkInfo(t, s, Info{Msgs: 100, FirstSeq: 1, LastSeq: 100})

	c, err := s.Consumer(t.Context(), "archiver")
	must(t, "Consumer", err)
	msgs := fetchAll(t, c, 100)
	for i, m := range msgs {
		got, err := m.Event()
		must(t, "Event", err)
		if got.MessageID != events[i].MessageID {
			t.Errorf("message %d: got id %s, want %s", m.Seq, got.MessageID, events[i].MessageID)
		}
	}
}

func testBatchPartialFailure(t *testing.T, o Options) {
	s := openStream(t, o)
	noID := testEvent(1)
	noID.MessageID = ""
	badJSON := testEvent(2)
	badJSON.Properties = []byte(`{not json`)
	results, err := s.PublishBatch(t.Context(), []souq.Event{testEvent(0), noID, badJSON, testEvent(3)})
	if err == nil {
		t.Fatalf("PublishBatch with two bad events: got nil error, want one")
	}
	tests := []struct {
		i       int
		wantSeq uint64
		wantErr error
	}{
		{0, 1, nil},
		{1, 0, ErrNoMessageID},
		{2, 0, ErrInvalidEvent},
		{3, 2, nil},
	}
	for _, tt := range tests {
		r := results[tt.i]
		if r.Ack.Seq != tt.wantSeq {
			t.Errorf("result %d: got seq %d, want %d", tt.i, r.Ack.Seq, tt.wantSeq)
		}
		if !errors.Is(r.Err, tt.wantErr) {
			t.Errorf("result %d: got error %v, want %v", tt.i, r.Err, tt.wantErr)
		}
	}
	checkInfo(t, s, Info{Msgs: 2, FirstSeq: 1, LastSeq: 2})
}

func testInvalidPublish(t *testing.T, o Options) {
	s := openStream(t, o)
	tests := []struct {
		name    string
		subject string
		msgID   string
		want    error
	}{
		{"no message id", "souq.events.page", "", ErrNoMessageID},
		{"outside the events subjects", "orders.created", "evt_1", ErrInvalidSubject},
		{"dead-letter subject", "souq.deadletters.x", "evt_2", ErrInvalidSubject},
		{"bare prefix", "souq.events", "evt_3", ErrInvalidSubject},
		{"wildcard", "souq.events.*", "evt_4", ErrInvalidSubject},
		{"empty token", "souq.events..page", "evt_5", ErrInvalidSubject},
		{"space", "souq.events.track.product viewed", "evt_6", ErrInvalidSubject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.PublishRaw(t.Context(), tt.subject, tt.msgID, []byte(`{}`))
			if !errors.Is(err, tt.want) {
				t.Errorf("PublishRaw(%q, %q): got error %v, want %v", tt.subject, tt.msgID, err, tt.want)
			}
		})
	}
	checkInfo(t, s, Info{})
}

func testRestart(t *testing.T, o Options) {
	s, err := Open(t.Context(), o)
	must(t, "Open", err)
	events := make([]souq.Event, 5)
	for i := range events {
		events[i] = testEvent(i)
	}
	_, err = s.PublishBatch(t.Context(), events)
	must(t, "PublishBatch", err)
	c, err := s.Consumer(t.Context(), "processor")
	must(t, "Consumer", err)
	msgs := fetchAll(t, c, 5)
	must(t, "AckBatch(first three)", c.AckBatch(t.Context(), msgs[:3]))
	must(t, "Close", s.Close()) // messages 4 and 5 delivered, never acknowledged

	s = openStream(t, o)
	checkInfo(t, s, Info{Msgs: 5, FirstSeq: 1, LastSeq: 5})
	c, err = s.Consumer(t.Context(), "processor")
	must(t, "Consumer after restart", err)
	checkPending(t, c, 2)
	msgs = fetchAll(t, c, 2) // redelivered after the ack wait
	if d := cmp.Diff([]uint64{4, 5}, seqs(msgs)); d != "" {
		t.Errorf("redelivered after restart (-want +got):\n%s", d)
	}
	for _, m := range msgs {
		if m.Delivered != 2 {
			t.Errorf("message %d: got delivered %d, want 2", m.Seq, m.Delivered)
		}
	}
	must(t, "AckBatch(rest)", c.AckBatch(t.Context(), msgs))
	checkPending(t, c, 0)
	more, err := c.Fetch(t.Context(), 10, 1500*time.Millisecond) // longer than the ack wait
	must(t, "Fetch after acking all", err)
	if len(more) != 0 {
		t.Errorf("fetch after acking all: got messages %v, want none", seqs(more))
	}
	// Publishing after the restart continues the sequence and still
	// recognises ids within the duplicate window.
	ack, err := s.Publish(t.Context(), events[0])
	must(t, "Publish duplicate after restart", err)
	if want := (Ack{Seq: 1, Duplicate: true}); ack != want {
		t.Errorf("duplicate after restart: got %+v, want %+v", ack, want)
	}
	ack, err = s.Publish(t.Context(), testEvent(6))
	must(t, "Publish after restart", err)
	if want := (Ack{Seq: 6}); ack != want {
		t.Errorf("publish after restart: got %+v, want %+v", ack, want)
	}
}

// checkPending fails the test unless the consumer's lag becomes want
// within 5 seconds: the server updates a consumer's count of undelivered
// messages shortly after it acknowledges a publish, not before.
func checkPending(t *testing.T, c *Consumer, want uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := c.Pending(t.Context())
		must(t, "Pending", err)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("Pending: got %d, want %d", got, want)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testPending(t *testing.T, o Options) {
	s := openStream(t, o)
	c, err := s.Consumer(t.Context(), "processor")
	must(t, "Consumer", err)
	checkPending(t, c, 0)
	events := make([]souq.Event, 10)
	for i := range events {
		events[i] = testEvent(i)
	}
	_, err = s.PublishBatch(t.Context(), events)
	must(t, "PublishBatch", err)
	checkPending(t, c, 10)
	msgs := fetchAll(t, c, 4)
	checkPending(t, c, 10) // delivered, not acknowledged
	must(t, "Ack", msgs[0].Ack(t.Context()))
	must(t, "Ack again", msgs[0].Ack(t.Context()))
	checkPending(t, c, 9)
	must(t, "AckBatch", c.AckBatch(t.Context(), msgs[1:]))
	checkPending(t, c, 6)

	// A second durable has its own position.
	other, err := s.Consumer(t.Context(), "archiver")
	must(t, "Consumer(archiver)", err)
	checkPending(t, other, 10)
}

func testFetchWait(t *testing.T, o Options) {
	s := openStream(t, o)
	c, err := s.Consumer(t.Context(), "processor")
	must(t, "Consumer", err)

	tests := []struct {
		name    string
		wait    time.Duration
		minTook time.Duration
	}{
		{"no wait", 0, 0},
		{"wait", 300 * time.Millisecond, 250 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			msgs, err := c.Fetch(t.Context(), 10, tt.wait)
			took := time.Since(start)
			must(t, "Fetch", err)
			if len(msgs) != 0 {
				t.Errorf("Fetch from an empty stream: got %d messages, want 0", len(msgs))
			}
			if took < tt.minTook || took > tt.wait+2*time.Second {
				t.Errorf("Fetch(wait %s) took %s, want between %s and %s", tt.wait, took, tt.minTook, tt.wait+2*time.Second)
			}
		})
	}

	// A message published during a wait ends the wait early.
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, _ = s.Publish(context.Background(), testEvent(0))
	}()
	start := time.Now()
	msgs, err := c.Fetch(t.Context(), 1, 5*time.Second)
	must(t, "Fetch while publishing", err)
	if len(msgs) != 1 || time.Since(start) > 4*time.Second {
		t.Errorf("Fetch while publishing: got %d messages after %s, want 1 well before 5s", len(msgs), time.Since(start))
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Fetch(ctx, 10, time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("Fetch with a cancelled context: got error %v, want %v", err, context.Canceled)
	}

	// A context that ends during the wait ends the fetch.
	ctx, cancel = context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := c.Fetch(ctx, 10, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Fetch cancelled while waiting: got error %v, want %v", err, context.Canceled)
	}
}

// streamWithHoles publishes n events and deletes those at the sequences
// deleted.
func streamWithHoles(t *testing.T, o Options, n int, deleted ...uint64) (*Stream, jetstream.Stream) {
	t.Helper()
	s := openStream(t, o)
	for i := range n {
		_, err := s.Publish(t.Context(), testEvent(i))
		must(t, "Publish", err)
	}
	st, err := s.js.Stream(t.Context(), s.opts.Stream)
	must(t, "Stream", err)
	for _, seq := range deleted {
		must(t, "DeleteMsg", st.DeleteMsg(t.Context(), seq))
	}
	return s, st
}

// testNextHeld: NextHeld finds the first message held at or after a
// sequence, past deleted ones, and reports none past the last.
func testNextHeld(t *testing.T, o Options) {
	s, _ := streamWithHoles(t, o, 5, 2, 3)
	tests := []struct {
		from   uint64
		want   uint64
		wantOK bool
	}{
		{0, 1, true}, {1, 1, true}, {2, 4, true}, {3, 4, true}, {5, 5, true}, {6, 0, false},
	}
	for _, tt := range tests {
		got, ok, err := s.NextHeld(t.Context(), tt.from)
		must(t, "NextHeld", err)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("NextHeld(%d): got %d, %v; want %d, %v", tt.from, got, ok, tt.want, tt.wantOK)
		}
	}
}

// testRead: Read returns the range in order, each message once, past a
// deleted one, and leaves no consumer behind.
func testRead(t *testing.T, o Options) {
	s, st := streamWithHoles(t, o, 10, 4)
	tests := []struct {
		from, through uint64
		want          []uint64
	}{
		{2, 8, []uint64{2, 3, 5, 6, 7, 8}},
		{0, 100, []uint64{1, 2, 3, 5, 6, 7, 8, 9, 10}},
		{4, 4, nil},
		{11, 20, nil},
	}
	for _, tt := range tests {
		var got []uint64
		err := s.Read(t.Context(), tt.from, tt.through, func(m Msg) error {
			if _, err := m.Event(); err != nil {
				return err
			}
			got = append(got, m.Seq)
			return nil
		})
		must(t, "Read", err)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Read(%d, %d): got %v, want %v", tt.from, tt.through, got, tt.want)
		}
	}
	stop := errors.New("stop")
	if err := s.Read(t.Context(), 1, 10, func(Msg) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Read with a failing fn: got %v, want its error", err)
	}
	var names []string
	for name := range st.ConsumerNames(t.Context()).Name() {
		names = append(names, name)
	}
	if len(names) != 0 {
		t.Errorf("consumers after Read: got %q, want none", names)
	}
}

func testLimits(t *testing.T, o Options) {
	o.MaxAge = 36 * time.Hour
	o.MaxBytes = 32 << 20
	o.DuplicateWindow = 2 * time.Minute
	s := openStream(t, o)
	for _, name := range []string{s.opts.Stream, s.opts.DeadLetterStream} {
		st, err := s.js.Stream(t.Context(), name)
		must(t, "Stream "+name, err)
		cfg := st.CachedInfo().Config
		type limits struct {
			MaxAge, Duplicates time.Duration
			MaxBytes           int64
			Storage            jetstream.StorageType
			Discard            jetstream.DiscardPolicy
		}
		got := limits{cfg.MaxAge, cfg.Duplicates, cfg.MaxBytes, cfg.Storage, cfg.Discard}
		want := limits{36 * time.Hour, 2 * time.Minute, 32 << 20, jetstream.FileStorage, jetstream.DiscardOld}
		if got != want {
			t.Errorf("stream %s limits: got %+v, want %+v", name, got, want)
		}
	}
	must(t, "Close", s.Close())

	// Reopening with other limits updates the stream.
	o.MaxAge, o.MaxBytes, o.DuplicateWindow = 0, 16<<20, 0
	s = openStream(t, o)
	st, err := s.js.Stream(t.Context(), s.opts.Stream)
	must(t, "Stream", err)
	cfg := st.CachedInfo().Config
	if cfg.MaxAge != DefaultMaxAge || cfg.MaxBytes != 16<<20 || cfg.Duplicates != DefaultDuplicateWindow {
		t.Errorf("updated limits: got max age %s, max bytes %d, duplicates %s; want %s, %d, %s",
			cfg.MaxAge, cfg.MaxBytes, cfg.Duplicates, DefaultMaxAge, 16<<20, DefaultDuplicateWindow)
	}
}

func testMaxBytesDiscardsOldest(t *testing.T, o Options) {
	o.MaxBytes = 8 << 10
	s := openStream(t, o)
	events := make([]souq.Event, 100) // about 400 bytes each
	for i := range events {
		events[i] = testEvent(i)
	}
	_, err := s.PublishBatch(t.Context(), events)
	must(t, "PublishBatch", err)
	info, err := s.Info(t.Context())
	must(t, "Info", err)
	if info.Bytes > 8<<10 || info.LastSeq != 100 || info.FirstSeq <= 1 || info.Msgs != info.LastSeq-info.FirstSeq+1 {
		t.Errorf("Info after 100 events into 8 KiB: got %+v, want at most 8192 bytes, last seq 100, the oldest discarded", info)
	}
}

func testMaxAgeExpires(t *testing.T, o Options) {
	o.MaxAge = time.Second
	s := openStream(t, o)
	if s.opts.DuplicateWindow != time.Second {
		t.Errorf("default duplicate window under a 1s max age: got %s, want 1s", s.opts.DuplicateWindow)
	}
	_, err := s.Publish(t.Context(), testEvent(0))
	must(t, "Publish", err)
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := s.Info(t.Context())
		must(t, "Info", err)
		if info.Msgs == 0 && info.LastSeq == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Info 10s after publishing into a 1s stream: got %+v, want no messages, last seq 1", info)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func testDeadLetters(t *testing.T, o Options) {
	s := openStream(t, o)
	tests := []struct {
		suffix     string
		raw        string
		reason     string
		wantReason string
		wantErr    error
	}{
		{"collector", `{"type":"bogus"}`, "unknown type \"bogus\"", "unknown type \"bogus\"", nil},
		{"processor.decode", `not json`, "invalid JSON:\r\nline 1", "invalid JSON: line 1", nil},
		{"relay", ``, "", "unspecified", nil},
		{"", `{}`, "x", "", ErrInvalidSubject},
		{"a.>", `{}`, "x", "", ErrInvalidSubject},
		{"a..b", `{}`, "x", "", ErrInvalidSubject},
	}
	var stored uint64
	for _, tt := range tests {
		t.Run(tt.suffix, func(t *testing.T) {
			err := s.DeadLetter(t.Context(), tt.suffix, []byte(tt.raw), tt.reason)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("DeadLetter(%q): got error %v, want %v", tt.suffix, err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			stored++
			st, err := s.js.Stream(t.Context(), s.opts.DeadLetterStream)
			must(t, "dead-letter stream", err)
			m, err := st.GetMsg(t.Context(), stored)
			must(t, "GetMsg", err)
			if want := s.prefix + DeadLetterPrefix + "." + tt.suffix; m.Subject != want {
				t.Errorf("subject: got %q, want %q", m.Subject, want)
			}
			if string(m.Data) != tt.raw {
				t.Errorf("data: got %q, want %q", m.Data, tt.raw)
			}
			if got := m.Header.Get(ReasonHeader); got != tt.wantReason {
				t.Errorf("reason: got %q, want %q", got, tt.wantReason)
			}
		})
	}
	checkInfo(t, s, Info{DeadLetters: 3})
}

func TestOptionsResolve(t *testing.T) {
	tests := []struct {
		name    string
		in      Options
		want    Options
		wantErr bool
	}{
		{
			name: "defaults",
			in:   Options{StoreDir: "/data"},
			want: Options{StoreDir: "/data", Stream: "SOUQ_EVENTS", DeadLetterStream: "SOUQ_DEADLETTERS",
				MaxAge: 7 * 24 * time.Hour, MaxBytes: 10 << 30, DuplicateWindow: 10 * time.Minute, AckWait: 30 * time.Second, Replicas: 1},
		},
		{
			name: "namespace names the streams",
			in:   Options{URL: "nats://n:4222", Namespace: "staging", Replicas: 3},
			want: Options{URL: "nats://n:4222", Namespace: "staging", Stream: "STAGING_SOUQ_EVENTS", DeadLetterStream: "STAGING_SOUQ_DEADLETTERS",
				MaxAge: 7 * 24 * time.Hour, MaxBytes: 10 << 30, DuplicateWindow: 10 * time.Minute, AckWait: 30 * time.Second, Replicas: 3},
		},
		{
			name: "no limits; the duplicate window keeps its default",
			in:   Options{StoreDir: "/data", Stream: "E", DeadLetterStream: "D", MaxAge: -1, MaxBytes: -1},
			want: Options{StoreDir: "/data", Stream: "E", DeadLetterStream: "D",
				MaxAge: 0, MaxBytes: -1, DuplicateWindow: 10 * time.Minute, AckWait: 30 * time.Second, Replicas: 1},
		},
		{
			name: "default duplicate window lowered to a short max age",
			in:   Options{StoreDir: "/data", MaxAge: time.Minute, SyncAlways: true},
			want: Options{StoreDir: "/data", Stream: "SOUQ_EVENTS", DeadLetterStream: "SOUQ_DEADLETTERS", SyncAlways: true,
				MaxAge: time.Minute, MaxBytes: 10 << 30, DuplicateWindow: time.Minute, AckWait: 30 * time.Second, Replicas: 1},
		},
		{name: "explicit duplicate window above max age", in: Options{StoreDir: "/d", MaxAge: time.Minute, DuplicateWindow: time.Hour}, wantErr: true},
		{name: "embedded without a store directory", in: Options{}, wantErr: true},
		{name: "embedded with replicas", in: Options{StoreDir: "/d", Replicas: 3}, wantErr: true},
		{name: "external with SyncAlways", in: Options{URL: "nats://n:4222", SyncAlways: true}, wantErr: true},
		{name: "external with Listen", in: Options{URL: "nats://n:4222", Listen: ":4222"}, wantErr: true},
		{name: "max bytes below -1", in: Options{StoreDir: "/d", MaxBytes: -2}, wantErr: true},
		{name: "negative ack wait", in: Options{StoreDir: "/d", AckWait: -time.Second}, wantErr: true},
		{name: "namespace with a dot", in: Options{StoreDir: "/d", Namespace: "a.b"}, wantErr: true},
		{name: "one name for both streams", in: Options{StoreDir: "/d", Stream: "S", DeadLetterStream: "S"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.resolve()
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidOptions) {
					t.Errorf("resolve: got error %v, want %v", err, ErrInvalidOptions)
				}
				return
			}
			must(t, "resolve", err)
			got.Logger = nil
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("resolve: got differs from want (-want +got):\n%s", d)
			}
		})
	}
}

// TestEmbeddedServerBadListen: a Listen address whose port is neither a
// number nor a service name is refused as an invalid option.
func TestEmbeddedServerBadListen(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:no-such-service", "127.0.0.1:65536", "4222"} {
		_, err := Open(t.Context(), Options{StoreDir: t.TempDir(), MaxBytes: testMaxBytes, Listen: listen})
		if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), listen) {
			t.Errorf("Listen %q: %v, want %v naming the address", listen, err, ErrInvalidOptions)
		}
	}
}

func TestEmbeddedServer(t *testing.T) {
	tests := []struct {
		name           string
		opts           Options
		wantListening  bool
		wantSyncAlways bool
	}{
		{"no port, lazy sync", Options{}, false, false},
		{"no port, sync always", Options{SyncAlways: true}, false, true},
		{"listening", Options{Listen: "127.0.0.1:0"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.StoreDir, o.MaxBytes = t.TempDir(), testMaxBytes
			s := openStream(t, o)
			if got := s.srv.Addr() != nil; got != tt.wantListening {
				t.Errorf("listening: got %v, want %v", got, tt.wantListening)
			}
			if got := s.ClientURL() != ""; got != tt.wantListening {
				t.Errorf("ClientURL %q: got set %v, want %v", s.ClientURL(), got, tt.wantListening)
			}
			if got := s.srv.JetStreamConfig().SyncAlways; got != tt.wantSyncAlways {
				t.Errorf("server SyncAlways: got %v, want %v", got, tt.wantSyncAlways)
			}
			if got, want := s.srv.JetStreamConfig().StoreDir, o.StoreDir; !strings.HasPrefix(got, want) {
				t.Errorf("store dir: got %q, want under %q", got, want)
			}
		})
	}
}

func TestStoreDirLocked(t *testing.T) {
	// A store directory is one server's: a second embedded server on it
	// is refused while the first runs, and accepted after it closed.
	dir := t.TempDir()
	first, err := Open(t.Context(), Options{StoreDir: dir, MaxBytes: testMaxBytes})
	must(t, "Open", err)
	s, err := Open(t.Context(), Options{StoreDir: dir, MaxBytes: testMaxBytes})
	if !errors.Is(err, ErrStoreDirInUse) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("second Open on one directory: got error %v, want %v", err, ErrStoreDirInUse)
	}
	must(t, "Close", first.Close())
	openStream(t, Options{StoreDir: dir, MaxBytes: testMaxBytes})
}

func TestCloseTwice(t *testing.T) {
	s, err := Open(t.Context(), Options{StoreDir: t.TempDir(), MaxBytes: testMaxBytes})
	must(t, "Open", err)
	must(t, "Close", s.Close())
	must(t, "Close again", s.Close())
	if _, err := s.Publish(t.Context(), testEvent(0)); err == nil {
		t.Errorf("Publish after Close: got nil error, want one")
	}
}

// Delete leaves nothing of the Stream's on the server, and deleting again
// is not an error.
func testDelete(t *testing.T, o Options) {
	s := openStream(t, o)
	ctx := t.Context()
	must(t, "DeadLetter", s.DeadLetter(ctx, "collector", []byte("{}"), "test"))
	_, err := s.leases(ctx)
	must(t, "leases", err)
	must(t, "Delete", s.Delete(ctx))
	for _, name := range []string{s.opts.Stream, s.opts.DeadLetterStream} {
		if _, err := s.js.Stream(ctx, name); !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("stream %s after Delete: got %v, want not found", name, err)
		}
	}
	if _, err := s.js.KeyValue(ctx, s.leaseBucket()); !errors.Is(err, jetstream.ErrBucketNotFound) {
		t.Errorf("lease bucket after Delete: got %v, want not found", err)
	}
	must(t, "Delete again", s.Delete(ctx))
}

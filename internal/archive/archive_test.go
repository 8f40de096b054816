package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/fileblob"
	"github.com/souq-commerce/souq/internal/souq"
)

var errCrash = errors.New("simulated crash")

// base is an event time well inside an hour.
var base = time.Date(2025, 11, 28, 21, 10, 0, 0, time.UTC)

func newBucket(t *testing.T) *fileblob.Dir {
	t.Helper()
	d, err := fileblob.Open(filepath.Join(t.TempDir(), "archive"))
	if err != nil {
		t.Fatalf("fileblob.Open: %v", err)
	}
	return d
}

// newWriter returns a recovered Writer and the sequence it recovered.
func newWriter(t *testing.T, b Bucket, opt Options) (*Writer, uint64) {
	t.Helper()
	w := New(b, opt)
	last, err := w.Recover(context.Background())
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	return w, last
}

// track returns a track event with the given id, event time and properties.
func track(id, name string, at time.Time, props string) souq.Event {
	ev := souq.Event{
		MessageID:   id,
		Type:        "track",
		Event:       name,
		Timestamp:   at,
		ReceivedAt:  at.Add(250 * time.Millisecond),
		AnonymousID: "anon-" + id,
		Context:     json.RawMessage(`{"market":"AE","locale":"ar-AE"}`),
	}
	if props != "" {
		ev.Properties = json.RawMessage(props)
	}
	return ev
}

// events returns n distinct track events one second apart from start.
func events(n int, start time.Time) []souq.Event {
	evs := make([]souq.Event, n)
	for i := range evs {
		evs[i] = track(fmt.Sprintf("evt_%04d", i), "Product Viewed", start.Add(time.Duration(i)*time.Second),
			fmt.Sprintf(`{"product_id":"p%d","price":"%d.00","currency":"AED"}`, i%7, 10+i))
	}
	return evs
}

// addAll adds evs with sequences first, first+1, … and fails on any error.
func addAll(t *testing.T, w *Writer, first uint64, evs []souq.Event) {
	t.Helper()
	for i, ev := range evs {
		if err := w.Add(first+uint64(i), ev); err != nil {
			t.Fatalf("Add(%d): %v", first+uint64(i), err)
		}
	}
}

func flush(t *testing.T, w *Writer) Batch {
	t.Helper()
	b, err := w.Flush(context.Background())
	if err != nil {
		t.Fatalf("Flush: %v", err)
	}
	return b
}

func readAll(t *testing.T, b Bucket) []Record {
	t.Helper()
	recs, err := ReadAll(context.Background(), b, time.Time{}, time.Time{})
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	return recs
}

func records(first uint64, evs []souq.Event) []Record {
	recs := make([]Record, len(evs))
	for i, ev := range evs {
		recs[i] = Record{Seq: first + uint64(i), Event: ev}
	}
	return recs
}

// checkOnce fails unless every message id in recs is there exactly once
// and the ids are exactly want's.
func checkOnce(t *testing.T, recs []Record, want []souq.Event) {
	t.Helper()
	count := make(map[string]int)
	for _, r := range recs {
		count[r.Event.MessageID]++
	}
	for id, n := range count {
		if n != 1 {
			t.Errorf("message %s archived %d times, want once", id, n)
		}
	}
	for _, ev := range want {
		if count[ev.MessageID] == 0 {
			t.Errorf("message %s not archived, want once", ev.MessageID)
		}
	}
	if len(count) != len(want) {
		t.Errorf("got %d distinct messages, want %d", len(count), len(want))
	}
}

func listKeys(t *testing.T, b Bucket, prefix string) []string {
	t.Helper()
	keys, err := b.List(context.Background(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return keys
}

func TestRoundTrip(t *testing.T) {
	dubai := time.FixedZone("GST", 4*3600)
	evs := []souq.Event{
		track("evt_1", "Product Viewed", base, `{"product_id":"prd_01","name":"زيت الأرغان","price":"89.00","currency":"AED","market":"AE"}`),
		{ // identify: no event, traits, a user id, no properties, no context
			MessageID: "evt_2", Type: "identify", Timestamp: base.Add(time.Second), ReceivedAt: base.Add(2 * time.Second),
			UserID: "usr_42", Traits: json.RawMessage(`{"name":"فاطمة","email":"f@example.ae"}`),
		},
		{ // page: a name, only required fields otherwise
			MessageID: "evt_3", Type: "page", Name: "الرئيسية", Timestamp: base.Add(3 * time.Second), ReceivedAt: base.Add(3 * time.Second),
		},
		track("evt_4", "Order Completed", base.Add(4*time.Second).In(dubai),
			`{"order_id":"ord_9","total":"105.000","currency":"KWD","products":[{"product_id":"prd_01","quantity":1}]}`),
		track("evt_5", "Product Added", base.Add(5*time.Second+123456*time.Microsecond), `{"product_id":12345,"emoji":"🛍️ \u0000 \"quoted\""}`),
		track("evt_6", "Products Searched", base.Add(6*time.Second), `null`),
	}
	bucket := newBucket(t)
	w, _ := newWriter(t, bucket, Options{})
	addAll(t, w, 1, evs)
	b := flush(t, w)
	if b.FirstSeq != 1 || b.LastSeq != 6 || b.Rows != 6 {
		t.Errorf("Flush: got range %d-%d with %d rows, want 1-6 with 6", b.FirstSeq, b.LastSeq, b.Rows)
	}
	got := readAll(t, bucket)
	if diff := cmp.Diff(records(1, evs), got); diff != "" {
		t.Errorf("ReadAll (-want +got):\n%s", diff)
	}
	for _, r := range got {
		if loc := r.Event.Timestamp.Location(); loc != time.UTC {
			t.Errorf("seq %d: timestamp location got %v, want UTC", r.Seq, loc)
		}
	}
}

func TestConvenienceColumns(t *testing.T) {
	tests := []struct {
		name                string
		props, ctx          string
		market, prod, order string
	}{
		{"context market wins", `{"market":"SA","product_id":"p1"}`, `{"market":"AE"}`, "AE", "p1", ""},
		{"properties market", `{"market":"QA","order_id":"o1"}`, `{"locale":"ar"}`, "QA", "", "o1"},
		{"numeric ids", `{"product_id":42,"order_id":-7.5}`, ``, "", "42", "-7.5"},
		{"not scalars", `{"product_id":{"x":1},"order_id":[1],"market":true}`, `{"market":null}`, "", "", ""},
		{"not an object", `["a"]`, `"AE"`, "", "", ""},
		{"none", ``, ``, "", "", ""},
		{"unicode", `{"product_id":"منتج-١"}`, `{"market":"BH"}`, "BH", "منتج-١", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := souq.Event{MessageID: "m", Type: "track", Event: "x", Timestamp: base}
			if tt.props != "" {
				ev.Properties = json.RawMessage(tt.props)
			}
			if tt.ctx != "" {
				ev.Context = json.RawMessage(tt.ctx)
			}
			r, err := newRow(1, ev)
			if err != nil {
				t.Fatalf("newRow: %v", err)
			}
			if r.Market != tt.market || r.ProductID != tt.prod || r.OrderID != tt.order {
				t.Errorf("got market %q product %q order %q, want %q %q %q",
					r.Market, r.ProductID, r.OrderID, tt.market, tt.prod, tt.order)
			}
		})
	}
}

func TestPartitioning(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	evs := []souq.Event{
		track("a", "Product Viewed", at("2025-11-30T22:59:59.999999Z"), `{}`),
		track("b", "Product Viewed", at("2025-11-30T23:00:00Z"), `{}`),
		track("c", "Product Viewed", at("2025-11-30T23:59:59Z"), `{}`),
		track("d", "Product Viewed", at("2025-12-01T00:00:00Z"), `{}`),
		track("e", "Product Viewed", at("2025-11-30T22:30:00Z"), `{}`), // late event, earlier hour
		// 02:30 in Dubai is 22:30 UTC the day before: partitions are UTC.
		track("f", "Product Viewed", at("2025-12-01T02:30:00+04:00"), `{}`),
	}
	bucket := newBucket(t)
	w, _ := newWriter(t, bucket, Options{})
	addAll(t, w, 1, evs)
	b := flush(t, w)

	const r = "00000000000000000001-00000000000000000006"
	want := map[string][]uint64{ // key → sequences in the file
		"events/dt=2025-11-30/hour=22/events-" + r + ".parquet": {1, 5, 6},
		"events/dt=2025-11-30/hour=23/events-" + r + ".parquet": {2, 3},
		"events/dt=2025-12-01/hour=00/events-" + r + ".parquet": {4},
	}
	got := make(map[string][]uint64)
	for _, f := range b.Files {
		data, err := bucket.Get(context.Background(), f.Key)
		if err != nil {
			t.Fatalf("Get(%s): %v", f.Key, err)
		}
		recs, err := ReadFile(data)
		if err != nil {
			t.Fatalf("ReadFile(%s): %v", f.Key, err)
		}
		for _, rec := range recs {
			got[f.Key] = append(got[f.Key], rec.Seq)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files and their sequences (-want +got):\n%s", diff)
	}
	if keys := listKeys(t, bucket, "events/_manifests/"); !slices.Equal(keys, []string{"events/_manifests/00000000000000000001.json"}) {
		t.Errorf("manifests: got %q, want one for %s", keys, r)
	}
	if want := at("2025-11-30T22:30:00Z"); !b.MinEventTime.Equal(want) {
		t.Errorf("MinEventTime: got %v, want %v", b.MinEventTime, want)
	}
	if want := at("2025-12-01T00:00:00Z"); !b.MaxEventTime.Equal(want) {
		t.Errorf("MaxEventTime: got %v, want %v", b.MaxEventTime, want)
	}
}

func TestDeterministicBytes(t *testing.T) {
	evs := events(500, base.Add(47*time.Minute+30*time.Second)) // the first batch crosses into the next hour
	var snapshots [2]map[string]string
	for i := range snapshots {
		bucket := newBucket(t)
		w, _ := newWriter(t, bucket, Options{})
		addAll(t, w, 1, evs[:300])
		flush(t, w)
		addAll(t, w, 301, evs[300:])
		flush(t, w)
		snapshots[i] = make(map[string]string)
		for _, k := range listKeys(t, bucket, "") {
			data, err := bucket.Get(context.Background(), k)
			if err != nil {
				t.Fatal(err)
			}
			snapshots[i][k] = string(data)
		}
	}
	if len(snapshots[0]) != 5 { // 2 + 1 data files, 2 manifests
		t.Errorf("got %d blobs, want 5: %v", len(snapshots[0]), slices.Sorted(mapKeys(snapshots[0])))
	}
	for k, v := range snapshots[0] {
		if snapshots[1][k] != v {
			t.Errorf("%s differs between two writers given the same input", k)
		}
	}
	if len(snapshots[1]) != len(snapshots[0]) {
		t.Errorf("second writer wrote %d blobs, first %d", len(snapshots[1]), len(snapshots[0]))
	}
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestAdd(t *testing.T) {
	valid := track("m", "Product Viewed", base, `{"product_id":"p"}`)
	with := func(f func(*souq.Event)) souq.Event {
		ev := valid
		f(&ev)
		return ev
	}
	tests := []struct {
		name string
		seq  uint64
		ev   souq.Event
		want error
	}{
		{"next", 12, valid, nil},
		{"redelivered while pending", 11, valid, nil},
		{"committed", 5, valid, ErrArchived},
		{"last committed", 10, valid, ErrArchived},
		{"gap filled late", 9, valid, ErrArchived},
		{"zero sequence", 0, valid, ErrInvalidEvent},
		{"beyond the next", 13, valid, ErrGap},
		{"no message id", 12, with(func(e *souq.Event) { e.MessageID = "" }), ErrInvalidEvent},
		{"no type", 12, with(func(e *souq.Event) { e.Type = "" }), ErrInvalidEvent},
		{"no timestamp", 12, with(func(e *souq.Event) { e.Timestamp = time.Time{} }), ErrInvalidEvent},
		{"year 10000", 12, with(func(e *souq.Event) { e.Timestamp = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }), ErrInvalidEvent},
		{"bad properties", 12, with(func(e *souq.Event) { e.Properties = json.RawMessage(`{"a":`) }), ErrInvalidEvent},
		{"bad context", 12, with(func(e *souq.Event) { e.Context = json.RawMessage(`nope`) }), ErrInvalidEvent},
		{"bad traits", 12, with(func(e *souq.Event) { e.Traits = json.RawMessage(`{]`) }), ErrInvalidEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bucket := newBucket(t)
			w, _ := newWriter(t, bucket, Options{})
			addAll(t, w, 1, events(10, base))
			flush(t, w) // committed: 1–10
			if err := w.Add(11, valid); err != nil {
				t.Fatalf("Add(11): %v", err)
			}
			err := w.Add(tt.seq, tt.ev)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Add(%d): got %v, want %v", tt.seq, err, tt.want)
			}
			wantPending := 1
			if tt.seq == 12 { // taken: as a row, or rejected
				wantPending = 2
			}
			if n := w.Pending(); n != wantPending {
				t.Errorf("Pending: got %d, want %d", n, wantPending)
			}
		})
	}
}

// TestSkipAndRejected: sequences the stream does not hold and invalid
// events take their place in the range, and the manifest lists them.
func TestSkipAndRejected(t *testing.T) {
	bucket := newBucket(t)
	w, _ := newWriter(t, bucket, Options{})
	evs := events(10, base)
	addAll(t, w, 1, evs[:2])
	if err := w.Skip(3, 5); err != nil {
		t.Fatalf("Skip(3, 5): %v", err)
	}
	if err := w.Skip(7, 8); !errors.Is(err, ErrOutOfOrder) {
		t.Errorf("Skip(7, 8) with 6 next: got %v, want ErrOutOfOrder", err)
	}
	if err := w.Add(4, evs[3]); !errors.Is(err, ErrOutOfOrder) {
		t.Errorf("Add(4) of a skipped sequence: got %v, want ErrOutOfOrder", err)
	}
	if err := w.Add(6, track("", "y", base, "")); !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("Add(6) without message id: got %v, want ErrInvalidEvent", err)
	}
	if err := w.Add(6, evs[5]); !errors.Is(err, ErrRejected) {
		t.Errorf("Add(6) again: got %v, want ErrRejected", err)
	}
	if err := w.Reject(6); !errors.Is(err, ErrRejected) {
		t.Errorf("Reject(6) again: got %v, want ErrRejected", err)
	}
	addAll(t, w, 7, evs[6:8])
	if n := w.Pending(); n != 8 {
		t.Errorf("Pending: got %d, want 8", n)
	}
	b := flush(t, w)
	want := Batch{FirstSeq: 1, LastSeq: 8, Rows: 4, Rejected: []uint64{6}, Missing: []SeqRange{{3, 5}}}
	if b.FirstSeq != want.FirstSeq || b.LastSeq != want.LastSeq || b.Rows != want.Rows ||
		!slices.Equal(b.Rejected, want.Rejected) || !slices.Equal(b.Missing, want.Missing) || !b.Accounted() {
		t.Errorf("batch: got %d–%d rows %d rejected %v missing %v, want %d–%d rows %d rejected %v missing %v",
			b.FirstSeq, b.LastSeq, b.Rows, b.Rejected, b.Missing, want.FirstSeq, want.LastSeq, want.Rows, want.Rejected, want.Missing)
	}
	ms, err := Manifests(t.Context(), bucket)
	if err != nil || len(ms) != 1 || !ms[0].Accounted() || ms[0].Missed() != 3 {
		t.Errorf("manifests: got %+v, %v; want one accounted batch missing 3", ms, err)
	}
	// A batch of missing sequences only commits a manifest and no file.
	if err := w.Skip(9, 9); err != nil {
		t.Fatal(err)
	}
	if b := flush(t, w); b.FirstSeq != 9 || b.LastSeq != 9 || b.Rows != 0 || len(b.Files) != 0 {
		t.Errorf("batch of a missing sequence: got %+v", b)
	}
	if w.Next() != 10 {
		t.Errorf("Next: got %d, want 10", w.Next())
	}
}

func TestAddBeforeRecover(t *testing.T) {
	w := New(newBucket(t), Options{})
	if err := w.Add(1, events(1, base)[0]); !errors.Is(err, ErrNotRecovered) {
		t.Errorf("Add before Recover: got %v, want ErrNotRecovered", err)
	}
}

func TestDue(t *testing.T) {
	ev := track("m", "Product Viewed", base, `{"product_id":"p","name":"`+strings.Repeat("x", 200)+`"}`)
	size := func() int { r, _ := newRow(1, ev); return r.size() }()
	tests := []struct {
		name    string
		opt     Options
		adds    int
		elapsed time.Duration
		want    bool
	}{
		{"empty, even when old", Options{}, 0, time.Hour, false},
		{"under every bound", Options{MaxRows: 3}, 2, 9 * time.Second, false},
		{"rows reached", Options{MaxRows: 3}, 3, 0, true},
		{"bytes under", Options{MaxBytes: 3 * size}, 2, 0, false},
		{"bytes reached", Options{MaxBytes: 3 * size}, 3, 0, true},
		{"default age not reached", Options{}, 1, DefaultMaxAge - time.Second, false},
		{"default age reached", Options{}, 1, DefaultMaxAge, true},
		{"clock went back", Options{}, 1, -time.Hour, true},
		{"custom age reached", Options{MaxAge: 5 * time.Second}, 1, 5 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := base
			tt.opt.Now = func() time.Time { return now }
			w, _ := newWriter(t, newBucket(t), tt.opt)
			for i := range tt.adds {
				e := ev
				e.MessageID = fmt.Sprint("m", i)
				if err := w.Add(uint64(i+1), e); err != nil {
					t.Fatal(err)
				}
				now = now.Add(time.Millisecond)
			}
			now = base.Add(tt.elapsed)
			if got := w.Due(); got != tt.want {
				t.Errorf("Due: got %t, want %t", got, tt.want)
			}
		})
	}
}

func TestDueAgeRestartsAfterFlush(t *testing.T) {
	now := base
	w, _ := newWriter(t, newBucket(t), Options{MaxAge: 10 * time.Second, Now: func() time.Time { return now }})
	evs := events(2, base)
	addAll(t, w, 1, evs[:1])
	now = now.Add(10 * time.Second)
	if !w.Due() {
		t.Fatalf("Due after MaxAge: got false, want true")
	}
	flush(t, w)
	now = now.Add(time.Hour)
	addAll(t, w, 2, evs[1:])
	if w.Due() {
		t.Errorf("Due right after adding to an empty batch: got true, want false (age counts from the first pending event)")
	}
}

// TestFlushNeverCommitsAGap: a sequence that is not the next one cannot be
// added, so no manifest claims a range whose rows the Writer did not hold.
func TestFlushNeverCommitsAGap(t *testing.T) {
	bucket := newBucket(t)
	w, _ := newWriter(t, bucket, Options{})
	evs := events(10, base)
	addAll(t, w, 1, evs[:2])
	if err := w.Add(5, evs[4]); !errors.Is(err, ErrGap) {
		t.Errorf("Add(5) after 2: got %v, want ErrGap", err)
	}
	if got := w.Next(); got != 3 {
		t.Errorf("Next: got %d, want 3", got)
	}
	b := flush(t, w)
	if b.FirstSeq != 1 || b.LastSeq != 2 || b.Rows != 2 {
		t.Errorf("batch: got %d–%d with %d rows, want 1–2 with 2", b.FirstSeq, b.LastSeq, b.Rows)
	}
	if err := w.Add(4, evs[3]); !errors.Is(err, ErrGap) {
		t.Errorf("Add(4) after committing 2: got %v, want ErrGap", err)
	}
	addAll(t, w, 3, evs[2:])
	b = flush(t, w)
	if b.FirstSeq != 3 || b.LastSeq != 10 || b.Rows != 8 {
		t.Errorf("batch: got %d–%d with %d rows, want 3–10 with 8", b.FirstSeq, b.LastSeq, b.Rows)
	}
}

package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/souq-commerce/souq/internal/souq"
)

// onlyFile flushes evs as one batch and returns the bytes of its only file.
func onlyFile(t *testing.T, evs []souq.Event) []byte {
	t.Helper()
	bucket := newBucket(t)
	w, _ := newWriter(t, bucket, Options{})
	addAll(t, w, 1, evs)
	b := flush(t, w)
	if len(b.Files) != 1 {
		t.Fatalf("batch has %d files, want 1", len(b.Files))
	}
	data, err := bucket.Get(context.Background(), b.Files[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestFileSchema(t *testing.T) {
	data := onlyFile(t, events(3, base))
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("OpenFile: %v", err)
	}
	type column struct {
		Name     string
		Optional bool
		Physical string
		Logical  string
	}
	const micros = "TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)"
	want := []column{
		{"stream_seq", false, "INT64", "INT(64,true)"},
		{"message_id", false, "BYTE_ARRAY", "STRING"},
		{"type", false, "BYTE_ARRAY", "STRING"},
		{"event", true, "BYTE_ARRAY", "STRING"},
		{"name", true, "BYTE_ARRAY", "STRING"},
		{"timestamp", false, "INT64", micros},
		{"received_at", false, "INT64", micros},
		{"user_id", true, "BYTE_ARRAY", "STRING"},
		{"anonymous_id", true, "BYTE_ARRAY", "STRING"},
		{"properties", true, "BYTE_ARRAY", "JSON"},
		{"traits", true, "BYTE_ARRAY", "JSON"},
		{"context", true, "BYTE_ARRAY", "JSON"},
		{"market", true, "BYTE_ARRAY", "STRING"},
		{"product_id", true, "BYTE_ARRAY", "STRING"},
		{"order_id", true, "BYTE_ARRAY", "STRING"},
	}
	var got []column
	for _, fl := range f.Schema().Fields() {
		c := column{Name: fl.Name(), Optional: fl.Optional(), Physical: fl.Type().Kind().String()}
		if lt := fl.Type().LogicalType(); lt != nil {
			c.Logical = lt.String()
		}
		got = append(got, c)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("schema (-want +got):\n%s", diff)
	}

	md := f.Metadata()
	if want := "souq archive version 1(build parquet-go v0.32.0)"; md.CreatedBy != want {
		t.Errorf("created_by: got %q, want %q", md.CreatedBy, want)
	}
	if len(md.RowGroups) != 1 {
		t.Fatalf("row groups: got %d, want 1", len(md.RowGroups))
	}
	rg := md.RowGroups[0]
	if want := []format.SortingColumn{{ColumnIdx: 0}}; !cmp.Equal([]format.SortingColumn(rg.SortingColumns), want) {
		t.Errorf("sorting columns: got %+v, want %+v (stream_seq ascending)", rg.SortingColumns, want)
	}
	// Only encodings every Parquet reader knows.
	portable := map[format.Encoding]bool{format.Plain: true, format.RLE: true, format.RLEDictionary: true}
	for _, c := range rg.Columns {
		if c.MetaData.Codec != format.Zstd {
			t.Errorf("column %v: codec got %v, want ZSTD", c.MetaData.PathInSchema, c.MetaData.Codec)
		}
		for _, e := range c.MetaData.Encoding {
			if !portable[e] {
				t.Errorf("column %v: encoding got %v, want PLAIN, RLE or RLE_DICTIONARY", c.MetaData.PathInSchema, e)
			}
		}
	}
}

// external is how another program might read the archive: its own struct,
// time.Time timestamps, pointers for NULLs, only some columns.
type external struct {
	Seq        int64     `parquet:"stream_seq"`
	MessageID  string    `parquet:"message_id"`
	Event      *string   `parquet:"event,optional"`
	Name       *string   `parquet:"name,optional"`
	Timestamp  time.Time `parquet:"timestamp,timestamp(microsecond)"`
	ReceivedAt time.Time `parquet:"received_at,timestamp(microsecond)"`
	Properties *string   `parquet:"properties,optional"`
	Market     *string   `parquet:"market,optional"`
	ProductID  *string   `parquet:"product_id,optional"`
	OrderID    *string   `parquet:"order_id,optional"`
}

func TestGenericReader(t *testing.T) {
	ptr := func(s string) *string { return &s }
	at := base.Add(1500 * time.Microsecond)
	evs := []souq.Event{
		track("m1", "Order Completed", at, `{"order_id":"ord_1","market":"KW","total":"12.500"}`),
		{MessageID: "m2", Type: "page", Name: "السلة", Timestamp: at, ReceivedAt: at},
	}
	evs[1].Context = json.RawMessage(`{"market":"OM"}`)
	data := onlyFile(t, evs)
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	r := parquet.NewGenericReader[external](f)
	defer r.Close()
	got := make([]external, 3)
	n, err := r.Read(got)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("Read: %v", err)
	}
	want := []external{
		{
			Seq: 1, MessageID: "m1", Event: ptr("Order Completed"), Timestamp: at, ReceivedAt: at.Add(250 * time.Millisecond),
			Properties: ptr(`{"order_id":"ord_1","market":"KW","total":"12.500"}`),
			Market:     ptr("AE"), OrderID: ptr("ord_1"), // context.market wins over properties.market
		},
		{Seq: 2, MessageID: "m2", Name: ptr("السلة"), Timestamp: at, ReceivedAt: at, Market: ptr("OM")},
	}
	if diff := cmp.Diff(want, got[:n]); diff != "" {
		t.Errorf("rows read by parquet.GenericReader (-want +got):\n%s", diff)
	}
}

func TestReadAllRange(t *testing.T) {
	// One event every 20 minutes from 21:10 on the 28th to 01:30 on the 29th.
	evs := events(0, base)
	for i := range 14 {
		at := base.Add(time.Duration(i) * 20 * time.Minute)
		evs = append(evs, track(fmt.Sprint("e", i), "Product Viewed", at, `{}`))
	}
	bucket := newBucket(t)
	w, _ := newWriter(t, bucket, Options{})
	addAll(t, w, 1, evs[:7])
	flush(t, w)
	addAll(t, w, 8, evs[7:])
	flush(t, w)

	hour := func(d, h int) time.Time { return time.Date(2025, 11, d, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		name     string
		from, to time.Time
		want     []uint64
	}{
		{"everything", time.Time{}, time.Time{}, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}},
		{"one hour", hour(28, 22), hour(28, 23), []uint64{4, 5, 6}},
		{"to is exclusive", hour(28, 21), base.Add(40 * time.Minute), []uint64{1, 2}},
		{"from is inclusive", base.Add(40 * time.Minute), hour(28, 22), []uint64{3}},
		{"across midnight and batches", hour(28, 23), hour(29, 1), []uint64{7, 8, 9, 10, 11, 12}},
		{"open start", time.Time{}, hour(28, 22), []uint64{1, 2, 3}},
		{"open end", hour(29, 1), time.Time{}, []uint64{13, 14}},
		{"nothing there", hour(27, 0), hour(28, 0), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := ReadAll(context.Background(), bucket, tt.from, tt.to)
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			var got []uint64
			for _, r := range recs {
				got = append(got, r.Seq)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("sequences (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadAllIgnoresOrphans(t *testing.T) {
	ctx := context.Background()
	bucket := newBucket(t)
	w, _ := newWriter(t, bucket, Options{})
	evs := events(4, base)
	addAll(t, w, 1, evs[:2])
	flush(t, w)
	addAll(t, w, 3, evs[2:])
	w.beforeManifest = func() error { return errCrash }
	if _, err := w.Flush(ctx); !errors.Is(err, errCrash) {
		t.Fatalf("Flush: got %v, want errCrash", err)
	}
	// No Recover: the orphan is still there, and must not be read.
	recs := readAll(t, bucket)
	if diff := cmp.Diff(records(1, evs[:2]), recs); diff != "" {
		t.Errorf("ReadAll with an orphan present (-want +got):\n%s", diff)
	}
}

func TestReadAllDetectsDamage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(ctx context.Context, b Bucket, key string) error
		want   error
	}{
		{"file replaced", func(ctx context.Context, b Bucket, key string) error {
			other := onlyFile(t, events(5, base))
			return b.Put(ctx, key, other)
		}, ErrCorrupt},
		{"byte flipped", func(ctx context.Context, b Bucket, key string) error {
			data, err := b.Get(ctx, key)
			if err != nil {
				return err
			}
			data[len(data)/2] ^= 0xff
			return b.Put(ctx, key, data)
		}, ErrCorrupt},
		{"file missing", func(ctx context.Context, b Bucket, key string) error {
			return b.Delete(ctx, key)
		}, fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			bucket := newBucket(t)
			w, _ := newWriter(t, bucket, Options{})
			addAll(t, w, 1, events(3, base))
			b := flush(t, w)
			if err := tt.damage(ctx, bucket, b.Files[0].Key); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadAll(ctx, bucket, time.Time{}, time.Time{}); !errors.Is(err, tt.want) {
				t.Errorf("ReadAll: got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestReadFileRejectsGarbage(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("PAR1"), []byte("not parquet at all")} {
		if _, err := ReadFile(data); err == nil {
			t.Errorf("ReadFile(%q): got nil error, want one", data)
		}
	}
}

func TestKeys(t *testing.T) {
	tests := []struct {
		key     string
		ok      bool
		r       seqRange
		hour    time.Time
		isManif bool
	}{
		{"events/dt=2025-11-28/hour=21/events-00000000000000000001-00000000000000000010.parquet", true,
			seqRange{1, 10}, time.Date(2025, 11, 28, 21, 0, 0, 0, time.UTC), false},
		{"events/dt=2025-11-28/hour=21/events-18446744073709551615-18446744073709551615.parquet", true,
			seqRange{1<<64 - 1, 1<<64 - 1}, time.Date(2025, 11, 28, 21, 0, 0, 0, time.UTC), false},
		{"events/_manifests/00000000000000000001-00000000000000000010.json", true, seqRange{1, 10}, time.Time{}, true},
		{"events/_manifests/00000000000000000007.json", true, seqRange{7, 0}, time.Time{}, true},
		{"events/_manifests/00000000000000000000.json", false, seqRange{}, time.Time{}, true},
		{"events/_manifests/7.json", false, seqRange{}, time.Time{}, true},
		{"events/dt=2025-11-28/hour=21/events-1-10.parquet", false, seqRange{}, time.Time{}, false},
		{"events/dt=2025-11-28/hour=24/events-00000000000000000001-00000000000000000010.parquet", false, seqRange{}, time.Time{}, false},
		{"events/dt=2025-11-28/events-00000000000000000001-00000000000000000010.parquet", false, seqRange{}, time.Time{}, false},
		{"events/dt=2025-11-28/hour=21/events-00000000000000000010-00000000000000000001.parquet", false, seqRange{}, time.Time{}, false},
		{"events/dt=2025-11-28/hour=21/notes.parquet", false, seqRange{}, time.Time{}, false},
		{"events/_manifests/00000000000000000001-00000000000000000010.json.tmp", false, seqRange{}, time.Time{}, true},
		{"other/_manifests/00000000000000000001-00000000000000000010.json", false, seqRange{}, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if tt.isManif {
				first, last, ok := parseManifestKey(tt.key)
				if r := (seqRange{first, last}); ok != tt.ok || r != tt.r {
					t.Errorf("parseManifestKey: got %v, %t; want %v, %t", r, ok, tt.r, tt.ok)
				}
				if ok && last == 0 && manifestKey(first) != tt.key {
					t.Errorf("manifestKey(%d): got %q, want %q", first, manifestKey(first), tt.key)
				}
				return
			}
			r, hour, ok := parseDataKey(tt.key)
			if ok != tt.ok || r != tt.r || !hour.Equal(tt.hour) {
				t.Errorf("parseDataKey: got %v, %v, %t; want %v, %v, %t", r, hour, ok, tt.r, tt.hour, tt.ok)
			}
			if ok {
				if got := dataKey(partition(hour.Add(59*time.Minute)), r); got != tt.key {
					t.Errorf("dataKey: got %q, want %q", got, tt.key)
				}
			}
		})
	}
}

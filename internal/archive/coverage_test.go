package archive

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestMeasure(t *testing.T) {
	batch := func(first, last uint64, rows int) Batch {
		return Batch{Version: manifestVersion, FirstSeq: first, LastSeq: last, Rows: rows, Files: []File{{Rows: rows}}}
	}
	withRejected := batch(11, 20, 9)
	withRejected.Rejected = []uint64{15}
	withMissing := batch(1, 10, 7)
	withMissing.Missing = []SeqRange{{1, 3}}
	v1 := batch(1, 10, 8)
	v1.Version = manifestVersionV1
	lying := batch(1, 10, 10)
	lying.Files[0].Rows = 9
	tests := []struct {
		name    string
		batches []Batch
		want    Coverage
	}{
		{"empty", nil, Coverage{}},
		{"whole", []Batch{batch(11, 20, 10), batch(1, 10, 10)},
			Coverage{Batches: 2, Files: 2, LastSeq: 20, Rows: 20}},
		{"rejected are accounted", []Batch{batch(1, 10, 10), withRejected},
			Coverage{Batches: 2, Files: 2, LastSeq: 20, Rows: 19, Rejected: 1}},
		{"missing are lost", []Batch{withMissing},
			Coverage{Batches: 1, Files: 1, LastSeq: 10, Rows: 7, Missing: 3}},
		// The archive of the lost-events report: one file named for 1–1500
		// holding 1,306 rows.
		{"short batch", []Batch{batch(1, 1500, 1306)},
			Coverage{Batches: 1, Files: 1, LastSeq: 1500, Rows: 1306, Short: []SeqRange{{1, 1500}}, ShortBy: 194}},
		{"files short of the manifest", []Batch{lying},
			Coverage{Batches: 1, Files: 1, LastSeq: 10, Rows: 10, Short: []SeqRange{{1, 10}}, ShortBy: 1}},
		{"hole at the start", []Batch{batch(5, 10, 6)},
			Coverage{Batches: 1, Files: 1, LastSeq: 10, Rows: 6, Holes: []SeqRange{{1, 4}}}},
		{"hole between", []Batch{batch(1, 10, 10), batch(21, 30, 10)},
			Coverage{Batches: 2, Files: 2, LastSeq: 30, Rows: 20, Holes: []SeqRange{{11, 20}}}},
		{"overlap", []Batch{batch(1, 10, 10), batch(5, 12, 8)},
			Coverage{Batches: 2, Files: 2, LastSeq: 12, Rows: 18, Overlapping: []SeqRange{{5, 12}}}},
		{"version 1 without rejected", []Batch{v1},
			Coverage{Batches: 1, Files: 1, LastSeq: 10, Rows: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Measure(tt.batches)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Measure (-want +got):\n%s", diff)
			}
			wantOK := tt.want.Lost() == 0 && len(tt.want.Overlapping) == 0 && len(tt.want.Short) == 0
			if got.OK() != wantOK {
				t.Errorf("OK: got %v, want %v (lost %d)", got.OK(), wantOK, got.Lost())
			}
		})
	}
}

// TestIndex measures a real archive, then one with a manifest removed (a
// hole) and one whose manifest claims more than it holds.
func TestIndex(t *testing.T) {
	bucket := newBucket(t)
	w, _ := newWriter(t, bucket, Options{})
	evs := events(30, base)
	for i := range 3 {
		addAll(t, w, uint64(1+10*i), evs[10*i:10*(i+1)])
		flush(t, w)
	}
	x := NewIndex(bucket)
	c, err := x.Coverage(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !c.OK() || c.LastSeq != 30 || c.Rows != 30 || c.Batches != 3 {
		t.Errorf("coverage: got %+v, want 3 whole batches up to 30", c)
	}

	if err := bucket.Delete(t.Context(), manifestKey(11)); err != nil {
		t.Fatal(err)
	}
	short := Batch{Version: manifestVersion, FirstSeq: 31, LastSeq: 40, Rows: 5, Files: []File{{Key: "k", Rows: 5}}}
	data, err := encodeManifest(short)
	if err != nil {
		t.Fatal(err)
	}
	if err := bucket.Put(t.Context(), manifestKey(short.FirstSeq), data); err != nil {
		t.Fatal(err)
	}
	c, err = x.Coverage(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Holes, []SeqRange{{11, 20}}; !cmp.Equal(got, want) {
		t.Errorf("holes: got %v, want %v", got, want)
	}
	if c.Lost() != 15 || c.LastSeq != 40 || c.OK() {
		t.Errorf("coverage: got %d lost up to %d (OK %v), want 15 up to 40", c.Lost(), c.LastSeq, c.OK())
	}
}

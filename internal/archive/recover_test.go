package archive

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCrashBeforeManifest(t *testing.T) {
	ctx := context.Background()
	evs := events(20, base.Add(49*time.Minute+45*time.Second)) // the second batch spans two hours
	bucket := newBucket(t)

	w1, _ := newWriter(t, bucket, Options{})
	addAll(t, w1, 1, evs[:10])
	flush(t, w1)
	addAll(t, w1, 11, evs[10:])
	w1.beforeManifest = func() error { return errCrash }
	if _, err := w1.Flush(ctx); !errors.Is(err, errCrash) {
		t.Fatalf("Flush with a crash before the manifest: got %v, want errCrash", err)
	}
	orphans := listKeys(t, bucket, "events/dt=")
	if len(orphans) != 3 { // the committed batch's one file, and two orphans
		t.Fatalf("data files after the crash: got %q, want 3", orphans)
	}
	// The process dies; w1 is gone. The stream redelivers everything not
	// acknowledged (11–20) and, for good measure, some acknowledged ones.
	w2, last := newWriter(t, bucket, Options{})
	if last != 10 {
		t.Errorf("Recover: got last seq %d, want 10", last)
	}
	// The orphans are ahead of the archive: as far as Recover can tell,
	// another writer may be about to commit them, so they stay.
	if got := listKeys(t, bucket, "events/dt="); len(got) != 3 {
		t.Errorf("data files after Recover: got %q, want the 3 still there", got)
	}
	for seq := uint64(5); seq <= 10; seq++ {
		if err := w2.Add(seq, evs[seq-1]); !errors.Is(err, ErrArchived) {
			t.Errorf("Add(%d) redelivered after commit: got %v, want ErrArchived", seq, err)
		}
	}
	addAll(t, w2, 11, evs[10:])
	b := flush(t, w2)
	if b.FirstSeq != 11 || b.LastSeq != 20 {
		t.Errorf("retried batch: got %d-%d, want 11-20", b.FirstSeq, b.LastSeq)
	}
	got := readAll(t, bucket)
	checkOnce(t, got, evs)
	if diff := cmp.Diff(records(1, evs), got); diff != "" {
		t.Errorf("ReadAll (-want +got):\n%s", diff)
	}
	if files := listKeys(t, bucket, "events/dt="); len(files) != 3 {
		t.Errorf("data files: got %q, want 3 (1 + 2, no orphans)", files)
	}
}

func TestCrashAfterManifest(t *testing.T) {
	ctx := context.Background()
	evs := events(8, base)
	bucket := newBucket(t)
	w1, _ := newWriter(t, bucket, Options{})
	addAll(t, w1, 1, evs)
	flush(t, w1)
	// Crash before the acknowledgements: everything is redelivered.
	w2, last := newWriter(t, bucket, Options{})
	if last != 8 {
		t.Errorf("Recover: got last seq %d, want 8", last)
	}
	for i, ev := range evs {
		if err := w2.Add(uint64(i+1), ev); !errors.Is(err, ErrArchived) {
			t.Errorf("Add(%d): got %v, want ErrArchived", i+1, err)
		}
	}
	if n := w2.Pending(); n != 0 {
		t.Errorf("Pending: got %d, want 0", n)
	}
	b, err := w2.Flush(ctx)
	if err != nil || b.Rows != 0 || len(b.Files) != 0 {
		t.Errorf("Flush with nothing pending: got %+v, %v; want an empty batch", b, err)
	}
	checkOnce(t, readAll(t, bucket), evs)
	if n := len(listKeys(t, bucket, "events/_manifests/")); n != 1 {
		t.Errorf("manifests: got %d, want 1", n)
	}
}

// faultyBucket wraps a Bucket and fails chosen Puts.
type faultyBucket struct {
	Bucket
	mu sync.Mutex
	// fail decides the outcome of a Put: fail it before writing, after
	// writing (an ambiguous failure), or let it through.
	fail func(key string) fault
}

type fault int

const (
	noFault fault = iota
	failBefore
	failAfter
)

func (f *faultyBucket) Put(ctx context.Context, key string, data []byte) error {
	return f.write(ctx, key, data, f.Bucket.Put)
}

func (f *faultyBucket) Create(ctx context.Context, key string, data []byte) error {
	return f.write(ctx, key, data, f.Bucket.Create)
}

func (f *faultyBucket) write(ctx context.Context, key string, data []byte, do func(context.Context, string, []byte) error) error {
	f.mu.Lock()
	mode := f.fail(key)
	f.mu.Unlock()
	switch mode {
	case failBefore:
		return fmt.Errorf("write %s: %w", key, errCrash)
	case failAfter:
		if err := do(ctx, key, data); err != nil {
			return err
		}
		return fmt.Errorf("write %s: %w", key, errCrash)
	}
	return do(ctx, key, data)
}

func TestFlushRetry(t *testing.T) {
	tests := []struct {
		name  string
		match string // the first Put of a key containing match fails
		mode  fault
		// more is how many events arrive between the failure and the retry.
		more      int
		wantFirst uint64 // first sequence of the batch the retry returns
	}{
		{"second data file fails, retry without new events", "hour=22", failBefore, 0, 1},
		{"second data file fails, new events change the range", "hour=22", failBefore, 5, 1},
		{"manifest written but reported failed, retry without new events", "_manifests", failAfter, 0, 1},
		{"manifest written but reported failed, new events since", "_manifests", failAfter, 5, 11},
		{"manifest not written, new events since", "_manifests", failBefore, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			failed := false
			bucket := &faultyBucket{Bucket: newBucket(t), fail: func(key string) fault {
				if failed || !strings.Contains(key, tt.match) {
					return noFault
				}
				failed = true
				return tt.mode
			}}
			evs := events(10+tt.more, base.Add(49*time.Minute+55*time.Second)) // hours 21 and 22
			w, _ := newWriter(t, bucket, Options{})
			addAll(t, w, 1, evs[:10])
			if _, err := w.Flush(ctx); !errors.Is(err, errCrash) {
				t.Fatalf("first Flush: got %v, want errCrash", err)
			}
			addAll(t, w, 11, evs[10:])
			b := flush(t, w)
			if b.FirstSeq != tt.wantFirst {
				t.Errorf("retried Flush: got batch from %d, want from %d", b.FirstSeq, tt.wantFirst)
			}
			if n := w.Pending(); n != 0 {
				t.Errorf("Pending after retry: got %d, want 0", n)
			}
			got := readAll(t, bucket)
			checkOnce(t, got, evs)
			if diff := cmp.Diff(records(1, evs), got); diff != "" {
				t.Errorf("ReadAll (-want +got):\n%s", diff)
			}
			checkNoOrphans(t, bucket)
		})
	}
}

// checkNoOrphans fails if a data file is not listed in a manifest.
func checkNoOrphans(t *testing.T, b Bucket) {
	t.Helper()
	batches, err := Manifests(context.Background(), b)
	if err != nil {
		t.Fatalf("Manifests: %v", err)
	}
	listed := make(map[string]bool)
	for _, b := range batches {
		for _, f := range b.Files {
			listed[f.Key] = true
		}
	}
	for _, k := range listKeys(t, b, "events/dt=") {
		if !listed[k] {
			t.Errorf("data file %s is in no manifest", k)
		}
	}
}

func TestRecoverKeepsForeignFiles(t *testing.T) {
	ctx := context.Background()
	bucket := newBucket(t)
	foreign := []string{"events/README.txt", "events/dt=2025-11-28/hour=21/notes.parquet", "other/x.parquet"}
	for _, k := range foreign {
		if err := bucket.Put(ctx, k, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if _, last := newWriter(t, bucket, Options{}); last != 0 {
		t.Errorf("Recover on an archive without manifests: got %d, want 0", last)
	}
	for _, k := range foreign {
		if _, err := bucket.Get(ctx, k); err != nil {
			t.Errorf("Recover removed %s, which it does not own: %v", k, err)
		}
	}
}

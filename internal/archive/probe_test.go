package archive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/souq-commerce/souq/internal/fileblob"
)

// overwritingBucket ignores create-only, as an S3-compatible server that
// does not honour If-None-Match does: Create is Put.
type overwritingBucket struct{ *fileblob.Dir }

func (b overwritingBucket) Create(ctx context.Context, key string, data []byte) error {
	return b.Put(ctx, key, data)
}

// lyingBucket reports an existing key as such, but replaces it anyway.
type lyingBucket struct{ *fileblob.Dir }

func (b lyingBucket) Create(ctx context.Context, key string, data []byte) error {
	err := b.Dir.Create(ctx, key, data)
	if errors.Is(err, fs.ErrExist) {
		if perr := b.Put(ctx, key, data); perr != nil {
			return perr
		}
	}
	return err
}

// failingBucket fails its nth Create (from 1) with errStore.
type failingBucket struct {
	*fileblob.Dir
	n, creates int
}

var errStore = errors.New("store unavailable")

func (b *failingBucket) Create(ctx context.Context, key string, data []byte) error {
	if b.creates++; b.creates == b.n {
		return fmt.Errorf("create %s: %w", key, errStore)
	}
	return b.Dir.Create(ctx, key, data)
}

func TestCheckCreateOnly(t *testing.T) {
	tests := []struct {
		name   string
		bucket func(*fileblob.Dir) Bucket
		want   error // nil: the check passes
	}{
		{"create-only store", func(d *fileblob.Dir) Bucket { return d }, nil},
		{"store that overwrites", func(d *fileblob.Dir) Bucket { return overwritingBucket{d} }, ErrNotCreateOnly},
		{"store that refuses but overwrites", func(d *fileblob.Dir) Bucket { return lyingBucket{d} }, ErrNotCreateOnly},
		{"first create fails", func(d *fileblob.Dir) Bucket { return &failingBucket{Dir: d, n: 1} }, errStore},
		{"second create fails otherwise", func(d *fileblob.Dir) Bucket { return &failingBucket{Dir: d, n: 2} }, errStore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			d := newBucket(t)
			if err := d.Put(ctx, "events/_manifests/00000000000000000001.json", []byte("{}")); err != nil {
				t.Fatal(err)
			}
			err := CheckCreateOnly(ctx, tt.bucket(d))
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("CheckCreateOnly: got %v, want nil", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("CheckCreateOnly: got %v, want an error wrapping %v", err, tt.want)
			}
			if errors.Is(tt.want, ErrNotCreateOnly) && !strings.Contains(err.Error(), "does not honour If-None-Match; refusing to archive there") {
				t.Errorf("CheckCreateOnly: got %q, want it to say the store does not honour If-None-Match", err)
			}
			if tt.want != ErrNotCreateOnly && errors.Is(err, ErrNotCreateOnly) {
				t.Errorf("CheckCreateOnly: got %v, which blames create-only writes for another failure", err)
			}
			// The probe is gone, and nothing else was touched.
			keys, lerr := d.List(ctx, "")
			if lerr != nil {
				t.Fatal(lerr)
			}
			if want := "events/_manifests/00000000000000000001.json"; len(keys) != 1 || keys[0] != want {
				t.Errorf("keys after the check: got %q, want only %q", keys, want)
			}
		})
	}
}

// TestCheckCreateOnlyProbeKey checks that the probe's key is one the
// archive's readers pass over.
func TestCheckCreateOnlyProbeKey(t *testing.T) {
	var probed []string
	b := &recordingBucket{Dir: newBucket(t), created: &probed}
	if err := CheckCreateOnly(context.Background(), b); err != nil {
		t.Fatalf("CheckCreateOnly: %v", err)
	}
	if len(probed) != 2 || probed[0] != probed[1] {
		t.Fatalf("Creates: got %q, want two of one key", probed)
	}
	key := probed[0]
	if !strings.HasPrefix(key, "events/_probe/") || len(key) <= len("events/_probe/") {
		t.Errorf("probe key %q, want one under events/_probe/", key)
	}
	if _, _, ok := parseDataKey(key); ok {
		t.Errorf("probe key %q parses as a data file's", key)
	}
	if _, _, ok := parseManifestKey(key); ok {
		t.Errorf("probe key %q parses as a manifest's", key)
	}
	// A second check probes another key, so replicas starting at once do
	// not trip over each other.
	if err := CheckCreateOnly(context.Background(), b); err != nil {
		t.Fatalf("CheckCreateOnly: %v", err)
	}
	if len(probed) != 4 || probed[2] == key {
		t.Errorf("Creates of the second check: got %q, want another key than %q", probed[2:], key)
	}
}

// recordingBucket records the keys it is asked to create.
type recordingBucket struct {
	*fileblob.Dir
	created *[]string
}

func (b *recordingBucket) Create(ctx context.Context, key string, data []byte) error {
	*b.created = append(*b.created, key)
	return b.Dir.Create(ctx, key, data)
}

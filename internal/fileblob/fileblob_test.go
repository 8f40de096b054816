package fileblob

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/archive/buckettest"
)

func openTemp(t *testing.T) *Dir {
	t.Helper()
	d, err := Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return d
}

func put(t *testing.T, d *Dir, key, value string) {
	t.Helper()
	if err := d.Put(context.Background(), key, []byte(value)); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func TestPutGetOverwrite(t *testing.T) {
	ctx := context.Background()
	d := openTemp(t)
	tests := []struct {
		key, value string
	}{
		{"top", "at the root"},
		{"events/dt=2025-11-28/hour=21/a.parquet", "nested"},
		{"events/dt=2025-11-28/hour=21/a.parquet", "overwritten"},
		{"events/_manifests/x.json", `{"ok":true}`},
		{"عربي/ملف", "unicode key"},
		{"empty", ""},
	}
	for _, tt := range tests {
		put(t, d, tt.key, tt.value)
		got, err := d.Get(ctx, tt.key)
		if err != nil {
			t.Fatalf("Get(%q): %v", tt.key, err)
		}
		if string(got) != tt.value {
			t.Errorf("Get(%q): got %q, want %q", tt.key, got, tt.value)
		}
	}
}

func TestGetMissing(t *testing.T) {
	d := openTemp(t)
	_, err := d.Get(context.Background(), "no/such/key")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get(missing): got %v, want an error wrapping fs.ErrNotExist", err)
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	d := openTemp(t)
	for _, k := range []string{
		"a/b", "a-c", "a/c/d", "b", "events/dt=2025-11-28/hour=21/x", "events/dt=2025-11-29/hour=00/y", "events/_manifests/m",
	} {
		put(t, d, k, k)
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"a-c", "a/b", "a/c/d", "b", "events/_manifests/m", "events/dt=2025-11-28/hour=21/x", "events/dt=2025-11-29/hour=00/y"}},
		{"a", []string{"a-c", "a/b", "a/c/d"}},
		{"a/", []string{"a/b", "a/c/d"}},
		{"a/c", []string{"a/c/d"}},
		{"events/dt=2025-11-2", []string{"events/dt=2025-11-28/hour=21/x", "events/dt=2025-11-29/hour=00/y"}},
		{"events/dt=2025-11-29/", []string{"events/dt=2025-11-29/hour=00/y"}},
		{"events/_manifests/", []string{"events/_manifests/m"}},
		{"nothing/here/", nil},
		{"zzz", nil},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			got, err := d.List(ctx, tt.prefix)
			if err != nil {
				t.Fatalf("List(%q): %v", tt.prefix, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("List(%q) (-want +got):\n%s", tt.prefix, diff)
			}
			if !slices.IsSorted(got) {
				t.Errorf("List(%q): got %q, want sorted keys", tt.prefix, got)
			}
		})
	}
}

func TestListHidesTempFiles(t *testing.T) {
	ctx := context.Background()
	d := openTemp(t)
	put(t, d, "events/x.parquet", "x")
	// What a Put interrupted by a crash leaves behind.
	stray := filepath.Join(d.Root(), "events", ".y.parquet.tmp-123")
	if err := os.WriteFile(stray, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := d.List(ctx, "")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if want := []string{"events/x.parquet"}; !slices.Equal(got, want) {
		t.Errorf("List: got %q, want %q", got, want)
	}
	// And a successful Put leaves no temporary file.
	entries, err := os.ReadDir(filepath.Join(d.Root(), "events"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("directory holds %d entries, want 2 (the key and the stray temp file)", len(entries))
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	d := openTemp(t)
	put(t, d, "a/b", "x")
	if err := d.Delete(ctx, "a/b"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := d.Get(ctx, "a/b"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get after Delete: got %v, want fs.ErrNotExist", err)
	}
	if err := d.Delete(ctx, "a/b"); err != nil {
		t.Errorf("Delete(missing): got %v, want nil", err)
	}
	keys, err := d.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Errorf("List after Delete: got %q, want none", keys)
	}
}

func TestInvalidKeys(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, err := Open(filepath.Join(root, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	// A file just outside the store that traversal would reach.
	if err := os.WriteFile(filepath.Join(root, "secret"), []byte("s"), 0o644); err != nil {
		t.Fatal(err)
	}
	keys := []string{
		"",
		"/etc/passwd",
		"../secret",
		"a/../../secret",
		"a/./b",
		"..",
		".",
		"a//b",
		"a/",
		"/a",
		".hidden",
		"a/.tmp-1",
		`a\..\..\secret`,
		"a\x00b",
	}
	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			if err := d.Put(ctx, key, []byte("x")); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Put(%q): got %v, want ErrInvalidKey", key, err)
			}
			if _, err := d.Get(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Get(%q): got %v, want ErrInvalidKey", key, err)
			}
			if err := d.Delete(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Delete(%q): got %v, want ErrInvalidKey", key, err)
			}
		})
	}
	for _, prefix := range []string{"../", "..", "a/../..", "/", "/etc", "a//", ".x"} {
		if _, err := d.List(ctx, prefix); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("List(%q): got %v, want ErrInvalidKey", prefix, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "secret")); err != nil || string(b) != "s" {
		t.Errorf("file outside the store: got %q, %v; want it untouched", b, err)
	}
	if got, err := d.List(ctx, ""); err != nil || len(got) != 0 {
		t.Errorf("List after rejected writes: got %q, %v; want no keys", got, err)
	}
}

func TestCanceledContext(t *testing.T) {
	d := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Put(ctx, "k", []byte("v")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put: got %v, want context.Canceled", err)
	}
	if _, err := d.Get(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get: got %v, want context.Canceled", err)
	}
	if _, err := d.List(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("List: got %v, want context.Canceled", err)
	}
	if err := d.Delete(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete: got %v, want context.Canceled", err)
	}
}

func TestReopenSeesData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blobs")
	d1, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	put(t, d1, "x/y", "persisted")
	d2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d2.Get(context.Background(), "x/y")
	if err != nil || string(got) != "persisted" {
		t.Errorf("Get after reopen: got %q, %v; want %q", got, err, "persisted")
	}
}

func TestBucketContract(t *testing.T) {
	buckettest.Run(t, func(t *testing.T) archive.Bucket { return openTemp(t) })
}

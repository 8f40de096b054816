// Package buckettest is the contract suite of archive.Bucket: every
// promise of the Bucket documentation, checked against an implementation.
// Each implementation's tests run it (fileblob always, s3blob when
// SOUQ_TEST_S3_URL names a server), so the archive can rely on the same
// behaviour from a local directory and from S3.
package buckettest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"

	"github.com/souq-commerce/souq/internal/archive"
)

// hiveKey is a key shaped like the archive's data files.
const hiveKey = "events/dt=2025-11-28/hour=21/events-00000000000000000001-00000000000000000009.parquet"

// ManyKeys is how many keys the paging test writes: more than the 1000
// keys S3 returns per List request.
const ManyKeys = 1234

// Run runs the contract suite. open must return an empty bucket for each
// subtest (a fresh directory, a fresh key prefix), which the test owns
// until it ends; open registers its own cleanup with t.Cleanup. Subtests
// do not run in parallel with each other, so open may share a connection.
//
// The paging test writes ManyKeys keys; it is skipped with -short.
func Run(t *testing.T, open func(t *testing.T) archive.Bucket) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b archive.Bucket)
	}{
		{"PutGet", testPutGet},
		{"PutOverwrites", testPutOverwrites},
		{"PutAtomic", testPutAtomic},
		{"CreateNew", testCreateNew},
		{"CreateExisting", testCreateExisting},
		{"CreateAfterDelete", testCreateAfterDelete},
		{"CreateConcurrent", testCreateConcurrent},
		{"GetMissing", testGetMissing},
		{"List", testList},
		{"ListMany", testListMany},
		{"Delete", testDelete},
		{"Empty", testEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

// values are the payloads round-tripped: text, every byte value, empty.
var values = map[string][]byte{
	"text":   []byte("a value"),
	"binary": allBytes(),
	"empty":  {},
}

func allBytes() []byte {
	b := make([]byte, 0, 512)
	for i := range 512 {
		b = append(b, byte(i))
	}
	return b
}

// keys are shapes of key the archive writes, or could.
var keys = []string{
	"top",
	hiveKey,
	"events/_manifests/00000000000000000001.json",
	"a-b_c.d~e+f=g,h;i@j",
	"عربي/ملف",
}

func testPutGet(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	for _, key := range keys {
		for name, value := range values {
			put(t, b, key, value)
			if got := get(t, b, key); !bytes.Equal(got, value) {
				t.Errorf("Get(%q) after Put of the %s value: got %q, want %q", key, name, got, value)
			}
		}
	}
	got, err := b.List(ctx, "")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := slices.Sorted(slices.Values(keys))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List after Puts (-want +got):\n%s", diff)
	}
}

func testPutOverwrites(t *testing.T, b archive.Bucket) {
	for _, value := range []string{"first", "second, longer than the first", "3rd", ""} {
		put(t, b, hiveKey, []byte(value))
		if got := get(t, b, hiveKey); string(got) != value {
			t.Errorf("Get after Put(%q): got %q", value, got)
		}
	}
	// Create refuses the key Put wrote.
	err := b.Create(context.Background(), hiveKey, []byte("created"))
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create of a key Put wrote: got %v, want an error wrapping fs.ErrExist", err)
	}
}

// testPutAtomic reads a key while it is replaced: every read must see one
// of the values whole.
func testPutAtomic(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	const size, writes = 256 << 10, 8
	a, c := bytes.Repeat([]byte{'a'}, size), bytes.Repeat([]byte{'c'}, size)
	put(t, b, "k", a)
	done := make(chan error, 1)
	go func() {
		var err error
		for i := range writes {
			v := a
			if i%2 == 0 {
				v = c
			}
			if err = b.Put(ctx, "k", v); err != nil {
				break
			}
		}
		done <- err
	}()
	for reads := 0; ; reads++ {
		got, err := b.Get(ctx, "k")
		if err != nil {
			t.Fatalf("Get during Puts: %v", err)
		}
		if !bytes.Equal(got, a) && !bytes.Equal(got, c) {
			t.Fatalf("Get during Puts: got %d bytes starting %q, want %d bytes of 'a' or of 'c'", len(got), got[:min(len(got), 8)], size)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if got := get(t, b, "k"); !bytes.Equal(got, a) {
				t.Errorf("Get after the last Put: got %d bytes starting %q, want the last value (%d bytes of 'a')", len(got), got[:min(len(got), 8)], size)
			}
			return
		default:
		}
	}
}

func testCreateNew(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	for name, value := range values {
		key := "events/_manifests/" + name + ".json"
		if err := b.Create(ctx, key, value); err != nil {
			t.Fatalf("Create(%q) of the %s value: %v", key, name, err)
		}
		if got := get(t, b, key); !bytes.Equal(got, value) {
			t.Errorf("Get(%q) after Create of the %s value: got %q, want %q", key, name, got, value)
		}
	}
}

func testCreateExisting(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	for name, first := range values {
		key := "events/dt=2025-11-28/hour=21/" + name
		if err := b.Create(ctx, key, first); err != nil {
			t.Fatalf("Create(%q): %v", key, err)
		}
		for _, second := range [][]byte{[]byte("second"), first, {}} {
			err := b.Create(ctx, key, second)
			if !errors.Is(err, fs.ErrExist) {
				t.Errorf("second Create(%q, %q) over the %s value: got %v, want an error wrapping fs.ErrExist", key, second, name, err)
			}
		}
		if got := get(t, b, key); !bytes.Equal(got, first) {
			t.Errorf("Get(%q) after refused Creates: got %q, want the first value %q", key, got, first)
		}
	}
}

func testCreateAfterDelete(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	if err := b.Create(ctx, hiveKey, []byte("one")); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := b.Delete(ctx, hiveKey); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := b.Create(ctx, hiveKey, []byte("two")); err != nil {
		t.Fatalf("Create after Delete: got %v, want nil", err)
	}
	if got := get(t, b, hiveKey); string(got) != "two" {
		t.Errorf("Get after Create, Delete, Create: got %q, want %q", got, "two")
	}
}

// testCreateConcurrent races Creates of one key: exactly one may win, the
// others must see fs.ErrExist, and the key must hold the winner's value.
func testCreateConcurrent(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	const writers, rounds = 8, 3
	for round := range rounds {
		key := fmt.Sprintf("events/_manifests/%020d.json", round+1)
		var (
			start = make(chan struct{})
			wg    sync.WaitGroup
			errs  [writers]error
		)
		for i := range writers {
			wg.Go(func() {
				<-start
				errs[i] = b.Create(ctx, key, []byte(fmt.Sprintf("writer %d", i)))
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("round %d: writers %d and %d both created %s", round, winner, i, key)
			case err == nil:
				winner = i
			case !errors.Is(err, fs.ErrExist):
				t.Errorf("round %d: writer %d: got %v, want nil or an error wrapping fs.ErrExist", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no writer created %s", round, key)
		}
		if got, want := string(get(t, b, key)), fmt.Sprintf("writer %d", winner); got != want {
			t.Errorf("round %d: %s holds %q, want the winner's %q", round, key, got, want)
		}
	}
}

func testGetMissing(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	put(t, b, "events/a", []byte("x"))
	// "events/a/below" is missing too, though a directory store cannot
	// hold it (events/a is a file); so is "events", a directory there.
	for _, key := range []string{"nothing", "events/b", "event", "events", hiveKey, "events/a/below"} {
		if got, err := b.Get(ctx, key); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Get(%q) of a missing key: got %q, %v; want an error wrapping fs.ErrNotExist", key, got, err)
		}
	}
}

func testList(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	all := []string{
		"B", // upper case sorts before lower case in byte order
		"a-c",
		"a/b",
		"a/c/d",
		"b",
		"events/_manifests/00000000000000000001.json",
		"events/dt=2025-11-28/hour=21/x.parquet",
		"events/dt=2025-11-28/hour=22/x.parquet",
		"events/dt=2025-11-29/hour=00/y.parquet",
		"é", // multi-byte UTF-8 sorts after ASCII
	}
	// Written out of order, so that write order cannot pass for byte order.
	for i := range all {
		put(t, b, all[(i*7)%len(all)], []byte{byte(i)})
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", all},
		{"a", []string{"a-c", "a/b", "a/c/d"}},
		{"a/", []string{"a/b", "a/c/d"}},
		{"a/c", []string{"a/c/d"}},
		{"a/c/d", []string{"a/c/d"}},
		{"events/", all[5:9]},
		{"events/dt=2025-11-2", all[6:9]},
		{"events/dt=2025-11-28/", all[6:8]},
		{"events/dt=2025-11-28/hour=21/", all[6:7]},
		{"events/_manifests/", all[5:6]},
		{"nothing/here/", nil},
		{"zzz", nil},
	}
	for _, tt := range tests {
		got, err := b.List(ctx, tt.prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", tt.prefix, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("List(%q) (-want +got):\n%s", tt.prefix, diff)
		}
	}
}

// testListMany lists more keys than S3 returns in one page.
func testListMany(t *testing.T, b archive.Bucket) {
	if testing.Short() {
		t.Skipf("writes %d keys; skipped with -short", ManyKeys)
	}
	ctx := context.Background()
	want := make([]string, ManyKeys)
	for i := range want {
		// Hour directories of about a hundred files each, like a busy day.
		want[i] = fmt.Sprintf("events/dt=2025-11-28/hour=%02d/events-%020d.parquet", i/100, i)
	}
	putAll(t, b, want)
	put(t, b, "other/key", nil)
	got, err := b.List(ctx, "events/")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(got) != len(want) {
		t.Errorf("List: got %d keys, want %d", len(got), len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	got, err = b.List(ctx, "events/dt=2025-11-28/hour=11/")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if diff := cmp.Diff(want[1100:1200], got); diff != "" {
		t.Errorf("List of hour 11 (-want +got):\n%s", diff)
	}
}

func testDelete(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	put(t, b, hiveKey, []byte("x"))
	put(t, b, "events/keep", []byte("kept"))
	if err := b.Delete(ctx, hiveKey); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := b.Get(ctx, hiveKey); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get after Delete: got %v, want an error wrapping fs.ErrNotExist", err)
	}
	for _, key := range []string{hiveKey, "never/written", "events/kee", "events/keep/below"} {
		if err := b.Delete(ctx, key); err != nil {
			t.Errorf("Delete(%q) of a missing key: got %v, want nil", key, err)
		}
	}
	got, err := b.List(ctx, "")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if want := []string{"events/keep"}; !slices.Equal(got, want) {
		t.Errorf("List after Delete: got %q, want %q", got, want)
	}
	if got := get(t, b, "events/keep"); string(got) != "kept" {
		t.Errorf("Get of a key not deleted: got %q, want %q", got, "kept")
	}
}

func put(t *testing.T, b archive.Bucket, key string, value []byte) {
	t.Helper()
	if err := b.Put(context.Background(), key, value); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func get(t *testing.T, b archive.Bucket, key string) []byte {
	t.Helper()
	got, err := b.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return got
}

// putAll puts each key (its value is the key) from a few goroutines: a
// remote store answers one request at a time slowly, a local one syncs
// each file.
func putAll(t *testing.T, b archive.Bucket, keys []string) {
	t.Helper()
	const workers = 16
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = make(chan string)
	)
	for range workers {
		wg.Go(func() {
			for key := range next {
				if err := b.Put(context.Background(), key, []byte(key)); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("Put(%q): %w", key, err))
					mu.Unlock()
				}
			}
		})
	}
	for _, key := range keys {
		next <- key
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d Puts failed, the first: %v", len(errs), errs[0])
	}
}

func testEmpty(t *testing.T, b archive.Bucket) {
	ctx := context.Background()
	for _, key := range keys {
		put(t, b, key, []byte("x"))
	}
	if err := Empty(ctx, b); err != nil {
		t.Fatalf("Empty: %v", err)
	}
	if got, err := b.List(ctx, ""); err != nil || len(got) != 0 {
		t.Errorf("List after Empty: got %q, %v; want nothing", got, err)
	}
}

// Empty deletes every key in b, 16 at a time: for removing a test's or
// a benchmark's archive. It returns the first error.
func Empty(ctx context.Context, b archive.Bucket) error {
	keys, err := b.List(ctx, "")
	if err != nil {
		return err
	}
	var g errgroup.Group
	g.SetLimit(16)
	for _, key := range keys {
		g.Go(func() error { return b.Delete(ctx, key) })
	}
	return g.Wait()
}

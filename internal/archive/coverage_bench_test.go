package archive

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/souq-commerce/souq/internal/fileblob"
)

// BenchmarkIndexCoverage measures what health pays each time it measures
// the archive: a listing of the manifests and the coverage of all of them,
// the manifests already read. 8,640 manifests are a day of 10 s batches;
// 60,480 a week.
func BenchmarkIndexCoverage(b *testing.B) {
	for _, n := range []int{8_640, 60_480} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			dir := b.TempDir()
			mdir := filepath.Join(dir, filepath.FromSlash(manifestPrefix))
			if err := os.MkdirAll(mdir, 0o755); err != nil {
				b.Fatal(err)
			}
			for i := range n {
				bt := Batch{Version: manifestVersion, FirstSeq: uint64(i*100 + 1), LastSeq: uint64(i*100 + 100), Rows: 100,
					Files: []File{{Key: "k", Rows: 100}}}
				data, err := encodeManifest(bt)
				if err != nil {
					b.Fatal(err)
				}
				key := manifestKey(bt.FirstSeq)
				if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(key)), data, 0o644); err != nil {
					b.Fatal(err)
				}
			}
			bucket, err := fileblob.Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			x := NewIndex(bucket)
			if c, err := x.Coverage(b.Context()); err != nil || !c.OK() || c.Batches != n {
				b.Fatalf("coverage: %+v, %v", c.Batches, err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := x.Coverage(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

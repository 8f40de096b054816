package archive

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/souq-commerce/souq/internal/souq"
)

// Record is one archived event with the stream sequence it was archived
// under.
type Record struct {
	Seq   uint64
	Event souq.Event
}

// ReadFile decodes one archive data file, in file order (by sequence).
func ReadFile(data []byte) ([]Record, error) {
	rows, err := parquet.Read[row](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("archive read: %w", err)
	}
	recs := make([]Record, len(rows))
	for i := range rows {
		recs[i] = rows[i].record()
	}
	return recs, nil
}

// Manifests returns every committed batch of the archive, by sequence.
func Manifests(ctx context.Context, bucket Bucket) ([]Batch, error) {
	keys, err := bucket.List(ctx, manifestPrefix)
	if err != nil {
		return nil, fmt.Errorf("archive manifests: %w", err)
	}
	var batches []Batch
	for _, k := range keys {
		if _, _, ok := parseManifestKey(k); !ok {
			continue
		}
		data, err := bucket.Get(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("archive manifests: %w", err)
		}
		b, err := decodeManifest(k, data)
		if err != nil {
			return nil, err
		}
		batches = append(batches, b)
	}
	return batches, nil
}

// ReadAll returns, in sequence order, the archived events whose event time
// is in [from, to): it reads every committed file (one listed in a
// manifest) that may hold such events and checks each against its manifest
// (size, digest, row count). A zero from or to leaves that side open.
// Orphan files of uncommitted batches are never read.
func ReadAll(ctx context.Context, bucket Bucket, from, to time.Time) ([]Record, error) {
	batches, err := Manifests(ctx, bucket)
	if err != nil {
		return nil, err
	}
	in := func(t time.Time) bool {
		return (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to))
	}
	var recs []Record
	for _, b := range batches {
		for _, f := range b.Files {
			if (!to.IsZero() && !f.MinEventTime.Before(to)) || (!from.IsZero() && f.MaxEventTime.Before(from)) {
				continue
			}
			got, err := readCommitted(ctx, bucket, f)
			if err != nil {
				return nil, err
			}
			for _, r := range got {
				if in(r.Event.Timestamp) {
					recs = append(recs, r)
				}
			}
		}
	}
	slices.SortStableFunc(recs, func(a, b Record) int { return cmp.Compare(a.Seq, b.Seq) })
	return recs, nil
}

// readCommitted reads a file listed in a manifest and checks it against the
// manifest's entry.
func readCommitted(ctx context.Context, bucket Bucket, f File) ([]Record, error) {
	data, err := bucket.Get(ctx, f.Key)
	if err != nil {
		return nil, fmt.Errorf("archive read: %w", err)
	}
	sum := sha256.Sum256(data)
	if len(data) != f.Bytes || hex.EncodeToString(sum[:]) != f.SHA256 {
		return nil, fmt.Errorf("%w: %s: %d bytes with digest %x, manifest says %d bytes with digest %s",
			ErrCorrupt, f.Key, len(data), sum, f.Bytes, f.SHA256)
	}
	recs, err := ReadFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Key, err)
	}
	if len(recs) != f.Rows {
		return nil, fmt.Errorf("%w: %s: %d rows, manifest says %d", ErrCorrupt, f.Key, len(recs), f.Rows)
	}
	return recs, nil
}

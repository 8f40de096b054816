package archive

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
)

// Coverage is what an archive's manifests account for, checked
// independently of the Writer that wrote them: every stream sequence from
// 1 to LastSeq must be in exactly one committed batch, and each batch must
// account for every sequence of its range.
type Coverage struct {
	Batches  int    `json:"batches"`
	Files    int    `json:"files"`
	LastSeq  uint64 `json:"last_seq"` // highest committed sequence
	Rows     uint64 `json:"rows"`     // events archived
	Rejected uint64 `json:"rejected"` // sequences that were not valid events (dead-lettered)
	// Missing counts the sequences the manifests list as missing: the
	// stream no longer held them when the archiver reached them.
	Missing uint64 `json:"missing"`
	// Holes are sequences between 1 and LastSeq that no manifest covers.
	Holes []SeqRange `json:"holes,omitempty"`
	// Short lists the batches whose rows, rejected and missing sequences
	// do not add up to their range (or whose files do not hold their
	// rows): a manifest that claims more than it holds.
	Short []SeqRange `json:"short,omitempty"`
	// ShortBy is how many sequences the Short batches fall short by.
	ShortBy uint64 `json:"short_by"`
	// Overlapping lists batches whose range overlaps an earlier batch's.
	Overlapping []SeqRange `json:"overlapping,omitempty"`
}

// Lost is the number of sequences up to LastSeq that are not in the
// archive and not accounted for as rejected: missing, in holes, or in
// short batches.
func (c Coverage) Lost() uint64 {
	n := c.Missing + c.ShortBy
	for _, h := range c.Holes {
		n += h.Len()
	}
	return n
}

// OK reports whether the archive holds every sequence up to LastSeq once.
func (c Coverage) OK() bool { return c.Lost() == 0 && len(c.Short) == 0 && len(c.Overlapping) == 0 }

// Measure computes the coverage of batches (in any order).
func Measure(batches []Batch) Coverage {
	bs := slices.Clone(batches)
	slices.SortFunc(bs, func(a, b Batch) int {
		return cmp.Or(cmp.Compare(a.FirstSeq, b.FirstSeq), cmp.Compare(a.LastSeq, b.LastSeq))
	})
	var c Coverage
	var covered uint64 // every sequence up to covered is in a batch seen
	for _, b := range bs {
		r := b.seqRange()
		c.Batches++
		c.Files += len(b.Files)
		c.Rows += uint64(b.Rows)
		c.Rejected += uint64(len(b.Rejected))
		c.Missing += b.Missed()
		switch {
		case b.FirstSeq <= covered:
			c.Overlapping = append(c.Overlapping, SeqRange{r.first, r.last})
		case b.FirstSeq > covered+1:
			c.Holes = append(c.Holes, SeqRange{covered + 1, b.FirstSeq - 1})
		}
		if !b.Accounted() {
			c.Short = append(c.Short, SeqRange{r.first, r.last})
			held := uint64(min(b.Rows, b.fileRows())) + uint64(len(b.Rejected)) + b.Missed()
			if size := r.last - r.first + 1; held < size {
				c.ShortBy += size - held
			}
		}
		covered = max(covered, b.LastSeq)
	}
	c.LastSeq = covered
	return c
}

// Index keeps an archive's manifests in memory so that its Coverage can be
// measured often: each call lists the manifests and reads only those it
// has not read before (manifests are never rewritten with other contents).
// It is safe for concurrent use.
type Index struct {
	bucket Bucket

	mu      sync.Mutex // held while measuring
	batches map[string]Batch
}

// NewIndex returns an index of the archive in bucket.
func NewIndex(bucket Bucket) *Index {
	return &Index{bucket: bucket, batches: make(map[string]Batch)}
}

// Coverage lists the archive's manifests, reads the new ones and measures
// the coverage of all of them. Keys that disappeared are forgotten.
func (x *Index) Coverage(ctx context.Context) (Coverage, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	keys, err := x.bucket.List(ctx, manifestPrefix)
	if err != nil {
		return Coverage{}, fmt.Errorf("archive coverage: %w", err)
	}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if _, _, ok := parseManifestKey(k); !ok {
			continue
		}
		seen[k] = true
		if _, ok := x.batches[k]; ok {
			continue
		}
		data, err := x.bucket.Get(ctx, k)
		if err != nil {
			return Coverage{}, fmt.Errorf("archive coverage: %w", err)
		}
		b, err := decodeManifest(k, data)
		if err != nil {
			return Coverage{}, err
		}
		x.batches[k] = b
	}
	for k := range x.batches {
		if !seen[k] {
			delete(x.batches, k)
		}
	}
	all := make([]Batch, 0, len(x.batches))
	for _, b := range x.batches {
		all = append(all, b)
	}
	return Measure(all), nil
}

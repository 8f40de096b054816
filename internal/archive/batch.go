package archive

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/parquet-go/parquet-go"
)

// manifestVersion is the version of the manifest format. Version 2
// accounts for every sequence of its range (rows, rejected and missing);
// version 1 manifests, written before, list rows only and are read as
// they are.
const (
	manifestVersion   = 2
	manifestVersionV1 = 1
)

// Batch is one committed flush: the stream sequence range it covers and the
// files it wrote. Its JSON form is the batch's manifest.
type Batch struct {
	Version      int       `json:"version"`
	FirstSeq     uint64    `json:"first_seq"`
	LastSeq      uint64    `json:"last_seq"`
	Rows         int       `json:"rows"`
	MinEventTime time.Time `json:"min_event_time"` // earliest event time in the batch
	MaxEventTime time.Time `json:"max_event_time"` // latest event time in the batch
	Files        []File    `json:"files"`
	// Rejected are sequences of the range whose messages were not events
	// the archive can store; the archiver dead-lettered them.
	Rejected []uint64 `json:"rejected,omitempty"`
	// Missing are sequences of the range the stream no longer held when
	// the archiver reached them (expired under its retention, or deleted):
	// events that are in neither the stream nor the archive.
	Missing []SeqRange `json:"missing,omitempty"`
}

// SeqRange is an inclusive range of stream sequences.
type SeqRange struct {
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
}

// Len is the number of sequences in r.
func (r SeqRange) Len() uint64 { return r.Last - r.First + 1 }

// fileRows is the number of rows the batch's files hold, by the manifest.
func (b Batch) fileRows() int {
	n := 0
	for _, f := range b.Files {
		n += f.Rows
	}
	return n
}

// Missed is the number of sequences Missing lists.
func (b Batch) Missed() uint64 {
	var n uint64
	for _, r := range b.Missing {
		n += r.Len()
	}
	return n
}

// Accounted reports whether the batch accounts for every sequence of its
// range: Rows + Rejected + Missing = LastSeq-FirstSeq+1, and its files
// hold Rows rows. A version 1 manifest is taken as accounted if its files
// hold Rows rows and Rows does not exceed its range.
func (b Batch) Accounted() bool {
	size := b.LastSeq - b.FirstSeq + 1
	if b.fileRows() != b.Rows || b.LastSeq < b.FirstSeq {
		return false
	}
	if b.Version == manifestVersionV1 {
		return uint64(b.Rows) <= size
	}
	return uint64(b.Rows)+uint64(len(b.Rejected))+b.Missed() == size
}

// File is one Parquet file of a batch: the batch's rows in one partition.
type File struct {
	Key          string    `json:"key"`
	Rows         int       `json:"rows"`
	Bytes        int       `json:"bytes"`
	SHA256       string    `json:"sha256"` // hex digest of the file's bytes
	MinEventTime time.Time `json:"min_event_time"`
	MaxEventTime time.Time `json:"max_event_time"`
}

func (b Batch) seqRange() seqRange { return seqRange{b.FirstSeq, b.LastSeq} }

// encodedFile is a data file ready to be put.
type encodedFile struct {
	File
	data []byte
}

// encodeBatch groups the rows of range r (sorted by sequence) by partition
// and encodes one Parquet file per partition. rejected and missing are the
// sequences of r without a row. The result depends only on its arguments,
// and is an error unless they account for every sequence of r.
func encodeBatch(r seqRange, rows []row, rejected []uint64, missing []SeqRange) (Batch, []encodedFile, error) {
	b := Batch{Version: manifestVersion, FirstSeq: r.first, LastSeq: r.last, Rows: len(rows),
		Rejected: slices.Clone(rejected), Missing: slices.Clone(missing)}
	if uint64(len(rows))+uint64(len(rejected))+b.Missed() != r.last-r.first+1 ||
		(len(rows) > 0 && (uint64(rows[0].StreamSeq) < r.first || uint64(rows[len(rows)-1].StreamSeq) > r.last)) {
		return Batch{}, nil, fmt.Errorf("%w: batch %v: %d rows, %d rejected and %d missing do not cover it",
			ErrCorrupt, r, len(rows), len(rejected), b.Missed())
	}
	byPart := make(map[string][]row)
	for _, x := range rows {
		p := partition(x.eventTime())
		byPart[p] = append(byPart[p], x)
	}
	parts := make([]string, 0, len(byPart))
	for p := range byPart {
		parts = append(parts, p)
	}
	slices.Sort(parts)

	files := make([]encodedFile, 0, len(parts))
	for _, p := range parts {
		f, err := encodeFile(dataKey(p, r), byPart[p])
		if err != nil {
			return Batch{}, nil, err
		}
		files = append(files, f)
		b.Files = append(b.Files, f.File)
		if b.MinEventTime.IsZero() || f.MinEventTime.Before(b.MinEventTime) {
			b.MinEventTime = f.MinEventTime
		}
		if f.MaxEventTime.After(b.MaxEventTime) {
			b.MaxEventTime = f.MaxEventTime
		}
	}
	return b, files, nil
}

// encodeFile writes rows to one Parquet file.
func encodeFile(key string, rows []row) (encodedFile, error) {
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[row](&buf, writerOptions...)
	if _, err := w.Write(rows); err != nil {
		return encodedFile{}, fmt.Errorf("encode %s: %w", key, err)
	}
	if err := w.Close(); err != nil {
		return encodedFile{}, fmt.Errorf("encode %s: %w", key, err)
	}
	sum := sha256.Sum256(buf.Bytes())
	minT := slices.MinFunc(rows, func(a, b row) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
	maxT := slices.MaxFunc(rows, func(a, b row) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
	return encodedFile{
		File: File{
			Key:          key,
			Rows:         len(rows),
			Bytes:        buf.Len(),
			SHA256:       hex.EncodeToString(sum[:]),
			MinEventTime: minT.eventTime(),
			MaxEventTime: maxT.eventTime(),
		},
		data: buf.Bytes(),
	}, nil
}

// encodeManifest returns the manifest of a batch. It depends only on the
// batch, so a rewritten manifest is byte-identical too.
func encodeManifest(b Batch) ([]byte, error) {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// decodeManifest parses and checks a manifest read from key.
func decodeManifest(key string, data []byte) (Batch, error) {
	var b Batch
	if err := json.Unmarshal(data, &b); err != nil {
		return Batch{}, fmt.Errorf("%w: manifest %s: %v", ErrCorrupt, key, err)
	}
	first, last, _ := parseManifestKey(key)
	if b.Version != manifestVersion && b.Version != manifestVersionV1 {
		return Batch{}, fmt.Errorf("%w: manifest %s: version %d, want %d", ErrCorrupt, key, b.Version, manifestVersion)
	}
	if b.FirstSeq != first || (last != 0 && b.LastSeq != last) || b.LastSeq < b.FirstSeq {
		return Batch{}, fmt.Errorf("%w: manifest %s covers %v", ErrCorrupt, key, b.seqRange())
	}
	return b, nil
}

package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/archive"
)

// archiveContents is what the archive holds for the range.
type archiveContents struct {
	lastCommitted uint64           // highest sequence of any committed batch
	batches       int              // committed batches
	files         int              // committed files that may hold events of the range
	records       []archive.Record // records whose event time is in the range, by file
	bad           []string         // committed files that cannot be read as their manifest says, with why
	orphans       []string         // data files no manifest lists
	coverage      archive.Coverage // what the manifests account for, over the whole archive
}

// readArchive reads the committed files that may hold events of [from,
// to), as archive.ReadAll does, but carries on past a file that is missing
// or does not match its manifest, noting it, so that the audit can name
// the events such a file should have held.
func readArchive(ctx context.Context, bucket archive.Bucket, from, to time.Time) (archiveContents, error) {
	var out archiveContents
	batches, err := archive.Manifests(ctx, bucket)
	if err != nil {
		return out, err
	}
	out.batches = len(batches)
	out.coverage = archive.Measure(batches)
	listed := map[string]bool{}
	for _, b := range batches {
		out.lastCommitted = max(out.lastCommitted, b.LastSeq)
		for _, f := range b.Files {
			listed[f.Key] = true
			if !f.MinEventTime.Before(to) || f.MaxEventTime.Before(from) {
				continue
			}
			out.files++
			recs, why, err := readFile(ctx, bucket, f)
			if err != nil {
				return out, err
			}
			if why != "" {
				out.bad = append(out.bad, fmt.Sprintf("%s: %s (batch %d-%d)", f.Key, why, b.FirstSeq, b.LastSeq))
				continue
			}
			for _, r := range recs {
				if !r.Event.Timestamp.Before(from) && r.Event.Timestamp.Before(to) {
					out.records = append(out.records, r)
				}
			}
		}
	}
	keys, err := bucket.List(ctx, "events/")
	if err != nil {
		return out, fmt.Errorf("list archive: %w", err)
	}
	for _, k := range keys {
		if strings.HasSuffix(k, ".parquet") && !listed[k] {
			out.orphans = append(out.orphans, k)
		}
	}
	return out, nil
}

// readFile reads a committed file and checks it against its manifest
// entry. A file that is missing or does not match is reported in why; err
// is for a bucket that cannot be read.
func readFile(ctx context.Context, bucket archive.Bucket, f archive.File) (recs []archive.Record, why string, err error) {
	data, err := bucket.Get(ctx, f.Key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "missing, though its manifest lists it", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", f.Key, err)
	}
	sum := sha256.Sum256(data)
	if len(data) != f.Bytes || hex.EncodeToString(sum[:]) != f.SHA256 {
		return nil, fmt.Sprintf("%d bytes with digest %.12x…, the manifest says %d bytes with digest %.12s…",
			len(data), sum, f.Bytes, f.SHA256), nil
	}
	if recs, err = archive.ReadFile(data); err != nil {
		return nil, err.Error(), nil
	}
	if len(recs) != f.Rows {
		return nil, fmt.Sprintf("%d rows, the manifest says %d", len(recs), f.Rows), nil
	}
	return recs, "", nil
}

// archivable mirrors what the archive accepts (archive.ErrInvalidEvent
// otherwise): the archiver dead-letters any other event.
func archivable(m *StreamMsg) bool {
	ev := &m.Event
	return m.Err == nil && ev.MessageID != "" && ev.Type != "" &&
		!ev.Timestamp.IsZero() && ev.Timestamp.UTC().Year() <= 9999
}

// streamArchive checks that each stream message of the range is archived
// once under its sequence, and each archived record is in the stream.
func (a *auditor) streamArchive() Hop {
	b := newHop(HopStreamArchive)
	ar := &a.archive
	b.counts["batches"] = ar.batches
	b.counts["files read"] = ar.files
	b.counts["archive records"] = len(ar.records)
	b.counts["last committed seq"] = int(ar.lastCommitted)
	b.mismatched = append(b.mismatched, ar.bad...)
	// The manifests must account for every sequence up to the last
	// committed one, whatever the range audited.
	cov := ar.coverage
	for _, h := range cov.Holes {
		b.mismatched = append(b.mismatched, fmt.Sprintf("no archive batch holds sequences %d-%d", h.First, h.Last))
	}
	for _, r := range cov.Short {
		b.mismatched = append(b.mismatched, fmt.Sprintf("archive batch %d-%d does not account for its whole range", r.First, r.Last))
	}
	for _, r := range cov.Overlapping {
		b.mismatched = append(b.mismatched, fmt.Sprintf("archive batch %d-%d overlaps an earlier batch", r.First, r.Last))
	}
	if cov.Missing > 0 {
		b.mismatched = append(b.mismatched, fmt.Sprintf("%d sequences are listed missing: the stream no longer held them when the archiver reached them", cov.Missing))
	}
	if len(ar.orphans) > 0 {
		b.warnf("%d data files belong to no committed batch (left by a crash; the archiver deletes them when it starts and reads ignore them), e.g. %s",
			len(ar.orphans), ar.orphans[0])
	}

	type copyKey struct {
		seq uint64
		id  string
	}
	copies := make(map[copyKey]int, len(ar.records))
	for _, r := range ar.records {
		copies[copyKey{r.Seq, r.Event.MessageID}]++
	}
	undecodable, rejected := 0, 0
	for i := range a.stream.Msgs {
		m := &a.stream.Msgs[i]
		if m.Err != nil {
			undecodable++
			continue
		}
		if !a.inRange(m.Event.Timestamp) {
			continue
		}
		if !archivable(m) {
			rejected++
			continue
		}
		b.counts["stream messages"]++
		id := m.Event.MessageID
		switch n := copies[copyKey{m.Seq, id}]; {
		case n == 1:
		case n > 1:
			b.duplicated = append(b.duplicated, fmt.Sprintf("%s (seq %d, %d copies)", id, m.Seq, n))
		case m.Seq > ar.lastCommitted:
			a.waiting(b, fmt.Sprintf("%s (seq %d, not yet archived)", id, m.Seq), m.Stored)
		default:
			b.missing = append(b.missing, fmt.Sprintf("%s (seq %d)", id, m.Seq))
		}
	}
	if undecodable > 0 {
		b.warnf("%d stream messages are not events (the archiver dead-letters them)", undecodable)
	}
	if rejected > 0 {
		b.warnf("%d stream events of the range lack what the archive requires (the archiver dead-letters them)", rejected)
	}
	expired, newer := 0, 0
	for _, r := range ar.records {
		m, ok := a.bySeq[r.Seq]
		switch {
		case ok && m.Err == nil && m.Event.MessageID == r.Event.MessageID:
		case a.afterRead(r.Seq):
			newer++
		case r.Seq < a.firstHeld:
			expired++
		default:
			b.extra = append(b.extra, fmt.Sprintf("%s (seq %d)", r.Event.MessageID, r.Seq))
		}
	}
	if newer > 0 {
		b.warnf("%d archived records were stored in the stream after the audit read it and were not checked", newer)
	}
	if expired > 0 {
		b.warnf("%d archived records are below the oldest sequence the stream holds (%d; expired under its retention) and were not checked", expired, a.firstHeld)
	}
	return b.hop()
}

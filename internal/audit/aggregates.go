package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/souq"
)

// SnapshotPath is where a running server reports its live aggregates.
const SnapshotPath = "/api/v1/analytics/snapshot"

// maxSnapshotBytes bounds the live snapshot the audit reads.
const maxSnapshotBytes = 32 << 20

// aggregates recomputes the aggregates from the archived records and from
// the stream messages the archive should hold, and compares them cell by
// cell. Records the stream no longer holds (or held only after the audit
// read it), and messages past the archiver's last batch, are left out of
// both sides.
func (a *auditor) aggregates(ctx context.Context) (Hop, error) {
	b := newHop(HopAggregates)
	var fromArchive, fromStream []analytics.Record
	for _, r := range a.archive.records {
		if r.Seq >= a.firstHeld && !a.afterRead(r.Seq) {
			fromArchive = append(fromArchive, analytics.Record{Seq: r.Seq, Event: r.Event})
		}
	}
	for i := range a.stream.Msgs {
		m := &a.stream.Msgs[i]
		if archivable(m) && a.inRange(m.Event.Timestamp) && m.Seq <= a.archive.lastCommitted {
			fromStream = append(fromStream, analytics.Record{Seq: m.Seq, Event: asArchived(m.Event)})
		}
	}
	b.counts["archive records"], b.counts["stream messages"] = len(fromArchive), len(fromStream)
	arch, err := recomputeDump(ctx, a.in.Analytics, fromArchive)
	if err != nil {
		return Hop{}, err
	}
	strm, err := recomputeDump(ctx, a.in.Analytics, fromStream)
	if err != nil {
		return Hop{}, err
	}
	b.counts["archive cells"], b.counts["stream cells"] = len(arch.Cells), len(strm.Cells)
	if !arch.Watermark.Equal(strm.Watermark) {
		b.mismatched = append(b.mismatched, fmt.Sprintf("watermark: %s (archive), %s (stream)",
			arch.Watermark.Format(time.RFC3339Nano), strm.Watermark.Format(time.RFC3339Nano)))
	}
	if arch.MaxSeq != strm.MaxSeq {
		b.mismatched = append(b.mismatched, fmt.Sprintf("max_seq: %d (archive), %d (stream)", arch.MaxSeq, strm.MaxSeq))
	}
	archCells := cellMap(arch.Cells)
	for k, sc := range cellMap(strm.Cells) {
		ac, ok := archCells[k]
		switch {
		case !ok:
			b.missing = append(b.missing, k)
		case ac != sc:
			b.mismatched = append(b.mismatched, k+": "+counterDiff(ac, sc))
		}
		delete(archCells, k)
	}
	for k := range archCells {
		b.extra = append(b.extra, k)
	}
	return b.hop(), nil
}

// asArchived returns ev with its times at the archive's precision, the
// microsecond, so that the watermark (the newest receive time) of the two
// recomputations can be compared exactly.
func asArchived(ev souq.Event) souq.Event {
	ev.Timestamp = time.UnixMicro(ev.Timestamp.UnixMicro()).UTC()
	ev.ReceivedAt = time.UnixMicro(ev.ReceivedAt.UnixMicro()).UTC()
	return ev
}

func recomputeDump(ctx context.Context, cfg analytics.Config, recs []analytics.Record) (analytics.State, error) {
	agg, err := analytics.Recompute(ctx, cfg, recs)
	if err != nil {
		return analytics.State{}, fmt.Errorf("audit: %w", err)
	}
	st, err := agg.Dump(ctx)
	if err != nil {
		return analytics.State{}, fmt.Errorf("audit: %w", err)
	}
	return st, nil
}

// cellMap keys cells by resolution, bucket start, dimension and member.
func cellMap(cells []analytics.Cell) map[string]analytics.Counters {
	m := make(map[string]analytics.Counters, len(cells))
	for _, c := range cells {
		m[fmt.Sprintf("%s %s %s %q", c.Res, c.Start.UTC().Format(time.RFC3339), c.Dim, c.Member)] = c.Counters
	}
	return m
}

// counterDiff names the counters that differ between the archive's cell
// and the stream's.
func counterDiff(arch, strm analytics.Counters) string {
	var parts []string
	for _, f := range analytics.CounterFields() {
		if x, y := *arch.Field(f), *strm.Field(f); x != y {
			parts = append(parts, fmt.Sprintf("%s %d (archive), %d (stream)", f, x, y))
		}
	}
	return strings.Join(parts, "; ")
}

// liveSnapshot is the snapshot a running server reported, or why there is
// none.
type liveSnapshot struct {
	snap analytics.Snapshot
	skip string
}

// fetchLive asks the server at Inputs.LiveURL for its snapshot.
func (a *auditor) fetchLive(ctx context.Context) liveSnapshot {
	if a.in.LiveURL == "" {
		return liveSnapshot{skip: "no server URL given"}
	}
	url := strings.TrimSuffix(a.in.LiveURL, "/") + SnapshotPath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return liveSnapshot{skip: fmt.Sprintf("bad server URL %q: %v", a.in.LiveURL, err)}
	}
	req.Header.Set("Accept", "application/json")
	if a.in.AdminToken != "" {
		req.Header.Set("Authorization", "Bearer "+a.in.AdminToken)
	}
	resp, err := a.in.HTTPClient.Do(req)
	if err != nil {
		return liveSnapshot{skip: fmt.Sprintf("GET %s: %v", url, err)}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return liveSnapshot{skip: fmt.Sprintf("GET %s answered 404 Not Found (this server has no analytics API)", url)}
	case resp.StatusCode != http.StatusOK:
		return liveSnapshot{skip: fmt.Sprintf("GET %s answered %s", url, resp.Status)}
	}
	var l liveSnapshot
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxSnapshotBytes)).Decode(&l.snap); err != nil {
		return liveSnapshot{skip: fmt.Sprintf("GET %s: decode the snapshot: %v", url, err)}
	}
	return l
}

// live compares the server's snapshot with one recomputed, at the same
// instant, from the stream's messages up to the snapshot's max_seq.
func (a *auditor) live(ctx context.Context, l liveSnapshot) (Hop, error) {
	if l.skip != "" {
		return skipped(HopLive, "live aggregates not compared: "+l.skip), nil
	}
	b := newHop(HopLive)
	var recs []analytics.Record
	for _, m := range a.stream.Msgs {
		if m.Err == nil && m.Seq <= l.snap.MaxSeq {
			recs = append(recs, analytics.Record{Seq: m.Seq, Event: m.Event})
		}
	}
	b.counts["live max_seq"], b.counts["stream messages"] = int(l.snap.MaxSeq), len(recs)
	if l.snap.MaxSeq > a.stream.Info.LastSeq {
		b.mismatched = append(b.mismatched, fmt.Sprintf("max_seq: %d (live) is past the stream's last sequence %d", l.snap.MaxSeq, a.stream.Info.LastSeq))
	}
	if a.expired() {
		b.warnf("the stream has dropped messages below sequence %d under its retention; the server may have counted some of them", a.firstHeld)
	}
	agg, err := analytics.Recompute(ctx, a.in.Analytics, recs)
	if err != nil {
		return Hop{}, fmt.Errorf("audit: %w", err)
	}
	ours, err := agg.Snapshot(ctx, l.snap.At)
	if err != nil {
		return Hop{}, fmt.Errorf("audit: %w", err)
	}
	diffs, err := diffJSON(l.snap, ours)
	if err != nil {
		return Hop{}, fmt.Errorf("audit: compare snapshots: %w", err)
	}
	b.mismatched = append(b.mismatched, diffs...)
	return b.hop(), nil
}

// diffJSON compares the JSON forms of live and recomputed leaf by leaf and
// returns "path: live value, recomputed value" for each leaf that differs.
func diffJSON(live, recomputed any) ([]string, error) {
	l, err := leaves(live)
	if err != nil {
		return nil, err
	}
	r, err := leaves(recomputed)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		if rv, ok := r[k]; !ok || rv != l[k] {
			out = append(out, fmt.Sprintf("%s: %s (live), %s (recomputed)", k, l[k], orAbsent(rv, ok)))
		}
		delete(r, k)
	}
	for _, k := range slices.Sorted(maps.Keys(r)) {
		out = append(out, fmt.Sprintf("%s: absent (live), %s (recomputed)", k, r[k]))
	}
	return out, nil
}

func orAbsent(v string, ok bool) string {
	if !ok {
		return "absent"
	}
	return v
}

// leaves flattens v's JSON form to path → value.
func leaves(v any) (map[string]string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	out := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(strings.TrimPrefix(path+"."+k, "."), e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		default:
			out[path] = fmt.Sprint(x)
		}
	}
	walk("", tree)
	return out, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/fileblob"
	"github.com/souq-commerce/souq/internal/outcomes"
)

func TestCachedReusesWithinTTL(t *testing.T) {
	now := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	reads := 0
	var fail error
	c := &cached[int]{ttl: time.Second, now: func() time.Time { return now },
		read: func(context.Context) (int, error) {
			if fail != nil {
				return 0, fail
			}
			reads++
			return reads, nil
		}}
	steps := []struct {
		name    string
		advance time.Duration
		fail    error
		want    int
		wantErr bool
	}{
		{"first call reads", 0, nil, 1, false},
		{"within the TTL: reused", 999 * time.Millisecond, nil, 1, false},
		{"a TTL after the read: read again", time.Millisecond, nil, 2, false},
		{"a failed read is not kept", time.Second, errors.New("stream down"), 0, true},
		{"the next call reads", 0, nil, 3, false},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		fail = s.fail
		got, err := c.get(t.Context())
		if (err != nil) != s.wantErr || got != s.want {
			t.Errorf("%s: got %d, %v; want %d (error %v)", s.name, got, err, s.want, s.wantErr)
		}
	}
}

// TestHealthReportsArchiveGaps: a manifest that claims more than its batch
// holds, behind a range no batch covers, is an error on the health
// endpoint and in /metrics, not just a lag figure.
func TestHealthReportsArchiveGaps(t *testing.T) {
	data := t.TempDir()
	base, stdout, _ := startServe(t, []string{"--addr", "127.0.0.1:0", "--data", data, "--demo", "--shoppers", "0",
		"--archive-max-age", "100ms"}, nil)
	placeOrderAndTrack(t, base, stdout.String(), data)

	type health struct {
		Status         string   `json:"status"`
		Errors         []string `json:"errors"`
		ArchiveMissing uint64   `json:"archive_missing"`
		ArchiveLag     uint64   `json:"archive_lag"`
		LastArchived   uint64   `json:"last_archived_seq"`
	}
	var h health
	deadline := time.Now().Add(20 * time.Second)
	for getJSON(t, base+"/api/v1/analytics/health", &h); h.ArchiveLag != 0 || h.LastArchived == 0; getJSON(t, base+"/api/v1/analytics/health", &h) {
		if time.Now().After(deadline) {
			t.Fatalf("the archive did not catch up: %+v", h)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if h.Status != "ok" || h.ArchiveMissing != 0 || len(h.Errors) != 0 {
		t.Fatalf("health of a whole archive: got %+v, want ok", h)
	}

	// A batch L+5…L+10 whose manifest lists no file: sequences L+1…L+4
	// are in no batch, and L+5…L+10 are claimed but not held.
	bucket, err := fileblob.Open(filepath.Join(data, "archive"))
	if err != nil {
		t.Fatal(err)
	}
	first, last := h.LastArchived+5, h.LastArchived+10
	manifest := fmt.Sprintf(`{"version":2,"first_seq":%d,"last_seq":%d,"rows":6,"min_event_time":"2026-11-28T18:00:00Z","max_event_time":"2026-11-28T18:00:00Z","files":[]}`, first, last)
	if err := bucket.Put(t.Context(), fmt.Sprintf("events/_manifests/%020d-%020d.json", first, last), []byte(manifest)); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(20 * time.Second)
	for getJSON(t, base+"/api/v1/analytics/health", &h); h.Status != "error"; getJSON(t, base+"/api/v1/analytics/health", &h) {
		if time.Now().After(deadline) {
			t.Fatalf("health did not report the gap: %+v", h)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if h.ArchiveMissing != 10 || len(h.Errors) == 0 || !strings.Contains(h.Errors[0], "10 events up to sequence") {
		t.Errorf("health: got %d missing and errors %q, want 10 and a description", h.ArchiveMissing, h.Errors)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`(?m)^souq_archive_missing_sequences 10$`).Match(body) {
		t.Errorf("/metrics lacks souq_archive_missing_sequences 10:\n%s", grepLines(string(body), "souq_archive"))
	}
}

// grepLines returns the lines of s containing sub.
func grepLines(s, sub string) string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			out = append(out, strings.TrimRight(line, "\n"))
		}
	}
	return strings.Join(out, "\n")
}

// TestArchiveDocsMatchFlagDefaults: the flag table in docs/archive.md
// states the defaults serve really uses.
func TestArchiveDocsMatchFlagDefaults(t *testing.T) {
	doc, err := os.ReadFile("../../docs/archive.md")
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseServe(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]string{
		"archive-max-age":  c.archiveMaxAge.String(),
		"archive-max-rows": strconv.Itoa(c.archiveMaxRows),
	} {
		row := regexp.MustCompile("(?m)^\\| `--" + name + "` \\| `([^`]*)` \\|").FindSubmatch(doc)
		if row == nil {
			t.Errorf("docs/archive.md has no table row for --%s", name)
			continue
		}
		if got := string(row[1]); got != value {
			t.Errorf("docs/archive.md: --%s defaults to %s, the flag to %s", name, got, value)
		}
	}
}

// TestOutcomesInProcess checks the embedded default's checkout outcomes:
// without Redis the recorder flushes to a store in this process, and
// events.outcomes reads what it flushed.
func TestOutcomesInProcess(t *testing.T) {
	e := &events{}
	rec := e.openOutcomes(serveConfig{}, time.Now, slog.New(slog.DiscardHandler))
	if _, ok := e.outcomes.(*outcomes.MemStore); !ok {
		t.Fatalf("outcomes store without --hot: got %T, want *outcomes.MemStore", e.outcomes)
	}
	rec.Record(outcomes.KindOrder)
	if err := rec.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ms, err := e.outcomes.Minutes(t.Context(), now.Add(-time.Minute), now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var sum outcomes.Counts
	for _, m := range ms {
		sum.Add(m.Counts)
	}
	if want := (outcomes.Counts{Checkouts: 1, Orders: 1}); sum != want {
		t.Errorf("counts read back: got %+v, want %+v", sum, want)
	}
}

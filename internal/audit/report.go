package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// MaxIDs is how many ids each list of a Report keeps; IDs.Total counts
// them all.
const MaxIDs = 100

// maxTextIDs is how many ids of each list the text report shows.
const maxTextIDs = 20

// Hop names, in the order a Report lists them.
const (
	HopOrdersOutbox  = "orders → outbox"
	HopOutboxStream  = "outbox → stream"
	HopStreamArchive = "stream → archive"
	HopAggregates    = "archive → aggregates"
	HopLive          = "stream → live aggregates"
)

// Report is the outcome of one audit.
type Report struct {
	From  time.Time     `json:"from"`
	To    time.Time     `json:"to"`
	At    time.Time     `json:"at"` // when the audit ran
	Grace time.Duration `json:"-"`
	Hops  []Hop         `json:"hops"`
}

// Hop is what one hop's check found. Missing, Duplicated, Extra, Stalled
// and Mismatched are differences; Pending and Warnings are not.
type Hop struct {
	Name string `json:"name"`
	// Skipped, when set, says why the hop was not checked.
	Skipped string `json:"skipped,omitempty"`
	// Counts are what each side holds for the range, by name.
	Counts map[string]int `json:"counts"`
	// Missing: upstream, absent downstream.
	Missing IDs `json:"missing"`
	// Duplicated: downstream more than once.
	Duplicated IDs `json:"duplicated"`
	// Extra: downstream without its upstream.
	Extra IDs `json:"extra"`
	// Stalled: not yet passed downstream, for longer than the grace period.
	Stalled IDs `json:"stalled"`
	// Mismatched: values that differ (archive files and their manifests,
	// aggregate cells, snapshot fields).
	Mismatched IDs `json:"mismatched"`
	// Pending: not yet passed downstream, within the grace period.
	Pending IDs `json:"pending"`
	// Warnings are findings that are not differences.
	Warnings []string `json:"warnings"`
}

// IDs is a sorted list of identifiers, at most MaxIDs of them, and how
// many there are in all.
type IDs struct {
	Total int      `json:"total"`
	IDs   []string `json:"ids"`
}

// newIDs sorts and deduplicates ids and keeps the first MaxIDs.
func newIDs(ids []string) IDs {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	out := IDs{Total: len(ids), IDs: ids[:min(len(ids), MaxIDs)]}
	if out.IDs == nil {
		out.IDs = []string{}
	}
	return out
}

// Differences is the number of differences the hop found.
func (h Hop) Differences() int {
	return h.Missing.Total + h.Duplicated.Total + h.Extra.Total + h.Stalled.Total + h.Mismatched.Total
}

// Differences is the number of differences found at every hop.
func (r Report) Differences() int {
	n := 0
	for _, h := range r.Hops {
		n += h.Differences()
	}
	return n
}

// Clean reports whether the audit found no difference. Warnings and
// pending events do not count.
func (r Report) Clean() bool { return r.Differences() == 0 }

// Hop returns the hop named name, and false if the report has none.
func (r Report) Hop(name string) (Hop, bool) {
	for _, h := range r.Hops {
		if h.Name == name {
			return h, true
		}
	}
	return Hop{}, false
}

// MarshalJSON adds clean, differences and the grace period in seconds to
// the report's fields.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report // without the method
	return json.Marshal(struct {
		Clean        bool    `json:"clean"`
		Differences  int     `json:"differences"`
		GraceSeconds float64 `json:"grace_seconds"`
		plain
	}{r.Clean(), r.Differences(), r.Grace.Seconds(), plain(r)})
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// WriteText writes the report for people: a heading, one section per hop,
// and the verdict.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Souq audit of %s to %s (grace period %s, run at %s)\n",
		r.From.UTC().Format(time.RFC3339), r.To.UTC().Format(time.RFC3339), r.Grace, r.At.UTC().Format(time.RFC3339))
	for _, h := range r.Hops {
		b.WriteString("\n")
		writeHop(&b, h)
	}
	b.WriteString("\n")
	if r.Clean() {
		b.WriteString("Result: clean, no differences.\n")
	} else {
		fmt.Fprintf(&b, "Result: %d difference%s.\n", r.Differences(), plural(r.Differences()))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeHop(b *strings.Builder, h Hop) {
	switch n := h.Differences(); {
	case h.Skipped != "":
		fmt.Fprintf(b, "%s: %s\n", h.Name, h.Skipped)
	case n == 0:
		fmt.Fprintf(b, "%s: ok\n", h.Name)
	default:
		fmt.Fprintf(b, "%s: %d difference%s\n", h.Name, n, plural(n))
	}
	if len(h.Counts) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(h.Counts)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, h.Counts[k]))
		}
		fmt.Fprintf(b, "  counts: %s\n", strings.Join(parts, ", "))
	}
	for _, l := range []struct {
		what string
		ids  IDs
	}{
		{"missing", h.Missing},
		{"duplicated", h.Duplicated},
		{"extra", h.Extra},
		{"stalled (longer than the grace period)", h.Stalled},
		{"mismatched", h.Mismatched},
		{"pending (within the grace period; not a difference)", h.Pending},
	} {
		if l.ids.Total == 0 {
			continue
		}
		fmt.Fprintf(b, "  %s: %d\n", l.what, l.ids.Total)
		shown := l.ids.IDs[:min(len(l.ids.IDs), maxTextIDs)]
		for _, id := range shown {
			fmt.Fprintf(b, "    %s\n", id)
		}
		if more := l.ids.Total - len(shown); more > 0 {
			fmt.Fprintf(b, "    … and %d more (the JSON report lists up to %d)\n", more, MaxIDs)
		}
	}
	for _, w := range h.Warnings {
		fmt.Fprintf(b, "  warning: %s\n", w)
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// hopBuilder collects one hop's findings before they are sorted and
// capped.
type hopBuilder struct {
	name                                                     string
	counts                                                   map[string]int
	missing, duplicated, extra, stalled, mismatched, pending []string
	warnings                                                 []string
}

func newHop(name string) *hopBuilder { return &hopBuilder{name: name, counts: map[string]int{}} }

func (b *hopBuilder) warnf(format string, args ...any) {
	b.warnings = append(b.warnings, fmt.Sprintf(format, args...))
}

func (b *hopBuilder) hop() Hop {
	w := b.warnings
	if w == nil {
		w = []string{}
	}
	return Hop{
		Name: b.name, Counts: b.counts,
		Missing: newIDs(b.missing), Duplicated: newIDs(b.duplicated), Extra: newIDs(b.extra),
		Stalled: newIDs(b.stalled), Mismatched: newIDs(b.mismatched), Pending: newIDs(b.pending),
		Warnings: w,
	}
}

// skipped is a hop that was not checked, and why.
func skipped(name, why string) Hop {
	h := newHop(name).hop()
	h.Skipped = why
	return h
}

package bidi

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRuns(t *testing.T) {
	for _, tt := range []struct {
		dir, in string
		want    []Run
	}{
		{"rtl", "واقي شمس SPF50+", []Run{{Text: "واقي شمس "}, {Text: "SPF50+", Dir: "ltr"}}},
		{"rtl", "سيروم Glow 2 مرطب", []Run{{Text: "سيروم "}, {Text: "Glow 2", Dir: "ltr"}, {Text: " مرطب"}}},
		{"rtl", "فيلا 12, Jumeirah Bay", []Run{{Text: "فيلا 12, "}, {Text: "Jumeirah Bay", Dir: "ltr"}}},
		{"rtl", "Villa 12!", []Run{{Text: "Villa 12!", Dir: "ltr"}}},
		{"rtl", "12345", []Run{{Text: "12345"}}},
		{"ltr", "Sun Fluid SPF50+", []Run{{Text: "Sun Fluid SPF50+"}}},
		{"ltr", "Glow سيروم!", []Run{{Text: "Glow "}, {Text: "سيروم!", Dir: "rtl"}}},
		{"ltr", "", nil},
	} {
		if diff := cmp.Diff(tt.want, Runs(tt.dir, tt.in)); diff != "" {
			t.Errorf("Runs(%s, %q) (-want +got):\n%s", tt.dir, tt.in, diff)
		}
	}
}

func TestHTMLAndMarks(t *testing.T) {
	if got, want := string(HTML("rtl", "واقي <3> SPF50+")), `واقي &lt;3&gt; <bdi dir="ltr">SPF50+</bdi>`; got != want {
		t.Errorf("HTML: got %q, want %q", got, want)
	}
	if got, want := Marks("rtl", "واقي شمس SPF50+"), "واقي شمس \u2066SPF50+\u2069"; got != want {
		t.Errorf("Marks: got %q, want %q", got, want)
	}
	if got, want := Marks("ltr", "Glow سيروم"), "Glow \u2067سيروم\u2069"; got != want {
		t.Errorf("Marks: got %q, want %q", got, want)
	}
}

// TestRunsInvalidUTF8: a string with bytes that are not UTF-8 is split
// without a panic, every byte kept.
func TestRunsInvalidUTF8(t *testing.T) {
	for _, s := range []string{"مر\xff", "\xffabc", "SPF\xc3"} {
		var got strings.Builder
		for _, r := range Runs("rtl", s) {
			got.WriteString(r.Text)
		}
		if got.String() != s {
			t.Errorf("Runs(%q): runs give %q back", s, got.String())
		}
	}
}

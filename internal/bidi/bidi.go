// Package bidi marks up mixed-direction text for HTML: in a right-to-left
// context (an Arabic page) each Latin run of a text ("واقي شمس SPF50+") is
// isolated, and in a left-to-right one each Arabic run, so that the Unicode
// bidirectional algorithm does not move a run's neutral characters to the
// wrong side ("+SPF50").
package bidi

import (
	"html/template"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Run is a piece of a text: an isolated run of the other direction, or a
// piece left as it is (Dir "").
type Run struct {
	Text string
	Dir  string // "ltr" or "rtl" for an isolated run; "" otherwise
}

// rtl reports whether r is a strong right-to-left character (Arabic,
// Hebrew, Syriac, Thaana and their presentation forms).
func rtl(r rune) bool {
	return r >= 0x0590 && r <= 0x08FF || r >= 0xFB1D && r <= 0xFDFF || r >= 0xFE70 && r <= 0xFEFF
}

// ltr reports whether r is a strong left-to-right character.
func ltr(r rune) bool { return unicode.IsLetter(r) && !rtl(r) }

// Runs splits s, shown in a context of direction dir ("rtl" or "ltr"),
// into runs: in "rtl", each run that starts with a left-to-right letter
// and goes on up to the next right-to-left letter (trailing spaces left
// out) is an "ltr" run; in "ltr", each run of right-to-left text is an
// "rtl" run, in the same way. A text of the context's direction is one
// plain run.
func Runs(dir, s string) []Run {
	other, starts, stops := "ltr", ltr, rtl
	if dir != "rtl" {
		other, starts, stops = "rtl", rtl, ltr
	}
	var out []Run
	plain, i := 0, 0
	for i < len(s) {
		r, size := decode(s[i:])
		if !starts(r) {
			i += size
			continue
		}
		end := i
		for j := i; j < len(s); {
			r, size := decode(s[j:])
			if stops(r) {
				break
			}
			j += size
			end = j
		}
		run := strings.TrimRightFunc(s[i:end], unicode.IsSpace)
		if plain < i {
			out = append(out, Run{Text: s[plain:i]})
		}
		out = append(out, Run{Text: run, Dir: other})
		plain, i = i+len(run), i+len(run)
	}
	if plain < len(s) {
		out = append(out, Run{Text: s[plain:]})
	}
	return out
}

func decode(s string) (rune, int) {
	return utf8.DecodeRuneInString(s) // an invalid byte: RuneError, 1
}

// HTML is s, for a context of direction dir, escaped, each isolated run in
// <bdi dir="…">.
func HTML(dir, s string) template.HTML {
	var b strings.Builder
	for _, r := range Runs(dir, s) {
		if r.Dir == "" {
			b.WriteString(template.HTMLEscapeString(r.Text))
			continue
		}
		b.WriteString(`<bdi dir="` + r.Dir + `">` + template.HTMLEscapeString(r.Text) + `</bdi>`)
	}
	return template.HTML(b.String())
}

// Marks is s, for a context of direction dir, with each isolated run
// between Unicode isolate marks (LRI or RLI … PDI): for text where no
// element can go, such as a value inside a translated message or a title.
func Marks(dir, s string) string {
	var b strings.Builder
	for _, r := range Runs(dir, s) {
		switch r.Dir {
		case "ltr":
			b.WriteString("\u2066" + r.Text + "\u2069")
		case "rtl":
			b.WriteString("\u2067" + r.Text + "\u2069")
		default:
			b.WriteString(r.Text)
		}
	}
	return b.String()
}

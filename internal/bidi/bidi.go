// Package bidi marks up mixed-direction text for HTML: a Latin run inside
// Arabic text ("واقي شمس SPF50+") and an Arabic run inside Latin text are
// isolated, so that the Unicode bidirectional algorithm does not move their
// neutral characters to the wrong side ("+SPF50").
package bidi

import (
	"html/template"
	"strings"
	"unicode"
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

// Runs splits s by the direction of its first strong character: in a text
// that starts right-to-left, each run that starts with a Latin letter and
// goes on up to the next right-to-left letter (trailing spaces left out)
// is an "ltr" run; in a text that starts left-to-right, the runs of Arabic
// are "rtl" runs. A text of one direction is one plain run.
func Runs(s string) []Run {
	base := ""
	for _, r := range s {
		if rtl(r) {
			base = "rtl"
			break
		}
		if ltr(r) {
			base = "ltr"
			break
		}
	}
	if base == "" {
		return []Run{{Text: s}}
	}
	other, starts, stops := "ltr", ltr, rtl
	if base == "ltr" {
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
	for _, r := range s {
		return r, len(string(r))
	}
	return 0, 0
}

// HTML is s escaped, each isolated run in <bdi dir="…">.
func HTML(s string) template.HTML {
	var b strings.Builder
	for _, r := range Runs(s) {
		if r.Dir == "" {
			b.WriteString(template.HTMLEscapeString(r.Text))
			continue
		}
		b.WriteString(`<bdi dir="` + r.Dir + `">` + template.HTMLEscapeString(r.Text) + `</bdi>`)
	}
	return template.HTML(b.String())
}

// Marks is s with each isolated run between Unicode isolate marks (LRI or
// RLI … PDI): for text where no element can go, such as a value inside a
// translated message, a title or an attribute.
func Marks(s string) string {
	var b strings.Builder
	for _, r := range Runs(s) {
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

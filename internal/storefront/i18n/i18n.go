// Package i18n owns the storefront's message catalog: every text a shopper
// reads, in English and Arabic, kept in messages/en.json and messages/ar.json
// (one flat object of key → text per language, embedded in the binary), and
// the small locale rules that go with it: digits, percentages and dates.
//
// A message may hold placeholders {1}, {2}… replaced by T's arguments in
// order. A key missing from a catalog renders as MissingPrefix + key, which
// the tests look for; the two catalogs must have the same keys (a test
// checks it).
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

//go:embed messages/*.json
var messageFS embed.FS

// Langs are the storefront's languages, in the order the language switcher
// shows them.
var Langs = []souq.Lang{souq.Arabic, souq.English}

// Fallback is the language chosen when neither the lang cookie nor
// Accept-Language names Arabic or English.
const Fallback = souq.English

// MissingPrefix starts the text shown for a key that is not in the catalog.
const MissingPrefix = "!!missing:"

// catalogs maps each language to its messages; loaded once, read-only after.
var catalogs = load()

func load() map[souq.Lang]map[string]string {
	out := make(map[souq.Lang]map[string]string, len(Langs))
	for _, l := range Langs {
		raw, err := messageFS.ReadFile("messages/" + string(l) + ".json")
		if err != nil {
			panic(fmt.Sprintf("i18n: %v", err))
		}
		m := map[string]string{}
		if err := json.Unmarshal(raw, &m); err != nil {
			panic(fmt.Sprintf("i18n: messages/%s.json: %v", l, err))
		}
		out[l] = m
	}
	return out
}

// Valid reports whether s names a storefront language.
func Valid(s string) (souq.Lang, bool) {
	for _, l := range Langs {
		if string(l) == s {
			return l, true
		}
	}
	return "", false
}

// Lookup returns the message for key in lang and whether it exists.
func Lookup(lang souq.Lang, key string) (string, bool) {
	s, ok := catalogs[lang][key]
	return s, ok
}

// T returns the message for key in lang with {1}, {2}… replaced by args
// (formatted with fmt.Sprint). A missing key gives MissingPrefix + key.
func T(lang souq.Lang, key string, args ...any) string {
	s, ok := Lookup(lang, key)
	if !ok {
		return MissingPrefix + key
	}
	for i, a := range args {
		s = strings.ReplaceAll(s, "{"+strconv.Itoa(i+1)+"}", fmt.Sprint(a))
	}
	return s
}

// Keys returns the keys of lang's catalog, sorted.
func Keys(lang souq.Lang) []string {
	return slices.Sorted(maps.Keys(catalogs[lang]))
}

// Digits writes the ASCII digits of s as Arabic-Indic digits in Arabic.
func Digits(lang souq.Lang, s string) string {
	if lang != souq.Arabic {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			r = '٠' + (r - '0')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Number formats n for lang.
func Number(lang souq.Lang, n int) string { return Digits(lang, strconv.Itoa(n)) }

// Percent formats basis points as a percentage: 500 → "5%", "٥٪".
func Percent(lang souq.Lang, basisPoints int64) string {
	s := strconv.FormatInt(basisPoints/100, 10)
	if r := basisPoints % 100; r != 0 {
		s += fmt.Sprintf(".%02d", r)
		s = strings.TrimRight(s, "0")
	}
	if lang == souq.Arabic {
		return Digits(lang, strings.ReplaceAll(s, ".", "٫")) + "٪"
	}
	return s + "%"
}

// ASCIIDigits turns Arabic-Indic and Eastern Arabic-Indic digits into ASCII
// ones, so a phone number typed on an Arabic keyboard reads the same.
func ASCIIDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '٠' && r <= '٩':
			r = '0' + (r - '٠')
		case r >= '۰' && r <= '۹':
			r = '0' + (r - '۰')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// DateTime formats t, already in the zone to show, as a day, month name,
// year and 24-hour time: "27 November 2026, 20:00", "٢٧ نوفمبر ٢٠٢٦، ٢٠:٠٠".
func DateTime(lang souq.Lang, t time.Time) string {
	return T(lang, "format.datetime", Number(lang, t.Day()), T(lang, "month."+strconv.Itoa(int(t.Month()))),
		Number(lang, t.Year()), Digits(lang, t.Format("15:04")))
}

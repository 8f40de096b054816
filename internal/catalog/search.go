package catalog

import (
	"strings"
	"unicode"

	"github.com/souq-commerce/souq/internal/souq"
)

// NormalizeText folds text for matching in English and Arabic: lower case;
// Arabic diacritics (harakat), tatweel and Quranic marks removed; the alef
// forms أ إ آ ٱ folded to ا, ة to ه, ى to ي, ؤ to و and ئ to ي; Arabic-Indic
// digits to ASCII; everything that is not a letter or digit becomes a space.
// Shoppers type Arabic with and without hamza and diacritics, so both sides
// of a comparison go through this function.
func NormalizeText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true
	for _, r := range s {
		r = foldRune(r)
		switch {
		case r == 0:
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
			space = false
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	return strings.TrimSpace(b.String())
}

// foldRune maps one rune to its search form; 0 means drop it.
func foldRune(r rune) rune {
	switch {
	case r >= 0x064B && r <= 0x065F, r == 0x0670, r >= 0x06D6 && r <= 0x06ED, r == 0x0640:
		return 0 // harakat, superscript alef, Quranic marks, tatweel
	case r >= '٠' && r <= '٩':
		return '0' + (r - '٠')
	case r >= '۰' && r <= '۹':
		return '0' + (r - '۰')
	}
	switch r {
	case 'أ', 'إ', 'آ', 'ٱ':
		return 'ا'
	case 'ة':
		return 'ه'
	case 'ى', 'ئ':
		return 'ي'
	case 'ؤ':
		return 'و'
	case '\'', '’', '`':
		return 0 // "Kiehl's" matches "kiehls"
	}
	return unicode.ToLower(r)
}

// MaxSearchTerms bounds how many words a search may have.
const MaxSearchTerms = 8

// SearchTerms splits a shopper's query into normalised terms, at most
// MaxSearchTerms of them.
func SearchTerms(q string) []string {
	terms := strings.Fields(NormalizeText(q))
	if len(terms) > MaxSearchTerms {
		terms = terms[:MaxSearchTerms]
	}
	return terms
}

// SearchText is the normalised text a product is found by: SKU, brand,
// category (key and names) and both product names.
func SearchText(p souq.Product) string {
	cat := CategoryName(p.Category)
	return NormalizeText(strings.Join([]string{
		p.SKU, p.Brand, p.Category, cat.EN, cat.AR, p.Name.EN, p.Name.AR,
	}, " "))
}

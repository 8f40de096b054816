package souq

import (
	"fmt"
	"strconv"
	"strings"
)

// Currency is an ISO 4217 currency code.
type Currency string

// The currencies of the six markets.
const (
	AED Currency = "AED" // UAE dirham, 2 decimals
	SAR Currency = "SAR" // Saudi riyal, 2 decimals
	QAR Currency = "QAR" // Qatari riyal, 2 decimals
	KWD Currency = "KWD" // Kuwaiti dinar, 3 decimals
	BHD Currency = "BHD" // Bahraini dinar, 3 decimals
	OMR Currency = "OMR" // Omani rial, 3 decimals
)

// MaxAmount bounds every amount Souq stores or computes (in minor units), so
// that products of amounts, quantities and VAT rates cannot overflow int64.
const MaxAmount int64 = 1_000_000_000_000

type currencyInfo struct {
	exponent int
	symbolAR string
}

var currencies = map[Currency]currencyInfo{
	AED: {2, "د.إ."},
	SAR: {2, "ر.س."},
	QAR: {2, "ر.ق."},
	KWD: {3, "د.ك."},
	BHD: {3, "د.ب."},
	OMR: {3, "ر.ع."},
}

// Exponent returns the number of decimal places of the currency's minor unit
// (2 for fils and halala, 3 for Kuwaiti and Bahraini fils and Omani baisa).
// It panics on an unknown currency, which is a programming error.
func (c Currency) Exponent() int {
	info, ok := currencies[c]
	if !ok {
		panic(fmt.Sprintf("souq: unknown currency %q", string(c)))
	}
	return info.exponent
}

// Valid reports whether c is one of the supported currencies.
func (c Currency) Valid() bool {
	_, ok := currencies[c]
	return ok
}

// Money is an amount in integer minor units of a currency. There is no
// floating point anywhere money is computed or stored.
type Money struct {
	Amount   int64    `json:"amount"`
	Currency Currency `json:"currency"`
}

// M is shorthand for Money{amount, currency}.
func M(amount int64, c Currency) Money { return Money{Amount: amount, Currency: c} }

// VATIncluded returns the VAT contained in a VAT-inclusive amount at the
// given rate in basis points: gross × rate / (10000 + rate), rounded to the
// nearest minor unit with halves rounded away from zero.
//
// Souq applies it to each order line (unit price × quantity), and an
// order's VAT is the sum of its lines' VAT. Gross amounts must be within
// ±MaxAmount and the rate within 0..10000.
func VATIncluded(gross, basisPoints int64) int64 {
	return DivRoundHalfAway(gross*basisPoints, 10_000+basisPoints)
}

// DivRoundHalfAway divides a by a positive b, rounding to the nearest whole
// number with halves away from zero: Souq's one rounding rule for money.
func DivRoundHalfAway(a, b int64) int64 {
	q, r := a/b, a%b
	if r < 0 {
		r = -r
	}
	if 2*r >= b {
		if a < 0 {
			return q - 1
		}
		return q + 1
	}
	return q
}

// Decimal renders the amount as a plain decimal number with the currency's
// exponent, e.g. "12.500" for 12500 KWD fils. It is the form used in events
// and exports.
func (m Money) Decimal() string {
	return decimal(m.Amount, m.Currency.Exponent(), ".", "")
}

// Format renders the amount for people in the given language:
// "AED 1,234.50" in English and "١٬٢٣٤٫٥٠ د.إ." in Arabic (Arabic-Indic
// digits, Arabic separators, the currency's Arabic abbreviation after the
// number).
func (m Money) Format(lang Lang) string {
	exp := m.Currency.Exponent()
	if lang == Arabic {
		s := decimal(m.Amount, exp, "٫", "٬")
		return toArabicDigits(s) + " " + currencies[m.Currency].symbolAR
	}
	return string(m.Currency) + " " + decimal(m.Amount, exp, ".", ",")
}

// String formats the amount in English.
func (m Money) String() string { return m.Format(English) }

func decimal(amount int64, exp int, point, group string) string {
	neg := amount < 0
	if neg {
		amount = -amount
	}
	digits := strconv.FormatInt(amount, 10)
	for len(digits) <= exp {
		digits = "0" + digits
	}
	whole, frac := digits[:len(digits)-exp], digits[len(digits)-exp:]
	if group != "" {
		var b strings.Builder
		for i, r := range whole {
			if i > 0 && (len(whole)-i)%3 == 0 {
				b.WriteString(group)
			}
			b.WriteRune(r)
		}
		whole = b.String()
	}
	out := whole
	if exp > 0 {
		out += point + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

func toArabicDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune('٠' + (r - '0'))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ParseDecimal parses a decimal string such as "12.5" into minor units of the
// currency, rejecting more decimal places than the currency has. It is used
// for human input (admin tools, demo price lists), never for client-sent
// order prices, which are ignored.
func ParseDecimal(s string, c Currency) (int64, error) {
	exp := c.Exponent()
	s = strings.TrimSpace(s)
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > exp {
		return 0, Errorf(ErrInvalid, "%q has more than %d decimal places for %s", s, exp, c)
	}
	frac += strings.Repeat("0", exp-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || whole == "" || strings.HasPrefix(whole, "+") {
		return 0, Errorf(ErrInvalid, "%q is not a decimal amount", s)
	}
	if n > MaxAmount || n < -MaxAmount {
		return 0, Errorf(ErrInvalid, "%q is out of range", s)
	}
	return n, nil
}

// LineTotal returns unit × quantity and the VAT contained in it at market m's
// rate. Callers bound unit by MaxAmount and quantity so the product fits.
func LineTotal(unit int64, quantity int, m Market) (total, vat int64) {
	total = unit * int64(quantity)
	return total, VATIncluded(total, m.VATBasisPoints)
}

package souq

import (
	"crypto/rand"
	"strings"
)

// Order numbers are what shoppers read out on the phone: "SQ-7K4M2Q", the
// prefix and six characters of Crockford's base32 alphabet (digits and
// upper-case letters without I, L, O and U, which are taken for 1, 1, 0
// and V or are rude). Six characters give 32⁶, about a billion, numbers;
// they are random, so they say nothing about how many orders a shop takes,
// and unique only because the stores refuse a number already given
// (checkout draws another).
const (
	OrderNumberPrefix = "SQ-"
	orderNumberLen    = 6
	crockford         = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

// NewOrderNumber returns a random order number.
func NewOrderNumber() string {
	var b [orderNumberLen]byte
	_, _ = rand.Read(b[:])
	out := make([]byte, 0, len(OrderNumberPrefix)+orderNumberLen)
	out = append(out, OrderNumberPrefix...)
	for _, c := range b {
		out = append(out, crockford[c&31]) // 256 is a multiple of 32: no bias
	}
	return string(out)
}

// ParseOrderNumber reads an order number as a person may type it: in any
// case, with or without the prefix, with spaces or dashes, and with the
// look-alikes Crockford's alphabet leaves out read as what they look like
// (O as 0, I and L as 1). It reports false when s is not an order number.
func ParseOrderNumber(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	// The prefix is optional; a number may itself start with SQ, so it is
	// taken off only when the rest is still a whole number.
	if rest, ok := strings.CutPrefix(s, "SQ"); ok && len(strings.NewReplacer(" ", "", "-", "").Replace(rest)) >= orderNumberLen {
		s = rest
	}
	var b strings.Builder
	b.WriteString(OrderNumberPrefix)
	n := 0
	for _, r := range s {
		switch r {
		case ' ', '-':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r > 127 || !strings.ContainsRune(crockford, r) {
			return "", false
		}
		b.WriteRune(r)
		n++
	}
	if n != orderNumberLen {
		return "", false
	}
	return b.String(), true
}

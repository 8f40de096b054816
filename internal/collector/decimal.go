package collector

import (
	"math"
	"math/big"
	"strconv"
)

// A decimal is the exact value of a JSON number's text, read without
// math/big: the validator reads numbers with big.Rat, which takes tens of
// milliseconds for an exponent near its limit of a million (1e999999), so
// a check must not, or one message could cost seconds. The decimal also
// says whether big.Rat can read the text at all, since the validator's
// verdict depends on it.
type decimal struct {
	neg    bool
	digits []byte // significant digits, without leading or trailing zeros; none for zero
	exp    int64  // the power of ten of the last digit
	exp5   int64  // the exponent big.Rat works with: the written one less the fraction's digits
	ok     bool   // big.Rat can read the text
}

// maxRatExp is the largest exponent big.Rat.SetString accepts (its
// "excessively large exponents" guard).
const maxRatExp = 1_000_000

// cheapRatExp bounds the exponents and digits of a number whose exact
// value a check builds: below it that takes microseconds.
const cheapRatExp = 10_000

// parseDecimal reads a well-formed JSON number.
func parseDecimal(raw []byte) decimal {
	var d decimal
	i := 0
	if i < len(raw) && raw[i] == '-' {
		d.neg = true
		i++
	}
	var mantissa []byte // integer and fraction digits, in order
	start := i
	for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
		i++
	}
	mantissa = raw[start:i]
	var frac int64
	if i < len(raw) && raw[i] == '.' {
		i++
		fs := i
		for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
			i++
		}
		frac = int64(i - fs)
		mantissa = append(mantissa[:len(mantissa):len(mantissa)], raw[fs:i]...)
	}
	var exp int64
	if i < len(raw) && (raw[i] == 'e' || raw[i] == 'E') {
		e, err := strconv.ParseInt(string(raw[i+1:]), 10, 64)
		if err != nil {
			return decimal{} // big.Rat fails on an exponent beyond int64
		}
		exp = e
	}
	d.ok = true
	lead := 0
	for lead < len(mantissa) && mantissa[lead] == '0' {
		lead++
	}
	d.digits = mantissa[lead:]
	if len(d.digits) == 0 {
		d.neg, d.digits = false, nil
		return d // zero: big.Rat reads it whatever the exponent
	}
	if exp < math.MinInt64+frac {
		return decimal{}
	}
	d.exp5 = exp - frac
	if d.exp5 > maxRatExp || d.exp5 < -maxRatExp {
		return decimal{}
	}
	d.exp = d.exp5
	for d.digits[len(d.digits)-1] == '0' {
		d.digits = d.digits[:len(d.digits)-1]
		d.exp++
	}
	return d
}

// isInteger reports whether the validator takes the number for an integer:
// big.Rat reads it and its value has no fraction.
func (d decimal) isInteger() bool {
	return d.ok && (d.digits == nil || d.exp >= 0)
}

// cmpInt compares the number with m (-1, 0 or +1) exactly; d.ok must be
// true.
func (d decimal) cmpInt(m int64) int {
	if d.digits == nil {
		return cmpInt64(0, m)
	}
	switch n := int64(len(d.digits)) + d.exp; { // digits before the point
	case n > 19: // beyond any int64
		if d.neg {
			return -1
		}
		return 1
	case n <= 0: // between -1 and 1, not 0
		if (d.neg && m <= -1) || (!d.neg && m <= 0) {
			return 1
		}
		return -1
	}
	// At most 19 digits before the point, so the exponent is at most the
	// number of digits: the exact value costs no more than the text.
	return d.exact().Cmp(new(big.Rat).SetInt64(m))
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// exact returns the number's value; it costs about as much as the digits
// and the exponent are long.
func (d decimal) exact() *big.Rat {
	if d.digits == nil {
		return new(big.Rat)
	}
	n, _ := new(big.Int).SetString(string(d.digits), 10)
	e := d.exp
	if e < 0 {
		e = -e
	}
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(e), nil)
	var r *big.Rat
	if d.exp >= 0 {
		r = new(big.Rat).SetInt(n.Mul(n, p))
	} else {
		r = new(big.Rat).SetFrac(n, p)
	}
	if d.neg {
		r.Neg(r)
	}
	return r
}

// cheap reports whether exact is cheap to build.
func (d decimal) cheap() bool {
	return d.exp <= cheapRatExp && d.exp >= -cheapRatExp && len(d.digits) <= cheapRatExp
}

// rat returns a big.Rat that the validator's messages, which print a
// number as the nearest float64, print as they would print the number raw
// (which d was read from; d.ok must be true): its exact value when that is
// cheap, else one with the same nearest float64.
func (d decimal) rat(raw []byte) *big.Rat {
	if d.cheap() {
		return d.exact()
	}
	f, _ := strconv.ParseFloat(string(raw), 64) // correctly rounded, as big.Rat.Float64
	switch {
	case math.IsInf(f, 0): // beyond float64: 2^1024 rounds to infinity too
		r := new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), 1024))
		if f < 0 {
			r.Neg(r)
		}
		return r
	case f == 0: // not zero, but nearer zero than any float64: 2^-1100 too
		r := new(big.Rat).SetFrac(big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), 1100))
		if d.neg {
			r.Neg(r)
		}
		return r
	}
	return new(big.Rat).SetFloat64(f)
}

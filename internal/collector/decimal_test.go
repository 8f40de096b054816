package collector

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestDecimalMatchesBigRat compares a decimal's verdicts with big.Rat's,
// which the validator uses: whether the text can be read, whether it is an
// integer, how it compares with integers, and the float64 a message
// prints.
func TestDecimalMatchesBigRat(t *testing.T) {
	texts := []string{
		"0", "-0", "1", "-1", "0.0", "1.0", "1.5", "-1.5", "10e-1", "1e2", "1E+2", "1e-2", "0.1e1", "1.25e2", "125e-2",
		"0e1000001", "0e-99999999999999999999", "1e0000000000000000000000001", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809", "99999999999999999999", "0.000001e6", "100e-2", "1000000e-6",
		"12345678901234567890.5e-1", "1e18", "1e19", "-1e19", "0.99999999999999999999", "1.00000000000000000001",
		"1e-20", "-1e-20", "5e-324", "1e-400", "-1e-400", "1.7976931348623157e308", "1.8e308", "-1e400", "2e400",
		// exponents at big.Rat's limit (a million) and past it: slow to read with big.Rat, so few
		"1e1000000", "1e1000001", "-1e999999", "1e-999999", "-1e-1000000", "1e-1000001", "1.5e1000001",
		"1e9223372036854775807", "1e-9223372036854775808", "1e99999999999999999999", "0.5e-9223372036854775808",
	}
	r := rand.New(rand.NewPCG(3, 3))
	for range 3000 {
		texts = append(texts, randomNumber(r))
	}
	ints := []int64{math.MinInt64, -5, -1, 0, 1, 2, 100, math.MaxInt64}
	for _, text := range texts {
		want, wantOK := new(big.Rat).SetString(text)
		d := parseDecimal([]byte(text))
		if d.ok != wantOK {
			t.Fatalf("%s: got readable %v, want %v", text, d.ok, wantOK)
		}
		if got := isInteger([]byte(text)); got != (wantOK && want.IsInt()) {
			t.Fatalf("%s: got integer %v, want %v", text, got, !got)
		}
		if !wantOK {
			continue
		}
		for _, m := range ints {
			if got, want := d.cmpInt(m), want.Cmp(new(big.Rat).SetInt64(m)); got != want {
				t.Fatalf("%s compared with %d: got %d, want %d", text, m, got, want)
			}
		}
		gotF, _ := d.rat([]byte(text)).Float64()
		wantF, _ := want.Float64()
		if fmt.Sprint(gotF) != fmt.Sprint(wantF) {
			t.Fatalf("%s: got float %v, want %v", text, gotF, wantF)
		}
		if d.cheap() && d.exact().Cmp(want) != 0 {
			t.Fatalf("%s: got exact value %s, want %s", text, d.exact(), want)
		}
	}
}

// randomNumber writes a JSON number: an integer part, maybe a fraction and
// an exponent, with runs of zeros where they matter.
func randomNumber(r *rand.Rand) string {
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			if r.IntN(3) == 0 {
				b.WriteByte('0')
			} else {
				b.WriteByte(byte('0' + r.IntN(10)))
			}
		}
		return b.String()
	}
	var b strings.Builder
	if r.IntN(3) == 0 {
		b.WriteByte('-')
	}
	if r.IntN(4) == 0 {
		b.WriteByte('0')
	} else {
		b.WriteByte(byte('1' + r.IntN(9)))
		b.WriteString(digits(r.IntN(22)))
	}
	if r.IntN(2) == 0 {
		b.WriteByte('.')
		b.WriteString(digits(1 + r.IntN(22)))
	}
	if r.IntN(2) == 0 {
		b.WriteString([]string{"e", "E", "e+", "e-", "E-", "e0"}[r.IntN(6)])
		b.WriteString(fmt.Sprint(r.IntN(400)))
	}
	return b.String()
}

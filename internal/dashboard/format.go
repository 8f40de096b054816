package dashboard

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The page's number and time formats. static/dashboard.js formats the
// pushed updates the same way; change both together.

// none stands for a figure that is not available.
const none = "–"

// fmtInt writes n with thousands separators: 1,234,567.
func fmtInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + group(s[1:])
	}
	return group(s)
}

// group puts a comma between every three digits of a string of digits.
func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// fmtAED writes an amount of fils as dirhams: 1,234.56.
func fmtAED(fils int64) string {
	sign, abs := "", fils
	if fils < 0 {
		sign, abs = "-", -fils
	}
	return fmt.Sprintf("%s%s.%02d", sign, fmtInt(abs/100), abs%100)
}

// fmtDecimal groups the whole part of a decimal amount ("1234.500" →
// "1,234.500"); an empty one is none.
func fmtDecimal(dec string) string {
	if dec == "" {
		return none
	}
	sign := ""
	if rest, ok := strings.CutPrefix(dec, "-"); ok {
		sign, dec = "-", rest
	}
	whole, frac, hasFrac := strings.Cut(dec, ".")
	if hasFrac {
		return sign + group(whole) + "." + frac
	}
	return sign + group(whole)
}

// fmtPct writes a rate as a percentage with one decimal: 0.1234 → 12.3%.
func fmtPct(rate float64) string {
	return strconv.FormatFloat(rate*100, 'f', 1, 64) + "%"
}

// fmtPerSecond writes a rate of events: 1,234.5/s.
func fmtPerSecond(rate float64) string {
	s := strconv.FormatFloat(rate, 'f', 1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	return group(whole) + "." + frac + "/s"
}

// fmtClock writes t as a time of day in loc; the zero time is none.
func fmtClock(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return none
	}
	return t.In(loc).Format("15:04:05")
}

// fmtAge writes how long ago something was, to the second: 42 s,
// 3 min 5 s, 2 h 10 min.
func fmtAge(d time.Duration) string {
	s := int64(max(d, 0) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min %d s", s/60, s%60)
	default:
		return fmt.Sprintf("%d h %d min", s/3600, s%3600/60)
	}
}

package dashboard

import (
	"testing"
	"time"
)

func TestFormats(t *testing.T) {
	for _, tc := range []struct{ name, got, want string }{
		{"int 0", fmtInt(0), "0"},
		{"int 999", fmtInt(999), "999"},
		{"int 1000", fmtInt(1000), "1,000"},
		{"int 1234567", fmtInt(1234567), "1,234,567"},
		{"int -1234", fmtInt(-1234), "-1,234"},
		{"aed 0", fmtAED(0), "0.00"},
		{"aed 5 fils", fmtAED(5), "0.05"},
		{"aed 1234567", fmtAED(1234567), "12,345.67"},
		{"aed negative", fmtAED(-150), "-1.50"},
		{"decimal KWD", fmtDecimal("1234.500"), "1,234.500"},
		{"decimal small", fmtDecimal("0.00"), "0.00"},
		{"decimal negative", fmtDecimal("-98765.43"), "-98,765.43"},
		{"decimal whole", fmtDecimal("1000"), "1,000"},
		{"decimal empty", fmtDecimal(""), "–"},
		{"pct", fmtPct(0.03403), "3.4%"},
		{"pct zero", fmtPct(0), "0.0%"},
		{"pct over 100", fmtPct(1.5), "150.0%"},
		{"per second", fmtPerSecond(1234.56), "1,234.6/s"},
		{"per second zero", fmtPerSecond(0), "0.0/s"},
		{"clock", fmtClock(t0, time.FixedZone("GST", 4*3600)), "14:00:30"},
		{"clock zero", fmtClock(time.Time{}, time.UTC), "–"},
		{"age negative", fmtAge(-time.Second), "0 s"},
		{"age seconds", fmtAge(2500 * time.Millisecond), "2 s"},
		{"age minutes", fmtAge(3*time.Minute + 5*time.Second), "3 min 5 s"},
		{"age hours", fmtAge(2*time.Hour + 10*time.Minute + 59*time.Second), "2 h 10 min"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

package analytics_test

import (
	"math"
	"testing"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/souq"
)

func TestToAED(t *testing.T) {
	tests := []struct {
		name   string
		amount int64
		c      souq.Currency
		want   int64
	}{
		{"AED is unchanged", 12345, souq.AED, 12345},
		{"SAR 100.00", 10000, souq.SAR, 9793},      // 10000 × 1469/1500 = 9793.33 → AED 97.93
		{"SAR 0.01", 1, souq.SAR, 1},               // 1469/1500 = 0.979 → 1 fils
		{"SAR 7.50 is a half", 750, souq.SAR, 735}, // 750 × 1469/1500 = 734.5 → 735 (half away from zero)
		{"SAR refund of 7.50", -750, souq.SAR, -735},
		{"QAR 100.00", 10000, souq.QAR, 10089},                                                // 10000 × 1469/1456 = 10089.29
		{"KWD 12.500", 12500, souq.KWD, 14920},                                                // 12500 × 19097/16000 = 14919.53 → AED 149.20
		{"KWD 1.000", 1000, souq.KWD, 1194},                                                   // 1193.5625 → AED 11.94
		{"KWD 8.000 is a half", 8000, souq.KWD, 9549},                                         // 8000 × 19097/16000 = 9548.5 → 9549
		{"KWD 37.500", 37500, souq.KWD, 44759},                                                // 44758.59
		{"BHD 1.000", 1000, souq.BHD, 977},                                                    // 1000 × 1469/1504 = 976.73 → AED 9.77
		{"OMR 1.000", 1000, souq.OMR, 955},                                                    // 1000 × 1469/1538 = 955.14 → AED 9.55
		{"OMR 0.001", 1, souq.OMR, 1},                                                         // 0.955 → 1
		{"largest KWD amount does not overflow", souq.MaxAmount, souq.KWD, 1_193_562_500_000}, // 1e12/16000 × 19097, exact
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := analytics.ToAED(tt.amount, tt.c)
			if err != nil || got != tt.want {
				t.Errorf("ToAED(%d, %s): got %d, %v; want %d", tt.amount, tt.c, got, err, tt.want)
			}
		})
	}
}

func TestToAEDRejects(t *testing.T) {
	tests := []struct {
		name   string
		amount int64
		c      souq.Currency
	}{
		{"unknown currency", 100, "USD"},
		{"empty currency", 100, ""},
		{"above the largest amount", souq.MaxAmount + 1, souq.SAR},
		{"below the smallest amount", -souq.MaxAmount - 1, souq.KWD},
	}
	for _, tt := range tests {
		if got, err := analytics.ToAED(tt.amount, tt.c); err == nil {
			t.Errorf("%s: ToAED(%d, %q): got %d, nil; want an error", tt.name, tt.amount, tt.c, got)
		}
	}
}

// TestAEDRatesFollowThePegs checks the integer fractions against the pegs
// they are documented to come from: AED 3.6725 per USD and each currency's
// units per USD (KWD: the approximation 1 KWD = 3.25 USD).
func TestAEDRatesFollowThePegs(t *testing.T) {
	tests := []struct {
		c          souq.Currency
		aedPerUnit float64
	}{
		{souq.SAR, 3.6725 / 3.75},
		{souq.QAR, 3.6725 / 3.64},
		{souq.BHD, 3.6725 / 0.376},
		{souq.OMR, 3.6725 / 0.3845},
		{souq.KWD, 3.6725 * 3.25},
	}
	for _, tt := range tests {
		// One million units, in minor units, converted exactly enough to
		// show any error in the fraction beyond float rounding.
		minor := int64(1_000_000) * int64(math.Pow10(tt.c.Exponent()))
		got, err := analytics.ToAED(minor, tt.c)
		if err != nil {
			t.Fatalf("ToAED(%s): %v", tt.c, err)
		}
		want := math.Round(1_000_000 * tt.aedPerUnit * 100)
		if math.Abs(float64(got)-want) > 1 {
			t.Errorf("1,000,000 %s: got %d fils, want %.0f (%.6f AED per unit)", tt.c, got, want, tt.aedPerUnit)
		}
	}
}

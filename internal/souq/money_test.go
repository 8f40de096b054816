package souq

import (
	"errors"
	"testing"
)

func TestVATIncluded(t *testing.T) {
	tests := []struct {
		name       string
		gross, bps int64
		want       int64
	}{
		{"UAE 5% of AED 105.00", 10500, 500, 500},
		{"UAE 5% of AED 89.00 rounds 423.81 to the nearest fils", 8900, 500, 424}, // 8900*500/10500 = 423.8095 → 424
		{"Saudi 15% of SAR 115.00", 11500, 1500, 1500},
		{"Saudi 15% of SAR 99.99", 9999, 1500, 1304}, // 1304.217 → 1304
		{"Bahrain 10% of BHD 11.000", 11000, 1000, 1000},
		{"Bahrain 10% of BHD 0.011 is exactly 1 fils", 11, 1000, 1},
		{"half rounds away from zero", 21, 10000, 11}, // 21*10000/20000 = 10.5 → 11
		{"just under half rounds down", 1, 500, 0},    // 0.0476 → 0
		{"Qatar has no VAT", 12345, 0, 0},
		{"Oman 5% of OMR 2.100", 2100, 500, 100},
		{"negative amount (refund) mirrors positive", -8900, 500, -424},
		{"largest amount does not overflow", MaxAmount, 1500, 130434782609}, // 1e12*1500/11500 = 130434782608.69
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VATIncluded(tt.gross, tt.bps); got != tt.want {
				t.Errorf("VATIncluded(%d, %d): got %d, want %d", tt.gross, tt.bps, got, tt.want)
			}
		})
	}
}

func TestLineTotal(t *testing.T) {
	total, vat := LineTotal(8900, 3, MustMarket(AE))
	if total != 26700 || vat != 1271 { // 26700*500/10500 = 1271.43
		t.Errorf("LineTotal(8900, 3, AE): got %d, %d; want 26700, 1271", total, vat)
	}
	// VAT is rounded per line, not per unit: 3 × round(423.8) would be 1272.
	if 3*VATIncluded(8900, 500) == vat {
		t.Errorf("per-line rounding gave the same as per-unit rounding; the test no longer shows the rule")
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		m      Money
		en, ar string
	}{
		{M(123450, AED), "AED 1,234.50", "١٬٢٣٤٫٥٠ د.إ."},
		{M(8900, SAR), "SAR 89.00", "٨٩٫٠٠ ر.س."},
		{M(5, QAR), "QAR 0.05", "٠٫٠٥ ر.ق."},
		{M(12500, KWD), "KWD 12.500", "١٢٫٥٠٠ د.ك."},
		{M(1234567, BHD), "BHD 1,234.567", "١٬٢٣٤٫٥٦٧ د.ب."},
		{M(50, OMR), "OMR 0.050", "٠٫٠٥٠ ر.ع."},
		{M(0, AED), "AED 0.00", "٠٫٠٠ د.إ."},
		{M(-2500, AED), "AED -25.00", "-٢٥٫٠٠ د.إ."},
		{M(100000000, AED), "AED 1,000,000.00", "١٬٠٠٠٬٠٠٠٫٠٠ د.إ."},
	}
	for _, tt := range tests {
		t.Run(tt.en, func(t *testing.T) {
			if got := tt.m.Format(English); got != tt.en {
				t.Errorf("English: got %q, want %q", got, tt.en)
			}
			if got := tt.m.Format(Arabic); got != tt.ar {
				t.Errorf("Arabic: got %q, want %q", got, tt.ar)
			}
		})
	}
}

func TestDecimalAndExponent(t *testing.T) {
	for c, want := range map[Currency]int{AED: 2, SAR: 2, QAR: 2, KWD: 3, BHD: 3, OMR: 3} {
		if got := c.Exponent(); got != want {
			t.Errorf("%s exponent: got %d, want %d", c, got, want)
		}
	}
	if got := M(12500, KWD).Decimal(); got != "12.500" {
		t.Errorf("Decimal: got %q, want 12.500", got)
	}
	if got := M(7, AED).Decimal(); got != "0.07" {
		t.Errorf("Decimal: got %q, want 0.07", got)
	}
}

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in      string
		c       Currency
		want    int64
		wantErr bool
	}{
		{"89", AED, 8900, false},
		{"89.5", AED, 8950, false},
		{"12.345", KWD, 12345, false},
		{"12.3456", KWD, 0, true},
		{"1.005", AED, 0, true},
		{"abc", AED, 0, true},
		{"", AED, 0, true},
		{".5", AED, 0, true},
		{"+5", AED, 0, true},
		{"99999999999999", AED, 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDecimal(tt.in, tt.c)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseDecimal(%q, %s): got %d, %v; want %d, error %v", tt.in, tt.c, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseDecimal(%q): error kind got %v, want ErrInvalid", tt.in, err)
		}
	}
}

func TestMarkets(t *testing.T) {
	want := map[MarketCode]struct {
		c   Currency
		bps int64
	}{AE: {AED, 500}, SA: {SAR, 1500}, QA: {QAR, 0}, KW: {KWD, 0}, BH: {BHD, 1000}, OM: {OMR, 500}}
	ms := Markets()
	if len(ms) != len(want) {
		t.Fatalf("markets: got %d, want %d", len(ms), len(want))
	}
	for _, m := range ms {
		w := want[m.Code]
		if m.Currency != w.c || m.VATBasisPoints != w.bps {
			t.Errorf("%s: got %s %d bps, want %s %d bps", m.Code, m.Currency, m.VATBasisPoints, w.c, w.bps)
		}
	}
	if _, err := LookupMarket("us"); !errors.Is(err, ErrInvalid) {
		t.Errorf("LookupMarket(us): got %v, want ErrInvalid", err)
	}
	if m, err := LookupMarket(" sa "); err != nil || m.Code != SA {
		t.Errorf("LookupMarket(\" sa \"): got %v, %v; want SA", m.Code, err)
	}
}

func TestNewIDNotSequential(t *testing.T) {
	seen := map[ID]bool{}
	for range 1000 {
		id := NewID(OrderPrefix)
		if len(id) != len(OrderPrefix)+20 || seen[id] {
			t.Fatalf("NewID: got %q (duplicate %v), want unique %d-character ids", id, seen[id], len(OrderPrefix)+20)
		}
		seen[id] = true
	}
	tok := NewToken()
	if !TokenMatches(tok, HashToken(tok)) || TokenMatches(tok+"x", HashToken(tok)) {
		t.Errorf("TokenMatches does not tell a token from another")
	}
}

package demo

import (
	"testing"

	"github.com/souq-commerce/souq/internal/souq"
)

// The worked examples below follow PriceList's rule by hand:
// net AED = base / 1.05; USD = net / 3.6725; target = USD × rate;
// gross = target × (1 + VAT); then round to a whole unit (SAR, QAR) or to
// 0.250 (KWD, BHD, OMR), never below the minimum.
func TestPriceList(t *testing.T) {
	tests := []struct {
		name string
		base int64
		want map[souq.MarketCode]int64
	}{
		{
			// AED 89.00 / 1.05 = 84.7619; / 3.6725 = USD 23.0802
			//   SA: × 3.75 = 86.5509; × 1.15 = 99.5334 → SAR 100.00 (rounds up)
			//   QA: × 3.64 = 84.0118; no VAT      → QAR 84.00
			//   KW: × 0.3075 = 7.0972; no VAT     → 28.39 quarters → KWD 7.000 (rounds down)
			//   BH: × 0.376 = 8.6782; × 1.10 = 9.5460 → 38.18 quarters → BHD 9.500
			//   OM: × 0.3845 = 8.8743; × 1.05 = 9.3180 → 37.27 quarters → OMR 9.250
			name: "AED 89.00",
			base: 8900,
			want: map[souq.MarketCode]int64{souq.AE: 8900, souq.SA: 10000, souq.QA: 8400, souq.KW: 7000, souq.BH: 9500, souq.OM: 9250},
		},
		{
			// AED 249.00 / 1.05 / 3.6725 = USD 64.5731
			//   SA: × 3.75 × 1.15 = 278.4693 → SAR 278.00
			//   QA: × 3.64 = 235.0442        → QAR 235.00
			//   KW: × 0.3075 = 19.8562       → 79.42 quarters → KWD 19.750
			//   BH: × 0.376 × 1.10 = 26.7072 → 106.83 quarters → BHD 26.750
			//   OM: × 0.3845 × 1.05 = 26.0696 → 104.28 quarters → OMR 26.000
			name: "AED 249.00",
			base: 24900,
			want: map[souq.MarketCode]int64{souq.AE: 24900, souq.SA: 27800, souq.QA: 23500, souq.KW: 19750, souq.BH: 26750, souq.OM: 26000},
		},
		{
			// AED 1.00 / 1.05 / 3.6725 = USD 0.259325
			//   SA: × 3.75 × 1.15 = 1.1184  → SAR 1.00
			//   QA: × 3.64 = 0.9440         → rounds up to QAR 1.00
			//   KW: × 0.3075 = 0.0797       → 0.32 quarters → 0 → minimum KWD 0.250
			//   BH: × 0.376 × 1.10 = 0.1073 → 0.43 quarters → 0 → minimum BHD 0.250
			//   OM: × 0.3845 × 1.05 = 0.1047 → 0.42 quarters → 0 → minimum OMR 0.250
			name: "AED 1.00 hits the three-decimal minimum",
			base: 100,
			want: map[souq.MarketCode]int64{souq.AE: 100, souq.SA: 100, souq.QA: 100, souq.KW: 250, souq.BH: 250, souq.OM: 250},
		},
		{
			// AED 0.50 / 1.05 / 3.6725 = USD 0.129662
			//   SA: × 3.75 × 1.15 = 0.5592 → rounds up to SAR 1.00
			//   QA: × 3.64 = 0.4720        → 0 → minimum QAR 1.00
			//   KW, BH, OM: below 0.125    → minimum 0.250
			name: "AED 0.50 hits the two-decimal minimum",
			base: 50,
			want: map[souq.MarketCode]int64{souq.AE: 50, souq.SA: 100, souq.QA: 100, souq.KW: 250, souq.BH: 250, souq.OM: 250},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PriceList(tt.base)
			if len(got) != len(tt.want) {
				t.Errorf("PriceList(%d): got %d markets, want %d", tt.base, len(got), len(tt.want))
			}
			for code, want := range tt.want {
				if got[code] != want {
					t.Errorf("PriceList(%d)[%s]: got %d, want %d", tt.base, code, got[code], want)
				}
			}
		})
	}
}

func TestPriceListRetailSteps(t *testing.T) {
	for base := int64(2500); base <= 25000; base += 100 {
		for code, amount := range PriceList(base) {
			m := souq.MustMarket(code)
			step := int64(100)
			if m.Currency.Exponent() == 3 {
				step = 250
			}
			if code != souq.AE && amount%step != 0 {
				t.Errorf("PriceList(%d)[%s]: got %d, want a multiple of %d", base, code, amount, step)
			}
			if amount < step {
				t.Errorf("PriceList(%d)[%s]: got %d, want at least %d", base, code, amount, step)
			}
		}
	}
}

func TestPriceListPanicsOutsideRange(t *testing.T) {
	for _, base := range []int64{0, -100, MaxBaseAED + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("PriceList(%d): got no panic, want one", base)
				}
			}()
			PriceList(base)
		}()
	}
	if got := PriceList(MaxBaseAED)[souq.SA]; got <= 0 {
		t.Errorf("PriceList(MaxBaseAED)[SA]: got %d, want a positive price (no overflow)", got)
	}
}

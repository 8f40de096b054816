package analytics

import (
	"fmt"

	"github.com/souq-commerce/souq/internal/souq"
)

// Normalisation to UAE dirhams.
//
// Revenue in any market currency is also kept in UAE fils (AED minor units)
// so that markets can be added up and compared. The rates are fixed, exact
// fractions derived from each currency's peg to the US dollar, so the
// conversion is integer arithmetic with one rounding and gives the same
// answer on every machine, in the live aggregates and in a recomputation
// from the archive:
//
//	currency  peg (per USD)       AED per unit                 fils per minor unit
//	AED       3.6725              1                            1/1
//	SAR       3.75                3.6725/3.75   = 0.97933…     1469/1500
//	QAR       3.64                3.6725/3.64   = 1.00893…     1469/1456
//	BHD       0.376               3.6725/0.376  = 9.76729…     1469/1504 (BHD has 1,000 fils)
//	OMR       0.3845              3.6725/0.3845 = 9.55137…     1469/1538 (OMR has 1,000 baisa)
//	KWD       none (basket)       3.6725×3.25   = 11.935625    19097/16000 (KWD has 1,000 fils)
//
// The Kuwaiti dinar floats against an undisclosed basket; its rate here is
// an approximation, fixed at 1 KWD = 3.25 USD (about 11.94 AED), close to
// its level in 2024–2026. Change it only together with a recomputation of
// the retained aggregates.
//
// Each fraction is the peg ratio with the common factor 25 removed
// (3.6725 = 25×1469/10,000), then scaled from the currency's minor unit to
// fils: e.g. for SAR, 1 halala = 0.01 SAR = 0.01×36725/37500 AED =
// 1469/1500 fils.
//
// Rounding: the product amount×numerator is divided by the denominator and
// rounded to the nearest fils, halves away from zero (as souq.VATIncluded
// rounds). Each event's amount is converted once (an order's total, each
// line's price × quantity), so the fils of a sum of orders may differ from
// the conversion of the summed local amount by under half a fils per event.
type aedRate struct{ num, den int64 }

func rateOf(c souq.Currency) (aedRate, bool) {
	switch c {
	case souq.AED:
		return aedRate{1, 1}, true
	case souq.SAR:
		return aedRate{1469, 1500}, true
	case souq.QAR:
		return aedRate{1469, 1456}, true
	case souq.BHD:
		return aedRate{1469, 1504}, true
	case souq.OMR:
		return aedRate{1469, 1538}, true
	case souq.KWD:
		return aedRate{19097, 16000}, true
	}
	return aedRate{}, false
}

// ToAED converts amount minor units of currency c to UAE fils at the fixed
// rates above, rounding to the nearest fils with halves away from zero. The
// amount must be within ±souq.MaxAmount (so the product cannot overflow)
// and c one of the six market currencies.
func ToAED(amount int64, c souq.Currency) (int64, error) {
	r, ok := rateOf(c)
	if !ok {
		return 0, fmt.Errorf("convert %d %q to AED: unknown currency", amount, string(c))
	}
	if amount > souq.MaxAmount || amount < -souq.MaxAmount {
		return 0, fmt.Errorf("convert %d %s to AED: amount out of range", amount, c)
	}
	return souq.DivRoundHalfAway(amount*r.num, r.den), nil
}

package demo

import (
	"fmt"

	"github.com/souq-commerce/souq/internal/souq"
)

// baseMarket is the market the demo table's prices are given in.
const baseMarket = souq.AE

// MaxBaseAED is the largest base price PriceList accepts, in fils
// (AED 1,000,000.00); it keeps every intermediate product inside int64.
const MaxBaseAED int64 = 100_000_000

// perUSD10k holds each currency's units per US dollar, times 10,000, so a
// conversion from AED to currency c is the integer ratio
// perUSD10k[c] / perUSD10k[AED] (for example 37500/36725 for SAR).
var perUSD10k = map[souq.Currency]int64{
	souq.AED: 36_725, // pegged at 3.6725 AED per USD
	souq.SAR: 37_500, // pegged at 3.75
	souq.QAR: 36_400, // pegged at 3.64
	souq.BHD: 3_760,  // pegged at 0.376
	souq.OMR: 3_845,  // pegged at 0.3845
	souq.KWD: 3_075,  // about 0.3075: the dinar follows an undisclosed basket, so this is an approximation
}

// PriceList derives the VAT-inclusive retail price of a product in every
// market from its VAT-inclusive UAE shelf price baseAED (in fils), with
// integer arithmetic only:
//
//  1. AE sells at baseAED itself.
//  2. For every other market, remove UAE VAT (5%): × 10000/10500.
//  3. Convert AED to USD at the peg 3.6725 and USD to the market's currency
//     at a fixed rate: SAR 3.75, QAR 3.64, BHD 0.376 and OMR 0.3845 are
//     pegs; KWD 0.3075 is an approximation, since the Kuwaiti dinar is
//     managed against a basket. As an integer ratio, AED→SAR is
//     × 37500/36725, AED→KWD × 3075/36725 (and × 10 for the third
//     decimal of the dinar's fils).
//  4. Add the market's VAT (souq.Market.VATBasisPoints):
//     × (10000 + bps)/10000.
//  5. Round to a retail price, halves up: two-decimal currencies (SAR, QAR)
//     to the nearest whole unit (89.00), at least 1.00; three-decimal
//     currencies (KWD, BHD, OMR) to the nearest 0.250, at least 0.250.
//
// Steps 2–5 are one fraction, so rounding happens once, at the end:
//
//	price = round(baseAED × rate × 10^(exp−2) × (10000+bps) / (10500 × 36725 × step)) × step
//
// where rate is perUSD×10,000 of the currency, exp its number of decimals
// and step 100 or 250 minor units. For AED 89.00: SAR 100.00, QAR 84.00,
// KWD 7.000, BHD 9.500, OMR 9.250.
//
// PriceList panics if baseAED is not between 1 and MaxBaseAED: the base
// prices are demo table constants, so that is a programming error.
func PriceList(baseAED int64) map[souq.MarketCode]int64 {
	if baseAED < 1 || baseAED > MaxBaseAED {
		panic(fmt.Sprintf("demo: base price %d fils is outside 1..%d", baseAED, MaxBaseAED))
	}
	base := souq.MustMarket(baseMarket)
	prices := make(map[souq.MarketCode]int64, len(souq.MarketCodes()))
	for _, m := range souq.Markets() {
		if m.Code == baseMarket {
			prices[m.Code] = baseAED
			continue
		}
		prices[m.Code] = convert(baseAED, base, m)
	}
	return prices
}

// convert turns a VAT-inclusive price in market from, whose currency has
// two decimals (AED), into a rounded VAT-inclusive retail price in market to
// (see PriceList).
func convert(amount int64, from, to souq.Market) int64 {
	step := int64(100) // one whole unit of a two-decimal currency
	scale := int64(1)  // minor units per hundredth of a major unit
	if to.Currency.Exponent() == 3 {
		step, scale = 250, 10
	}
	num := amount * perUSD10k[to.Currency] * scale * (10_000 + to.VATBasisPoints)
	den := (10_000 + from.VATBasisPoints) * perUSD10k[from.Currency] * step
	units := num / den
	if 2*(num%den) >= den {
		units++
	}
	return max(units, 1) * step
}

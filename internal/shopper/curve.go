package shopper

import (
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// activityByHour is the daily curve: the share of the peak rate of
// sessions at each full hour of a shopper's local day (index 0 is
// midnight), interpolated linearly in between and wrapping from 23:00 to
// the next midnight. Low at night (12% of the peak at 04:00–05:00), rising
// through the morning and the afternoon, at the peak from 20:00 to 23:00,
// and falling after 23:00 (late-night shopping is common in the Gulf, so
// midnight still has 55%).
var activityByHour = [24]float64{
	0.55, 0.38, 0.24, 0.16, 0.12, 0.12, // 00:00–05:00
	0.16, 0.22, 0.30, 0.38, 0.45, 0.50, // 06:00–11:00
	0.52, 0.52, 0.56, 0.62, 0.68, 0.75, // 12:00–17:00
	0.82, 0.91, 1.00, 1.00, 1.00, 1.00, // 18:00–23:00
}

// MeanActivity is the mean of the daily curve over a day: the integral of
// Activity over 24 hours divided by 24 hours. For a curve interpolated
// linearly between hourly points it is the mean of the 24 points,
// 12.96 / 24. A Simulator with Rate r starts on average r × MeanActivity
// sessions a second over a day: with the default Rate of 2, about 1.08 a
// second, 93,000 a day.
const MeanActivity = 0.54

// Activity returns the daily curve at a local time of day, given as the
// time since local midnight (wrapped into one day): a share of the peak
// rate, between 0.12 and 1.
func Activity(sinceMidnight time.Duration) float64 {
	sinceMidnight %= 24 * time.Hour
	if sinceMidnight < 0 {
		sinceMidnight += 24 * time.Hour
	}
	h := int(sinceMidnight / time.Hour)
	frac := float64(sinceMidnight%time.Hour) / float64(time.Hour)
	return activityByHour[h] + (activityByHour[(h+1)%24]-activityByHour[h])*frac
}

// Gulf time. None of the six markets observes daylight saving time, so a
// fixed offset is exact and no time-zone database is needed: Gulf Standard
// Time (UTC+4) in the UAE and Oman, Arabia Standard Time (UTC+3) in Saudi
// Arabia, Qatar, Kuwait and Bahrain.
var (
	gulfStandardTime   = time.FixedZone("GST", 4*60*60)
	arabiaStandardTime = time.FixedZone("AST", 3*60*60)
)

// Dubai is the time zone of the UAE (Asia/Dubai, UTC+4 all year).
var Dubai = gulfStandardTime

// zoneOf returns the market's time zone.
func zoneOf(m souq.MarketCode) *time.Location {
	if m == souq.AE || m == souq.OM {
		return gulfStandardTime
	}
	return arabiaStandardTime
}

// timezoneName is the IANA name of the market's capital's zone, as
// analytics SDKs report it in context.timezone.
var timezoneName = map[souq.MarketCode]string{
	souq.AE: "Asia/Dubai", souq.OM: "Asia/Muscat", souq.SA: "Asia/Riyadh",
	souq.QA: "Asia/Qatar", souq.KW: "Asia/Kuwait", souq.BH: "Asia/Bahrain",
}

// localActivity returns the curve in market m's local time at t.
func localActivity(t time.Time, m souq.MarketCode) float64 {
	local := t.In(zoneOf(m))
	y, mo, d := local.Date()
	return Activity(local.Sub(time.Date(y, mo, d, 0, 0, 0, 0, local.Location())))
}

// marketCodes lists the markets in the fixed order every weighted choice
// walks, so that a seed gives the same choices.
var marketCodes = souq.MarketCodes()

// ActivityAt returns the share of the peak rate at t over all markets: each
// market's share of shoppers times the curve in its local time. It is
// between 0.12 and 1, and 1 only when every market is at its peak (17:00
// to 19:00 UTC).
func ActivityAt(t time.Time) float64 {
	var a float64
	for _, m := range marketCodes {
		a += marketShare[m] * localActivity(t, m)
	}
	return a
}

// pickMarket chooses the market of a session starting at t: each market
// with probability proportional to its share of shoppers times the curve
// in its local time, so Saudi evenings (UTC+3) run an hour behind Emirati
// ones (UTC+4).
func pickMarket(rngFloat float64, t time.Time) souq.MarketCode {
	var total float64
	w := make([]float64, len(marketCodes))
	for i, m := range marketCodes {
		w[i] = marketShare[m] * localActivity(t, m)
		total += w[i]
	}
	x := rngFloat * total
	for i, m := range marketCodes {
		x -= w[i]
		if x < 0 {
			return m
		}
	}
	return marketCodes[len(marketCodes)-1]
}

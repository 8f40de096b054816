package delivery

import (
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Quotation is what delivering a basket costs and when it arrives.
type Quotation struct {
	// Fee is the delivery fee charged: Settings.Fee, or 0 when the
	// subtotal reached Settings.FreeOver.
	Fee int64 `json:"fee"`
	// CODFee is the cash-on-delivery fee charged: 0 for other methods.
	CODFee int64 `json:"cod_fee"`
	// Free reports that delivery is free for this subtotal.
	Free bool `json:"free"`
	// Days is the estimate for the city, counted from dispatch.
	Days
	// DispatchDate is the day the order leaves: today before the cut-off,
	// else tomorrow. Earliest and Latest are the days it arrives between.
	// All three are dates in the market's time zone, as "2006-01-02".
	DispatchDate string `json:"dispatch_date"`
	Earliest     string `json:"earliest"`
	Latest       string `json:"latest"`
	// DaysFromToday is how many days from today (in the market) the order
	// arrives at the earliest and at the latest: 1 and 1 is "tomorrow".
	DaysFromToday Days `json:"days_from_today"`
}

// CODLimitExtra is the key, in the Extra of Quote's error for an order
// over the cash-on-delivery limit, of the limit (a souq.Money).
const CODLimitExtra = "cod_limit"

// Quote applies market settings s to a basket worth subtotal (VAT-inclusive,
// before fees) paid by method and delivered to city, ordered at now. An
// order paid cash on delivery whose amount to collect (subtotal and fees)
// is over s.CODLimit is an ErrInvalid problem naming payment.method.
func Quote(s Settings, subtotal int64, method souq.PaymentMethod, city string, now time.Time) (Quotation, error) {
	q := Quotation{Fee: s.Fee, Days: s.estimate(city)}
	if s.FreeOver > 0 && subtotal >= s.FreeOver {
		q.Fee, q.Free = 0, true
	}
	if method == souq.PayCashOnDelivery {
		q.CODFee = s.CODFee
		if collect := subtotal + q.Fee + q.CODFee; s.CODLimit > 0 && collect > s.CODLimit {
			limit := souq.M(s.CODLimit, currency(s.Market))
			return Quotation{}, &souq.Error{Kind: souq.ErrInvalid,
				Detail: "cash on delivery is available up to " + limit.String() + ": pay by card or order less",
				Fields: []souq.FieldError{{Field: "payment.method", Reason: "cash on delivery is limited to " + limit.String() + " per order"}},
				Extra:  map[string]any{CODLimitExtra: limit}}
		}
	}
	cutoff, err := parseCutoff(s.Cutoff)
	if err != nil {
		cutoff = 0 // unvalidated settings: dispatch tomorrow
	}
	local := now.In(s.Market.Zone())
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, local.Location())
	dispatch, wait := today, 0
	if local.Sub(today) >= cutoff {
		dispatch, wait = today.AddDate(0, 0, 1), 1
	}
	q.DispatchDate = dispatch.Format(time.DateOnly)
	q.Earliest = dispatch.AddDate(0, 0, q.MinDays).Format(time.DateOnly)
	q.Latest = dispatch.AddDate(0, 0, q.MaxDays).Format(time.DateOnly)
	q.DaysFromToday = Days{MinDays: wait + q.MinDays, MaxDays: wait + q.MaxDays}
	return q, nil
}

// currency is market c's currency; none for an unknown market (settings
// are validated before they are stored, so only in tests).
func currency(c souq.MarketCode) souq.Currency {
	m, err := souq.LookupMarket(string(c))
	if err != nil {
		return ""
	}
	return m.Currency
}

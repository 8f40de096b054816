package analytics

import (
	"context"
	"errors"
	"time"
)

// errTODO marks a query whose implementation is being written; it is
// replaced before this lands.
var errTODO = errors.New("analytics: not yet implemented")

// Audience is the distinct visitors of one window and what they bought.
// A visitor is the event's userId when it has one, else its anonymousId;
// "Order Completed" carries the visitor who placed the order, so a buyer
// is counted among the visitors too.
type Audience struct {
	// Visitors is the estimated number of distinct visitors with any
	// counted event in the window (HyperLogLog, standard error about 1%).
	Visitors int64 `json:"visitors"`
	// Buyers is the estimated number of distinct visitors with an "Order
	// Completed" in the window.
	Buyers     int64 `json:"buyers"`
	Orders     int64 `json:"orders"`
	Units      int64 `json:"units"`
	RevenueAED int64 `json:"revenue_aed"`
	// Conversion is Buyers / Visitors (0 without visitors; at most 1).
	Conversion float64 `json:"conversion"`
	// AverageOrderAED is RevenueAED / Orders in fils, rounded to the
	// nearest (0 without orders).
	AverageOrderAED int64 `json:"average_order_aed"`
	// UnitsPerOrder is Units / Orders (0 without orders).
	UnitsPerOrder float64 `json:"units_per_order"`
}

// MarketAudience is one market's Audience.
type MarketAudience struct {
	Market string `json:"market"`
	Audience
}

// AudienceWindow is the Audience of one window, in all and per market.
type AudienceWindow struct {
	// Window is "minute" (the last complete minute bucket), "hour" (the
	// 60 minute buckets ending with the one filling, as Snapshot.LastHour)
	// or "day" (today since midnight in Config.Day, from hour buckets).
	Window string    `json:"window"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Total  Audience  `json:"total"`
	// Markets are the six markets in display order, then "unknown" when
	// it has visitors.
	Markets []MarketAudience `json:"markets"`
}

// VisitorPoint is the distinct visitors and buyers of one minute bucket.
type VisitorPoint struct {
	Start    time.Time `json:"start"`
	Visitors int64     `json:"visitors"`
	Buyers   int64     `json:"buyers"`
}

// AudienceFigures are the dashboard's visitor figures as of At.
type AudienceFigures struct {
	At time.Time `json:"at"`
	// Windows are the minute, hour and day windows, in that order.
	Windows []AudienceWindow `json:"windows"`
	// Minutes are the last 60 minute buckets, oldest first (the newest
	// is still filling).
	Minutes []VisitorPoint `json:"minutes"`
}

// Audience returns the visitor figures as of now.
func (r *Reader) Audience(ctx context.Context, now time.Time) (AudienceFigures, error) {
	return AudienceFigures{}, errTODO
}

package dashboard

import (
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// The war room's panels: what Update carries besides the snapshot, and
// what the JSON under /api/v1/analytics/… answers. Every figure comes
// from the hot store's contract (analytics.Reader, outcomes.Reader) or
// the shop's store (stock, sales), never from counting on this replica,
// so every API replica shows the same page.

// SalePanel is the running sale, or the last one to end.
type SalePanel struct {
	ID        souq.ID        `json:"id"`
	Name      souq.Localized `json:"name"`
	StartsAt  time.Time      `json:"starts_at"`
	EndsAt    time.Time      `json:"ends_at"`
	Running   bool           `json:"running"`
	Protected bool           `json:"protected"`
	// SecondsLeft is how long the sale still runs (0 once it has ended).
	SecondsLeft int64 `json:"seconds_left"`
	// During is the sale items' figures from the start to now (or to the
	// end); Before is the same length of time just before the start.
	During SaleFigures `json:"during"`
	Before SaleFigures `json:"before"`
	// Items are the sale's products: sold out last, then by sell-through,
	// highest first.
	Items []SaleItem `json:"items"`
}

// SaleFigures are the sale items' orders, units and revenue over a span.
type SaleFigures struct {
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Orders     int64     `json:"orders"`
	Units      int64     `json:"units"`
	RevenueAED int64     `json:"revenue_aed"`
}

// SaleItem is one product of the sale.
type SaleItem struct {
	ProductID souq.ID        `json:"product_id"`
	Name      souq.Localized `json:"name"`
	Brand     string         `json:"brand"`
	// Offered is the units the sale started with; Stock the units left in
	// the store now; Sold is Offered − Stock, never below 0.
	Offered int `json:"offered"`
	Stock   int `json:"stock"`
	Sold    int `json:"sold"`
	// SellThrough is Sold / Offered (0 when nothing was offered).
	SellThrough float64 `json:"sell_through"`
	// UnitsPerMinute is the rate of units ordered over the last 15
	// minutes of the sale (from the aggregates).
	UnitsPerMinute float64 `json:"units_per_minute"`
	// SoldOutAt is when the stock left runs out at that rate; nil when
	// the rate is 0 or the item has sold out.
	SoldOutAt *time.Time `json:"sold_out_at"`
	SoldOut   bool       `json:"sold_out"`
}

// StockPanel is the live stock of the products that matter now.
type StockPanel struct {
	// Threshold is the low-stock level: at or under it a product is low.
	Threshold int `json:"threshold"`
	// Watch are the top sellers of the last hour and the sale's items.
	Watch []StockRow `json:"watch"`
	// Low are products with 1 to Threshold units left, lowest first;
	// Out are products with none. Each holds at most 200.
	Low []StockRow `json:"low"`
	Out []StockRow `json:"out"`
	// LowTruncated and OutTruncated report that more products are low,
	// or out of stock, than their list holds (or, for Low, that it could
	// not be read whole behind too many out of stock).
	LowTruncated bool `json:"low_truncated"`
	OutTruncated bool `json:"out_truncated"`
}

// StockRow is one product's stock.
type StockRow struct {
	ProductID souq.ID        `json:"product_id"`
	Name      souq.Localized `json:"name"`
	Brand     string         `json:"brand"`
	Stock     int            `json:"stock"`
	// UnitsLastHour is the units sold in the last 60 minutes.
	UnitsLastHour int64 `json:"units_last_hour"`
	OnSale        bool  `json:"on_sale"`
}

// ProductTableRow is one row of the product table.
type ProductTableRow struct {
	ProductID souq.ID        `json:"product_id"`
	Name      souq.Localized `json:"name"`
	Brand     string         `json:"brand"`
	Category  string         `json:"category"`
	// Price is the price a shopper pays now (sale price during a sale),
	// in the filtered market's currency, or in AED without a market.
	Price      souq.Money `json:"price"`
	Views      int64      `json:"views"`
	AddEvents  int64      `json:"add_events"`
	Orders     int64      `json:"orders"`
	Units      int64      `json:"units"`
	RevenueAED int64      `json:"revenue_aed"`
	Stock      int        `json:"stock"`
}

// Alert is a condition the merchandiser should act on. Its ID is stable
// (kind and subject), so every replica and every push names one alert
// the same way.
type Alert struct {
	ID string `json:"id"`
	// Kind is "checkout_errors", "out_of_stock", "cancellations",
	// "zero_result_searches", "sold_out" or "pipeline_lag".
	Kind string `json:"kind"`
	// Severity is "warning" or "critical".
	Severity string `json:"severity"`
	// Subject is the product of a sold_out alert; empty otherwise.
	Subject souq.ID `json:"subject,omitempty"`
	// Value is the measure that crossed Threshold (a rate as a fraction,
	// a count, or seconds of lag).
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	// Since is when the condition started, as the data says (the minute
	// bucket, the sold-out time), not when this replica noticed.
	Since   time.Time      `json:"since"`
	Message souq.Localized `json:"message"`
}

// AlertEvent is an alert raised or cleared: the entries of
// GET /api/v1/analytics/alerts.
type AlertEvent struct {
	// State is "raised" or "cleared".
	State string    `json:"state"`
	At    time.Time `json:"at"`
	Alert Alert     `json:"alert"`
}

package analytics

import (
	"sort"

	"github.com/souq-commerce/souq/internal/souq"
)

// Amounts holds money in integer minor units of each of the six market
// currencies: fils for AED, halalas for SAR, dirhams for QAR, and thousandths
// for KWD, BHD and OMR. It is a fixed struct rather than a map so that
// Counters stay comparable with == and cheap to add.
type Amounts struct {
	AED int64 `json:"AED,omitzero"`
	SAR int64 `json:"SAR,omitzero"`
	QAR int64 `json:"QAR,omitzero"`
	KWD int64 `json:"KWD,omitzero"`
	BHD int64 `json:"BHD,omitzero"`
	OMR int64 `json:"OMR,omitzero"`
}

// In returns the amount held in currency c (0 for an unknown currency).
func (a Amounts) In(c souq.Currency) int64 {
	if p := a.field(c); p != nil {
		return *p
	}
	return 0
}

func (a *Amounts) field(c souq.Currency) *int64 {
	switch c {
	case souq.AED:
		return &a.AED
	case souq.SAR:
		return &a.SAR
	case souq.QAR:
		return &a.QAR
	case souq.KWD:
		return &a.KWD
	case souq.BHD:
		return &a.BHD
	case souq.OMR:
		return &a.OMR
	}
	return nil
}

// add adds k × o to a.
func (a *Amounts) add(o *Amounts, k int64) {
	a.AED += k * o.AED
	a.SAR += k * o.SAR
	a.QAR += k * o.QAR
	a.KWD += k * o.KWD
	a.BHD += k * o.BHD
	a.OMR += k * o.OMR
}

// Counters are the additive measures kept for one member of one dimension in
// one time bucket. Every field is a sum, so the counters of a longer period
// are the field-by-field sum of its buckets.
//
// Which events feed which field is listed in the package documentation;
// in short: Views counts "Product Viewed", AddEvents and AddUnits count
// "Product Added" (events and units), RemoveUnits "Product Removed",
// CartViews "Cart Viewed", Searches "Products Searched" (and
// ZeroResultSearches those whose result_count is 0), Checkouts
// "Checkout Started", and Orders, Units, Revenue and RevenueAED "Order
// Completed"; the Cancel… fields count "Order Cancelled" in the bucket of
// the cancellation (revenue is not taken back from the order's own bucket).
type Counters struct {
	Views       int64 `json:"views"`
	AddEvents   int64 `json:"add_events"`
	AddUnits    int64 `json:"add_units"`
	RemoveUnits int64 `json:"remove_units"`
	CartViews   int64 `json:"cart_views"`
	Searches    int64 `json:"searches"`
	// ZeroResultSearches counts searches that found nothing.
	ZeroResultSearches int64 `json:"zero_result_searches"`
	Checkouts          int64 `json:"checkouts"`
	// Orders counts completed orders; for a product, brand or category it
	// counts the orders that contain it (once per order, however many lines).
	Orders int64 `json:"orders"`
	// Units counts units sold.
	Units int64 `json:"units"`
	// Revenue is the VAT-inclusive amount paid, in each currency's minor units.
	Revenue Amounts `json:"revenue"`
	// RevenueAED is Revenue normalised to UAE fils (see ToAED), converted
	// per event.
	RevenueAED       int64   `json:"revenue_aed"`
	Cancellations    int64   `json:"cancellations"`
	CancelledUnits   int64   `json:"cancelled_units"`
	CancelledRevenue Amounts `json:"cancelled_revenue"`
	CancelledAED     int64   `json:"cancelled_aed"`
}

// Add adds o to c field by field.
func (c *Counters) Add(o *Counters) { c.add(o, 1) }

// add adds k × o to c: the one place that lists the fields to add (k is
// -1 to take a minute out of a running sum).
func (c *Counters) add(o *Counters, k int64) {
	c.Views += k * o.Views
	c.AddEvents += k * o.AddEvents
	c.AddUnits += k * o.AddUnits
	c.RemoveUnits += k * o.RemoveUnits
	c.CartViews += k * o.CartViews
	c.Searches += k * o.Searches
	c.ZeroResultSearches += k * o.ZeroResultSearches
	c.Checkouts += k * o.Checkouts
	c.Orders += k * o.Orders
	c.Units += k * o.Units
	c.Revenue.add(&o.Revenue, k)
	c.RevenueAED += k * o.RevenueAED
	c.Cancellations += k * o.Cancellations
	c.CancelledUnits += k * o.CancelledUnits
	c.CancelledRevenue.add(&o.CancelledRevenue, k)
	c.CancelledAED += k * o.CancelledAED
}

// NetAED is RevenueAED less CancelledAED: what was sold in the period less
// what was cancelled in it (possibly orders of an earlier period).
func (c Counters) NetAED() int64 { return c.RevenueAED - c.CancelledAED }

// counterFields names every field of Counters, for storage adapters that
// keep one value per field (a Redis hash) and for Series. Per-currency
// amounts are named "revenue.SAR", "cancelled_revenue.KWD" and so on.
var counterFields = func() map[string]func(*Counters) *int64 {
	m := map[string]func(*Counters) *int64{
		"views":                func(c *Counters) *int64 { return &c.Views },
		"add_events":           func(c *Counters) *int64 { return &c.AddEvents },
		"add_units":            func(c *Counters) *int64 { return &c.AddUnits },
		"remove_units":         func(c *Counters) *int64 { return &c.RemoveUnits },
		"cart_views":           func(c *Counters) *int64 { return &c.CartViews },
		"searches":             func(c *Counters) *int64 { return &c.Searches },
		"zero_result_searches": func(c *Counters) *int64 { return &c.ZeroResultSearches },
		"checkouts":            func(c *Counters) *int64 { return &c.Checkouts },
		"orders":               func(c *Counters) *int64 { return &c.Orders },
		"units":                func(c *Counters) *int64 { return &c.Units },
		"revenue_aed":          func(c *Counters) *int64 { return &c.RevenueAED },
		"cancellations":        func(c *Counters) *int64 { return &c.Cancellations },
		"cancelled_units":      func(c *Counters) *int64 { return &c.CancelledUnits },
		"cancelled_aed":        func(c *Counters) *int64 { return &c.CancelledAED },
	}
	for _, cur := range []souq.Currency{souq.AED, souq.SAR, souq.QAR, souq.KWD, souq.BHD, souq.OMR} {
		m["revenue."+string(cur)] = func(c *Counters) *int64 { return c.Revenue.field(cur) }
		m["cancelled_revenue."+string(cur)] = func(c *Counters) *int64 { return c.CancelledRevenue.field(cur) }
	}
	return m
}()

// CounterFields returns the names of every field of Counters, sorted. They
// are the metric names Series accepts.
func CounterFields() []string {
	names := make([]string, 0, len(counterFields))
	for name := range counterFields {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Field returns a pointer to the named field of c (see CounterFields), or
// nil for an unknown name.
func (c *Counters) Field(name string) *int64 {
	f, ok := counterFields[name]
	if !ok {
		return nil
	}
	return f(c)
}

// CounterFieldFuncs returns, for each name of CounterFields and in that
// order, the function that returns a pointer to the field: Field without
// a lookup by name, for storage adapters that visit every field.
func CounterFieldFuncs() []func(*Counters) *int64 {
	names := CounterFields()
	fs := make([]func(*Counters) *int64, len(names))
	for i, name := range names {
		fs[i] = counterFields[name]
	}
	return fs
}

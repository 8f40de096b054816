package analytics

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	json "github.com/segmentio/encoding/json"

	"github.com/souq-commerce/souq/internal/souq"
)

// Behaviour events the Aggregator counts (Segment e-commerce names), besides
// souq.EventOrderCompleted and souq.EventOrderCancelled.
const (
	EventProductViewed    = "Product Viewed"
	EventProductAdded     = "Product Added"
	EventProductRemoved   = "Product Removed"
	EventCartViewed       = "Cart Viewed"
	EventCheckoutStarted  = "Checkout Started"
	EventProductsSearched = "Products Searched"
)

// ErrMalformed is wrapped by every error Apply returns for an event it can
// never apply (a missing product id, an unknown currency, properties that
// are not the documented JSON…). Such an event changes nothing; the
// processor dead-letters it with the error as the reason instead of
// retrying.
var ErrMalformed = errors.New("malformed event")

// Limits on what an event may carry; anything beyond is malformed. They
// keep one event's cost bounded and dimension members printable.
const (
	MaxIDBytes     = 128    // message id (the collector allows 100)
	MaxMemberBytes = 200    // product id (as the collector); longer brands, categories and cities are cut
	MaxQuantity    = 10_000 // units in one add, remove or order line
	MaxOrderLines  = 200    // lines in one order event (checkout allows 50)
)

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// eventPlace is where an event happened, as its context says.
type eventPlace struct {
	Market string `json:"market"`
	City   string `json:"city"`
}

// productProps are the properties of the product-level behaviour events
// that the Aggregator reads (others, such as price, are ignored).
type productProps struct {
	ProductID string `json:"product_id"`
	Brand     string `json:"brand"`
	Category  string `json:"category"`
	Quantity  *int   `json:"quantity"`
}

// parsed is an event reduced to what the aggregates need.
type parsed struct {
	at       time.Time // event time, UTC: what the buckets are chosen by
	received time.Time // when Souq accepted it, UTC: what the watermark follows
	deltas   []Delta
	visitor  string  // userId, else anonymousId; "" for none
	visits   []Visit // the sketches the visitor goes to
}

// parseEvent validates ev and appends its deltas to buf. It reports ok
// false, without error, for events the aggregates do not count (page and
// identify calls, other track names).
func parseEvent(ev *souq.Event, futureSkew time.Duration, buf []Delta) (p parsed, ok bool, err error) {
	if ev.Type != "track" {
		return parsed{}, false, nil
	}
	switch ev.Event {
	case EventProductViewed, EventProductAdded, EventProductRemoved, EventCartViewed,
		EventCheckoutStarted, EventProductsSearched, souq.EventOrderCompleted, souq.EventOrderCancelled:
	default:
		return parsed{}, false, nil
	}
	if ev.MessageID == "" || len(ev.MessageID) > MaxIDBytes {
		return parsed{}, false, malformed("messageId must have 1 to %d bytes", MaxIDBytes)
	}
	p.at, p.received = ev.Timestamp.UTC(), ev.ReceivedAt.UTC()
	switch {
	case ev.Timestamp.IsZero() && ev.ReceivedAt.IsZero():
		return parsed{}, false, malformed("%s: no timestamp", ev.MessageID)
	case ev.ReceivedAt.IsZero():
		p.received = p.at
	case ev.Timestamp.IsZero(), p.at.After(p.received.Add(futureSkew)):
		// A clock running ahead: trust the time Souq received the event.
		p.at = p.received
	}
	var place eventPlace
	if err := decodeObject(ev.Context, &place); err != nil {
		return parsed{}, false, malformed("%s: context: %v", ev.MessageID, err)
	}
	switch ev.Event {
	case souq.EventOrderCompleted, souq.EventOrderCancelled:
		p.deltas, err = orderDeltas(ev, place, buf)
	default:
		p.deltas, err = behaviourDeltas(ev, place, buf)
	}
	if err != nil {
		return parsed{}, false, err
	}
	// Every counted event but a cancellation is a visit (a cancellation
	// is the shop's doing, or comes long after the visit); an order makes
	// its visitor a buyer.
	if p.visitor = visitorOf(ev); p.visitor != "" && ev.Event != souq.EventOrderCancelled {
		buyer := ev.Event == souq.EventOrderCompleted
		p.visits = []Visit{{Dim: Total, Member: All, Buyer: buyer}, {Dim: Market, Member: p.deltas[1].Member, Buyer: buyer}}
	}
	return p, true, nil
}

// visitorOf returns who an event came from: its userId when it has one,
// else its anonymousId (trimmed; "" when neither is set).
func visitorOf(ev *souq.Event) string {
	if id := strings.TrimSpace(ev.UserID); id != "" {
		return id
	}
	if id := strings.TrimSpace(ev.AnonymousID); id != "" {
		return id
	}
	return ""
}

// decodeObject decodes a JSON object into v; absent or null is no fields.
func decodeObject(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return json.Unmarshal(raw, v)
}

// behaviourDeltas turns a browser event into deltas: one per event-level
// dimension, and for product events one per product-level dimension. Only
// product events' properties (and a search's result_count) are read.
func behaviourDeltas(ev *souq.Event, ctx eventPlace, buf []Delta) ([]Delta, error) {
	market, err := marketOf(ctx.Market)
	if err != nil {
		return nil, malformed("%s: %v", ev.MessageID, err)
	}
	var c Counters
	switch ev.Event {
	case EventCartViewed:
		c.CartViews = 1
	case EventCheckoutStarted:
		c.Checkouts = 1
	case EventProductsSearched:
		c.Searches = 1
		// result_count is optional; one that is not a whole number counts
		// the search alone.
		var props struct {
			ResultCount *int64 `json:"result_count"`
		}
		if decodeObject(ev.Properties, &props) == nil && props.ResultCount != nil && *props.ResultCount == 0 {
			c.ZeroResultSearches = 1
		}
	}
	deltas := append(buf[:0],
		Delta{Dim: Total, Member: All, Counters: c},
		Delta{Dim: Market, Member: market, Counters: c},
		Delta{Dim: City, Member: member(ctx.City), Counters: c})
	if c != (Counters{}) {
		return deltas, nil
	}

	var props productProps
	if err := decodeObject(ev.Properties, &props); err != nil {
		return nil, malformed("%s: properties: %v", ev.MessageID, err)
	}
	switch ev.Event {
	case EventProductViewed:
		c.Views = 1
	case EventProductAdded, EventProductRemoved:
		q := 1 // Segment's quantity is optional and means one
		if props.Quantity != nil {
			q = *props.Quantity
		}
		if q < 1 || q > MaxQuantity {
			return nil, malformed("%s: quantity must be 1 to %d, got %d", ev.MessageID, MaxQuantity, q)
		}
		if ev.Event == EventProductAdded {
			c.AddEvents, c.AddUnits = 1, int64(q)
		} else {
			c.RemoveUnits = int64(q)
		}
	}
	product, brand, category, err := productMembers(props.ProductID, props.Brand, props.Category)
	if err != nil {
		return nil, malformed("%s: %v", ev.MessageID, err)
	}
	for i := range deltas {
		deltas[i].Counters = c
	}
	return append(deltas,
		Delta{Dim: Product, Member: product, Counters: c},
		Delta{Dim: Brand, Member: brand, Counters: c},
		Delta{Dim: Category, Member: category, Counters: c},
		Delta{Dim: ProductMarket, Member: ProductMarketMember(market, product), Counters: c}), nil
}

// orderDeltas turns "Order Completed" or "Order Cancelled" into deltas. The
// event-level dimensions get the order's total_minor; the product-level
// ones get each line's price × quantity, merged when an order has two
// lines of the same product, brand or category (which then count one
// order).
func orderDeltas(ev *souq.Event, ctx eventPlace, buf []Delta) ([]Delta, error) {
	var props souq.OrderEventProperties
	if err := decodeObject(ev.Properties, &props); err != nil {
		return nil, malformed("%s: properties: %v", ev.MessageID, err)
	}
	cur := props.Currency
	if !cur.Valid() {
		return nil, malformed("%s: unknown currency %q", ev.MessageID, string(cur))
	}
	if props.TotalMinor < 0 || props.TotalMinor > souq.MaxAmount {
		return nil, malformed("%s: total_minor %d out of range", ev.MessageID, props.TotalMinor)
	}
	if len(props.Products) == 0 || len(props.Products) > MaxOrderLines {
		return nil, malformed("%s: an order needs 1 to %d products, got %d", ev.MessageID, MaxOrderLines, len(props.Products))
	}
	market, err := marketOf(string(props.Market), ctx.Market)
	if err != nil {
		return nil, malformed("%s: %v", ev.MessageID, err)
	}
	city := member(first(props.City, ctx.City))
	cancel := ev.Event == souq.EventOrderCancelled
	totalAED, _ := ToAED(props.TotalMinor, cur) // in range: checked above
	var order Counters
	var units int64
	deltas := buf[:0]
	deltas = append(deltas, Delta{Dim: Total, Member: All}, Delta{Dim: Market, Member: market}, Delta{Dim: City, Member: city})
	for i, l := range props.Products {
		if l.Quantity < 1 || l.Quantity > MaxQuantity {
			return nil, malformed("%s: products[%d].quantity must be 1 to %d, got %d", ev.MessageID, i, MaxQuantity, l.Quantity)
		}
		price, err := souq.ParseDecimal(l.Price, cur)
		if err != nil || price < 0 {
			return nil, malformed("%s: products[%d].price %q is not an amount in %s", ev.MessageID, i, l.Price, cur)
		}
		amount := price * int64(l.Quantity) // both bounded: cannot overflow
		if amount > souq.MaxAmount {
			return nil, malformed("%s: products[%d] amount out of range", ev.MessageID, i)
		}
		product, brand, category, err := productMembers(l.ProductID, l.Brand, l.Category)
		if err != nil {
			return nil, malformed("%s: products[%d]: %v", ev.MessageID, i, err)
		}
		aed, _ := ToAED(amount, cur)
		var line Counters
		sale(&line, cancel, 1, int64(l.Quantity), amount, cur, aed)
		units += int64(l.Quantity)
		deltas = mergeLine(deltas, Product, product, &line)
		deltas = mergeLine(deltas, Brand, brand, &line)
		deltas = mergeLine(deltas, Category, category, &line)
		deltas = mergeLine(deltas, ProductMarket, ProductMarketMember(market, product), &line)
		deltas = mergeLine(deltas, ProductCity, ProductCityMember(market, city, product), &line)
	}
	sale(&order, cancel, 1, units, props.TotalMinor, cur, totalAED)
	for i := range 3 {
		deltas[i].Counters = order
	}
	return deltas, nil
}

// sale records one order (or its cancellation) of units for amount in c.
func sale(c *Counters, cancel bool, orders, units, amount int64, cur souq.Currency, aed int64) {
	if cancel {
		c.Cancellations, c.CancelledUnits, c.CancelledAED = orders, units, aed
		*c.CancelledRevenue.field(cur) = amount
		return
	}
	c.Orders, c.Units, c.RevenueAED = orders, units, aed
	*c.Revenue.field(cur) = amount
}

// mergeLine adds a line to the delta of (dim, member), or appends one. A
// merged line adds units and amounts but not another order.
func mergeLine(deltas []Delta, dim Dimension, member string, line *Counters) []Delta {
	for i := 3; i < len(deltas); i++ {
		d := &deltas[i]
		if d.Dim == dim && d.Member == member {
			orders, cancellations := d.Counters.Orders, d.Counters.Cancellations
			d.Counters.Add(line)
			d.Counters.Orders, d.Counters.Cancellations = orders, cancellations
			return deltas
		}
	}
	return append(deltas, Delta{Dim: dim, Member: member, Counters: *line})
}

// marketOf returns the first market given, as a code, or Unknown when none
// is; a market that is given but not one of the six is an error.
func marketOf(candidates ...string) (string, error) {
	s := strings.TrimSpace(first(candidates...))
	if s == "" {
		return Unknown, nil
	}
	m, err := souq.LookupMarket(s)
	if err != nil {
		if len(s) > 8 {
			s = s[:8] + "…"
		}
		return "", fmt.Errorf("unknown market %q", s)
	}
	return string(m.Code), nil
}

// productMembers returns the members of a product's three dimensions; the
// product id is required.
func productMembers(productID, brand, category string) (p, b, c string, err error) {
	if strings.TrimSpace(productID) == "" {
		return "", "", "", errors.New("product_id is missing")
	}
	if len(productID) > MaxMemberBytes {
		return "", "", "", fmt.Errorf("product_id is over %d bytes", MaxMemberBytes)
	}
	return member(productID), member(brand), member(category), nil
}

// member returns s as a dimension member: trimmed, Unknown when empty,
// with control characters replaced by U+FFFD (so a storage adapter may use
// one as a separator) and cut to MaxMemberBytes on a character boundary.
// These are names for display, so an odd one is cleaned rather than
// rejected: the collector has accepted the event, and its other counts
// stand. JSON decoding has already made s valid UTF-8.
func member(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return Unknown
	}
	if strings.IndexFunc(s, isControl) >= 0 {
		s = strings.Map(func(r rune) rune {
			if isControl(r) {
				return utf8.RuneError
			}
			return r
		}, s)
	}
	if len(s) > MaxMemberBytes {
		cut := MaxMemberBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimSpace(s[:cut])
	}
	return s
}

func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }

func first(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

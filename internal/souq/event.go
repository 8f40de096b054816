package souq

import (
	"encoding/json"
	"strings"
	"time"
)

// Event names, following the Segment e-commerce specification.
const (
	EventOrderCompleted = "Order Completed"
	EventOrderCancelled = "Order Cancelled"
	EventOrderRefunded  = "Order Refunded"
)

// OutboxEvent is an event written in the same database transaction as the
// state change it reports. The relay publishes it with ID as the stream
// message id, so a republished event is recognised as a duplicate.
type OutboxEvent struct {
	ID        ID              `json:"id"`
	Name      string          `json:"name"`
	Payload   json.RawMessage `json:"payload"`
	CreatedAt time.Time       `json:"created_at"`
}

// Event is one behaviour or purchase event as it travels through the stream
// and lands in the archive: a Segment-style message (track, page or
// identify). MessageID is the event's identity end to end: the stream's
// message id (deduplication), the archive's row key and the audit's join key.
type Event struct {
	MessageID   string          `json:"messageId"`
	Type        string          `json:"type"`            // "track", "page" or "identify"
	Event       string          `json:"event,omitempty"` // a track call's name, e.g. "Product Viewed"
	Name        string          `json:"name,omitempty"`  // a page call's page name
	Timestamp   time.Time       `json:"timestamp"`       // when it happened (event time)
	ReceivedAt  time.Time       `json:"receivedAt"`      // when Souq accepted it
	UserID      string          `json:"userId,omitempty"`
	AnonymousID string          `json:"anonymousId,omitempty"`
	Properties  json.RawMessage `json:"properties,omitempty"`
	Traits      json.RawMessage `json:"traits,omitempty"`
	Context     json.RawMessage `json:"context,omitempty"`
}

// Traceparent returns the W3C traceparent the event's context carries
// ("" when none): the trace of the request that made it.
func (e Event) Traceparent() string {
	if len(e.Context) == 0 {
		return ""
	}
	var c struct {
		Traceparent string `json:"traceparent"`
	}
	if json.Unmarshal(e.Context, &c) != nil {
		return ""
	}
	return c.Traceparent
}

// SubjectPrefix is the stream subject every event is published under.
const SubjectPrefix = "souq.events"

// Subject is the stream subject of the event: souq.events.<type> for page
// and identify calls, souq.events.track.<event_name> for track calls, the
// name in lower-case words joined by '_' ("Order Completed" →
// souq.events.track.order_completed).
func (e Event) Subject() string {
	if e.Type != "track" {
		return SubjectPrefix + "." + subjectToken(e.Type)
	}
	return SubjectPrefix + ".track." + subjectToken(e.Event)
}

func subjectToken(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			under = false
			continue
		}
		under = true
	}
	if b.Len() == 0 {
		return "unnamed"
	}
	return b.String()
}

// OrderEventProduct is one product in an order event's properties.
type OrderEventProduct struct {
	ProductID string `json:"product_id"`
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Brand     string `json:"brand"`
	Category  string `json:"category"`
	Price     string `json:"price"`
	Quantity  int    `json:"quantity"`
	OnSale    bool   `json:"on_sale"`
}

// OrderEventProperties are the properties of "Order Completed", "Order
// Cancelled" and "Order Refunded". Money is given both as a decimal string in the order's
// currency (Segment style) and as integer minor units.
type OrderEventProperties struct {
	OrderID     string `json:"order_id"`
	OrderNumber string `json:"order_number,omitempty"`
	Language    Lang   `json:"language,omitempty"`
	Total       string `json:"total"`
	Revenue     string `json:"revenue"`
	Tax         string `json:"tax"`
	// Shipping is the delivery and cash-on-delivery fees paid,
	// VAT-inclusive (absent when none); Revenue excludes them and tax, as
	// Segment's spec has it.
	Shipping      string              `json:"shipping,omitempty"`
	ShippingMinor int64               `json:"shipping_minor,omitempty"`
	Currency      Currency            `json:"currency"`
	TotalMinor    int64               `json:"total_minor"`
	TaxMinor      int64               `json:"tax_minor"`
	Market        MarketCode          `json:"market"`
	City          string              `json:"city"`
	PaymentMethod PaymentMethod       `json:"payment_method"`
	Products      []OrderEventProduct `json:"products"`
	// RefundID is the provider's refund reference ("Order Refunded" only).
	RefundID string `json:"refund_id,omitempty"`
}

// NewOrderEvent builds the outbox event for an order change (name is
// EventOrderCompleted, EventOrderCancelled or EventOrderRefunded).
func NewOrderEvent(name string, o Order, at time.Time) (OutboxEvent, error) {
	return NewTracedOrderEvent(name, o, at, "")
}

// NewTracedOrderEvent is NewOrderEvent for a change made under a traced
// request: the event's context carries traceparent (W3C), so that the
// relay's and the processor's spans join the request's trace.
func NewTracedOrderEvent(name string, o Order, at time.Time, traceparent string) (OutboxEvent, error) {
	return NewVisitorOrderEvent(name, o, at, traceparent, Visitor{})
}

// Visitor is who placed an order, as analytics knows them: the visitor id
// the storefront's tracker sends as anonymousId, and the shop's user id
// when the shopper is known. Both are optional.
type Visitor struct {
	AnonymousID string `json:"anonymous_id,omitempty"`
	UserID      string `json:"user_id,omitempty"`
}

// NewVisitorOrderEvent is NewTracedOrderEvent for an order placed by a
// known visitor: the event's anonymousId and userId are the visitor's (who,
// else the one kept with the order), so the order joins the visit that
// made it. Without a visitor the order id stands in as anonymousId; the
// order id is always in the properties.
func NewVisitorOrderEvent(name string, o Order, at time.Time, traceparent string, who Visitor) (OutboxEvent, error) {
	if who == (Visitor{}) {
		who = o.Visitor // the visitor kept with the order when it was placed
	}
	props := OrderEventProperties{
		OrderID:       string(o.ID),
		OrderNumber:   o.Number,
		Language:      o.Language,
		Total:         M(o.Total, o.Currency).Decimal(),
		Revenue:       M(o.Total-o.VAT-feesNet(o), o.Currency).Decimal(),
		Tax:           M(o.VAT, o.Currency).Decimal(),
		Currency:      o.Currency,
		TotalMinor:    o.Total,
		TaxMinor:      o.VAT,
		Market:        o.Market,
		City:          o.ShippingAddress.City,
		PaymentMethod: o.Payment.Method,
	}
	if fees := o.DeliveryFee + o.CODFee; fees > 0 {
		props.Shipping, props.ShippingMinor = M(fees, o.Currency).Decimal(), fees
	}
	if name == EventOrderRefunded {
		props.RefundID = o.Payment.RefundReference
	}
	for _, l := range o.Lines {
		props.Products = append(props.Products, OrderEventProduct{
			ProductID: string(l.ProductID), SKU: l.SKU, Name: l.Name.EN, Brand: l.Brand,
			Category: l.Category, Price: M(l.UnitPrice, o.Currency).Decimal(), Quantity: l.Quantity, OnSale: l.OnSale,
		})
	}
	rawProps, err := json.Marshal(props)
	if err != nil {
		return OutboxEvent{}, err
	}
	evCtx := map[string]any{"source": "checkout", "market": o.Market}
	if traceparent != "" {
		evCtx["traceparent"] = traceparent
	}
	rawCtx, err := json.Marshal(evCtx)
	if err != nil {
		return OutboxEvent{}, err
	}
	id := NewID(EventPrefix)
	at = at.UTC().Truncate(time.Microsecond) // the archive's precision
	ev := Event{
		MessageID: string(id), Type: "track", Event: name, Timestamp: at, ReceivedAt: at,
		AnonymousID: string(o.ID), Properties: rawProps, Context: rawCtx,
	}
	if who.AnonymousID != "" || who.UserID != "" {
		ev.AnonymousID, ev.UserID = who.AnonymousID, who.UserID
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return OutboxEvent{}, err
	}
	return OutboxEvent{ID: id, Name: name, Payload: payload, CreatedAt: at}, nil
}

// feesNet is the order's delivery and cash-on-delivery fees without their
// VAT (at the market's standard rate, as checkout charges it).
func feesNet(o Order) int64 {
	fees := o.DeliveryFee + o.CODFee
	if fees == 0 {
		return 0
	}
	m, err := LookupMarket(string(o.Market))
	if err != nil {
		return fees
	}
	return fees - VATIncluded(fees, m.VATBasisPoints)
}

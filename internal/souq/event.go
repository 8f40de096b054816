package souq

import (
	"encoding/json"
	"time"
)

// Event names, following the Segment e-commerce specification.
const (
	EventOrderCompleted = "Order Completed"
	EventOrderCancelled = "Order Cancelled"
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

// TrackEvent is the envelope of a behaviour or purchase event, shaped like a
// Segment "track" call.
type TrackEvent struct {
	MessageID   ID             `json:"messageId"`
	Type        string         `json:"type"`
	Event       string         `json:"event"`
	Timestamp   time.Time      `json:"timestamp"`
	UserID      string         `json:"userId,omitempty"`
	AnonymousID string         `json:"anonymousId,omitempty"`
	Properties  any            `json:"properties"`
	Context     map[string]any `json:"context,omitempty"`
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

// OrderEventProperties are the properties of "Order Completed" and
// "Order Cancelled". Money is given both as a decimal string in the order's
// currency (Segment style) and as integer minor units.
type OrderEventProperties struct {
	OrderID       string              `json:"order_id"`
	Total         string              `json:"total"`
	Revenue       string              `json:"revenue"`
	Tax           string              `json:"tax"`
	Currency      Currency            `json:"currency"`
	TotalMinor    int64               `json:"total_minor"`
	TaxMinor      int64               `json:"tax_minor"`
	Market        MarketCode          `json:"market"`
	City          string              `json:"city"`
	PaymentMethod PaymentMethod       `json:"payment_method"`
	Products      []OrderEventProduct `json:"products"`
}

// NewOrderEvent builds the outbox event for an order change (name is
// EventOrderCompleted or EventOrderCancelled).
func NewOrderEvent(name string, o Order, at time.Time) (OutboxEvent, error) {
	props := OrderEventProperties{
		OrderID:       string(o.ID),
		Total:         M(o.Total, o.Currency).Decimal(),
		Revenue:       M(o.Total-o.VAT, o.Currency).Decimal(),
		Tax:           M(o.VAT, o.Currency).Decimal(),
		Currency:      o.Currency,
		TotalMinor:    o.Total,
		TaxMinor:      o.VAT,
		Market:        o.Market,
		City:          o.ShippingAddress.City,
		PaymentMethod: o.Payment.Method,
	}
	for _, l := range o.Lines {
		props.Products = append(props.Products, OrderEventProduct{
			ProductID: string(l.ProductID), SKU: l.SKU, Name: l.Name.EN, Brand: l.Brand,
			Category: l.Category, Price: M(l.UnitPrice, o.Currency).Decimal(), Quantity: l.Quantity, OnSale: l.OnSale,
		})
	}
	id := NewID(EventPrefix)
	ev := TrackEvent{
		MessageID: id, Type: "track", Event: name, Timestamp: at.UTC(),
		AnonymousID: string(o.ID), Properties: props,
		Context: map[string]any{"source": "checkout"},
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return OutboxEvent{}, err
	}
	return OutboxEvent{ID: id, Name: name, Payload: payload, CreatedAt: at.UTC()}, nil
}

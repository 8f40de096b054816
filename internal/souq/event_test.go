package souq

import (
	"encoding/json"
	"testing"
	"time"
)

func TestEventSubject(t *testing.T) {
	tests := []struct {
		e    Event
		want string
	}{
		{Event{Type: "track", Event: "Order Completed"}, "souq.events.track.order_completed"},
		{Event{Type: "track", Event: "Products Searched"}, "souq.events.track.products_searched"},
		{Event{Type: "track", Event: "  Weird--Name!! 2 "}, "souq.events.track.weird_name_2"},
		{Event{Type: "track", Event: "عربي"}, "souq.events.track.unnamed"},
		{Event{Type: "page", Name: "Home"}, "souq.events.page"},
		{Event{Type: "identify"}, "souq.events.identify"},
	}
	for _, tt := range tests {
		if got := tt.e.Subject(); got != tt.want {
			t.Errorf("Subject(%q %q): got %q, want %q", tt.e.Type, tt.e.Event, got, tt.want)
		}
	}
}

// TestOrderEventShipping checks "Order Completed" gives the fees as
// shipping and leaves them, with tax, out of revenue.
func TestOrderEventShipping(t *testing.T) {
	o := Order{ID: "ord_1", Market: SA, Currency: SAR, Total: 12900, VAT: 1161 + 522, DeliveryFee: 2500, CODFee: 1500,
		Payment: Payment{Method: PayCashOnDelivery}}
	ev, err := NewOrderEvent(EventOrderCompleted, o, time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Properties OrderEventProperties `json:"properties"`
	}
	if err := json.Unmarshal(ev.Payload, &e); err != nil {
		t.Fatal(err)
	}
	// Revenue: 129.00 − 16.83 VAT − (40.00 − 5.22 VAT) fees = 77.39, the goods before VAT.
	p := e.Properties
	if p.Shipping != "40.00" || p.ShippingMinor != 4000 || p.Revenue != "77.39" || p.TotalMinor != 12900 {
		t.Errorf("shipping, shipping_minor, revenue, total_minor: got %s, %d, %s, %d; want 40.00, 4000, 77.39, 12900",
			p.Shipping, p.ShippingMinor, p.Revenue, p.TotalMinor)
	}
}

package httpapi

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/souq-commerce/souq/internal/souq"
)

// orderEvent returns the one pending outbox event, decoded.
func (f *fixture) orderEvent(t *testing.T) souq.Event {
	t.Helper()
	evs, err := f.db.PendingOutbox(context.Background(), 100)
	if err != nil || len(evs) != 1 {
		t.Fatalf("pending outbox: %d events (%v), want 1", len(evs), err)
	}
	var ev souq.Event
	if err := json.Unmarshal(evs[0].Payload, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestOrderContext: the order request's context names the shopper's
// visitor id and user id; "Order Completed" carries them as anonymousId
// and userId, so the order joins the visit that made it, and keeps the
// order id in its properties.
func TestOrderContext(t *testing.T) {
	f := newFixture(t)
	p := f.product(10, 8900)
	req := orderBody(item(p.ID, 1))
	req["context"] = map[string]any{"anonymous_id": "visitor-7f3a", "user_id": "customer-42"}
	status, _, body := f.do("POST", "/api/v1/orders", req)
	if status != 201 {
		t.Fatalf("order with context: got %d %s", status, body)
	}
	o := decodeJSON[orderResponse](t, body)
	ev := f.orderEvent(t)
	var props struct {
		OrderID string `json:"order_id"`
	}
	_ = json.Unmarshal(ev.Properties, &props)
	if ev.Event != souq.EventOrderCompleted || ev.AnonymousID != "visitor-7f3a" || ev.UserID != "customer-42" || props.OrderID != string(o.ID) {
		t.Errorf("Order Completed: got %q anonymousId %q userId %q order_id %q; want visitor-7f3a, customer-42, %s",
			ev.Event, ev.AnonymousID, ev.UserID, props.OrderID, o.ID)
	}
	if strings.Contains(string(body), "visitor-7f3a") {
		t.Errorf("the order's response shows the visitor id: %s", body)
	}
	// The visitor is kept with the order: its cancellation, made later
	// from the stored order, joins the same visit.
	if status, _, body := f.do("POST", "/api/v1/orders/"+string(o.ID)+"/cancel", nil, "Authorization", "Bearer "+o.AccessToken); status != 200 {
		t.Fatalf("cancel: got %d %s", status, body)
	}
	evs, err := f.db.PendingOutbox(context.Background(), 100)
	if err != nil || len(evs) != 2 {
		t.Fatalf("pending outbox after the cancellation: %d events (%v), want 2", len(evs), err)
	}
	var cancelled souq.Event
	if err := json.Unmarshal(evs[1].Payload, &cancelled); err != nil {
		t.Fatal(err)
	}
	if cancelled.Event != souq.EventOrderCancelled || cancelled.AnonymousID != "visitor-7f3a" || cancelled.UserID != "customer-42" {
		t.Errorf("Order Cancelled: got %q anonymousId %q userId %q; want visitor-7f3a and customer-42", cancelled.Event, cancelled.AnonymousID, cancelled.UserID)
	}

	// A card paid at once: its event is written when the payment is taken.
	f = newFixture(t)
	p = f.product(10, 8900)
	req = orderBody(item(p.ID, 1))
	req["payment"] = map[string]any{"method": "card", "token": "tok_ok"}
	req["context"] = map[string]any{"anonymous_id": "visitor-card"}
	if status, _, body := f.do("POST", "/api/v1/orders", req); status != 201 {
		t.Fatalf("card order with context: got %d %s", status, body)
	}
	if ev := f.orderEvent(t); ev.AnonymousID != "visitor-card" || ev.UserID != "" {
		t.Errorf("card paid at once: anonymousId %q userId %q, want visitor-card and none", ev.AnonymousID, ev.UserID)
	}

	for _, tt := range []struct {
		name   string
		ctx    any
		status int
		field  string
	}{
		{"long anonymous id", map[string]any{"anonymous_id": strings.Repeat("a", 256)}, 422, "context.anonymous_id"},
		{"control characters", map[string]any{"user_id": "u\n1"}, 422, "context.user_id"},
		{"unknown field", map[string]any{"session": "x"}, 400, ""},
		{"not an object", "visitor", 400, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := orderBody(item(p.ID, 1))
			req["context"] = tt.ctx
			status, hdr, out := f.do("POST", "/api/v1/orders", req)
			pb := wantProblem(t, status, hdr, out, tt.status)
			if tt.field != "" && (len(pb.InvalidParams) == 0 || pb.InvalidParams[0].Field != tt.field) {
				t.Errorf("invalid params: got %+v, want %s", pb.InvalidParams, tt.field)
			}
		})
	}
}

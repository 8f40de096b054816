package checkout_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// TestOrderNumberDrawnAgain: an order whose number another order has is
// placed with the next number drawn; its event and its stored response
// carry the number it got; the admin lookup finds it by number, typed as a
// person types it.
func TestOrderNumberDrawnAgain(t *testing.T) {
	r := newPayRig(t, checkout.CaptureAutomatic)
	draws := []string{"SQ-7K4M2Q", "SQ-7K4M2Q", "SQ-7K4M2R"}
	r.svc.SetNumbers(func() string {
		n := draws[0]
		draws = draws[1:]
		return n
	})
	cod := func(lang souq.Lang) checkout.OrderRequest {
		req := r.request(1, "")
		req.Payment, req.Language = checkout.PaymentRequest{Method: souq.PayCashOnDelivery}, lang
		return req
	}
	first, err := r.svc.PlaceOrder(t.Context(), cod(souq.Arabic), nil)
	if err != nil {
		t.Fatalf("PlaceOrder: %v", err)
	}
	idem := &checkout.Idempotency{Key: "k-2", Hash: "h-2", Render: func(p checkout.Placed) (int, []byte, error) {
		return 201, []byte(`{"number":"` + p.Order.Number + `"}`), nil
	}}
	second, err := r.svc.PlaceOrder(t.Context(), cod(""), idem)
	if err != nil {
		t.Fatalf("PlaceOrder: %v", err)
	}
	if got, want := []string{first.Placed.Order.Number, second.Placed.Order.Number}, []string{"SQ-7K4M2Q", "SQ-7K4M2R"}; got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("numbers: got %v, want %v", got, want)
	}
	if got := string(second.Response.Body); got != `{"number":"SQ-7K4M2R"}` {
		t.Errorf("stored response: got %s, want the number drawn again", got)
	}
	if got := r.order(second.Placed.Order.ID); got.Number != "SQ-7K4M2R" || got.Language != souq.English {
		t.Errorf("stored order: got number %q language %q, want SQ-7K4M2R and en (the default)", got.Number, got.Language)
	}
	if got := r.order(first.Placed.Order.ID).Language; got != souq.Arabic {
		t.Errorf("language: got %q, want ar", got)
	}
	evs, err := r.db.PendingOutbox(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var numbers []string
	for _, ev := range evs {
		var e souq.Event
		var p souq.OrderEventProperties
		if err := json.Unmarshal(ev.Payload, &e); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(e.Properties, &p); err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, p.OrderNumber)
	}
	if len(numbers) != 2 || numbers[0] != "SQ-7K4M2Q" || numbers[1] != "SQ-7K4M2R" {
		t.Errorf("events' order_number: got %v, want [SQ-7K4M2Q SQ-7K4M2R]", numbers)
	}
	got, err := r.svc.AdminLookup(t.Context(), "sq-7k4m2r")
	if err != nil || got.ID != second.Placed.Order.ID {
		t.Errorf("AdminLookup(sq-7k4m2r): got %s, %v; want %s", got.ID, err, second.Placed.Order.ID)
	}
	if _, err := r.svc.AdminLookup(t.Context(), "SQ-000000"); !errors.Is(err, souq.ErrNotFound) {
		t.Errorf("AdminLookup of an unknown number: got %v, want not found", err)
	}
}

// TestOrderLanguage refuses a language the shop has no e-mails in.
func TestOrderLanguage(t *testing.T) {
	r := newPayRig(t, checkout.CaptureAutomatic)
	req := r.request(1, "")
	req.Payment, req.Language = checkout.PaymentRequest{Method: souq.PayCashOnDelivery}, "fr"
	_, err := r.svc.PlaceOrder(t.Context(), req, nil)
	var e *souq.Error
	if !errors.As(err, &e) || e.Kind != souq.ErrInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "language" {
		t.Fatalf("PlaceOrder with language fr: got %v, want invalid, on field language", err)
	}
	// A cash-on-delivery order's payment.language is checked too: it
	// would otherwise become the order's language unchecked.
	req = r.request(1, "")
	req.Payment = checkout.PaymentRequest{Method: souq.PayCashOnDelivery, Language: strings.Repeat("x", 1000)}
	_, err = r.svc.PlaceOrder(t.Context(), req, nil)
	if !errors.As(err, &e) || e.Kind != souq.ErrInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "payment.language" {
		t.Fatalf("PlaceOrder with payment.language of 1,000 x: got %v, want invalid, on field payment.language", err)
	}
}

package httpapi

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// FuzzDecodeOrderRequest checks the order decoder on arbitrary bodies: it
// never panics, every failure is a client error with a message, and every
// success round-trips to the same request.
func FuzzDecodeOrderRequest(f *testing.F) {
	f.Add([]byte(`{"market":"AE","items":[{"product_id":"prd_a","quantity":1}],"customer":{"name":"Mariam","email":"m@example.ae","phone":"+971501234567"},"shipping_address":{"line1":"Villa 12","area":"Al Barsha","city":"Dubai","country":"AE"},"payment":{"method":"cod"}}`))
	f.Add([]byte(`{"market":"SA","cart_id":"cart_x","payment":{"method":"card","token":"tok_ok"}}`))
	f.Add([]byte(`{"market":"AE","items":[{"product_id":"p","quantity":1,"price":1}]}`))
	f.Add([]byte(`{"items":[{"quantity":1e400}]}`))
	f.Add([]byte(`{"market":"AE"} trailing`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Add([]byte("{\"customer\":{\"name\":\"\xff\"}}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req checkout.OrderRequest
		err := decodeBytes(body, &req)
		if err != nil {
			var e *souq.Error
			if !errors.As(err, &e) || !errors.Is(err, errBadRequest) || e.Detail == "" {
				t.Fatalf("decode error %v (%T) is not a bad-request *souq.Error with a detail", err, err)
			}
			return
		}
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var back checkout.OrderRequest
		if err := decodeBytes(again, &back); err != nil {
			t.Fatalf("decode of re-encoded %s: %v", again, err)
		}
		if diff := cmp.Diff(req, back, cmpopts.EquateEmpty()); diff != "" { // "items":[] is sent back as no items
			t.Fatalf("round trip changed the request (-first +second):\n%s", diff)
		}
	})
}

// FuzzDecodeCartItem does the same for the cart item body.
func FuzzDecodeCartItem(f *testing.F) {
	f.Add([]byte(`{"product_id":"prd_a","quantity":2}`))
	f.Add([]byte(`{"product_id":1}`))
	f.Add([]byte(`{"quantity":-1,"extra":true}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req cartItemRequest
		if err := decodeBytes(body, &req); err != nil && !errors.Is(err, errBadRequest) {
			t.Fatalf("decode error %v is not a bad request", err)
		}
	})
}

package httpjson

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
		err := Decode(body, &req, nil)
		if err != nil {
			var e *souq.Error
			if !errors.As(err, &e) || !errors.Is(err, ErrBadRequest) || e.Detail == "" {
				t.Fatalf("decode error %v (%T) is not a bad-request *souq.Error with a detail", err, err)
			}
			return
		}
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var back checkout.OrderRequest
		if err := Decode(again, &back, nil); err != nil {
			t.Fatalf("decode of re-encoded %s: %v", again, err)
		}
		if diff := cmp.Diff(req, back, cmpopts.EquateEmpty()); diff != "" { // "items":[] is sent back as no items
			t.Fatalf("round trip changed the request (-first +second):\n%s", diff)
		}
	})
}

// TestDecodeUnknownField checks the detail of an unknown field: the
// caller's when it gives one, else the default.
func TestDecodeUnknownField(t *testing.T) {
	var v struct {
		A int `json:"a"`
	}
	explain := func(name string) string {
		if name == "price" {
			return "prices are set by the server"
		}
		return ""
	}
	for _, tt := range []struct {
		body    string
		explain func(string) string
		want    string
	}{
		{`{"price":1}`, explain, "prices are set by the server"},
		{`{"colour":1}`, explain, `unknown field "colour"`},
		{`{"price":1}`, nil, `unknown field "price"`},
	} {
		err := Decode([]byte(tt.body), &v, tt.explain)
		var e *souq.Error
		if !errors.As(err, &e) || !errors.Is(err, ErrBadRequest) || e.Detail != tt.want || len(e.Fields) != 1 {
			t.Errorf("Decode(%s): got %#v, want a bad request saying %q about one field", tt.body, err, tt.want)
		}
	}
}

package httpapi

import (
	"errors"
	"testing"
)

// FuzzDecodeCartItem checks the cart item decoder on arbitrary bodies:
// every failure is a bad request. (The order decoder's fuzz test is in
// package httpjson, whose test binary builds far faster under -fuzz.)
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

package collector

import (
	"strings"
	"testing"
)

func TestHasCardNumber(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"4111111111111111", true},                  // Visa test number
		{"4111 1111 1111 1111", true},               // grouped with spaces
		{"5555-5555-5555-4444", true},               // Mastercard, dashes
		{"378282246310005", true},                   // Amex, 15 digits
		{"card: 4012888888881881.", true},           // inside text
		{"4111111111111112", false},                 // fails Luhn
		{"4111 1111 1111", false},                   // 12 digits
		{"41111111111111111111", false},             // 20 digits
		{"1798394400000", false},                    // epoch milliseconds: no network starts with 1
		{"x4111111111111111", false},                // part of a longer word
		{"4111111111111111abc", false},              // part of a longer word
		{"+971 50 123 4567", false},                 // phone number
		{"2026-11-27T18:00:00Z", false},             // timestamp
		{"4111  1111 1111 1111", false},             // two separators break the run
		{"prd_4111111111111111", false},             // '_' joins it to an id
		{"9f86d081884c7d659a2feaa0c55ad015", false}, // hex token
		{"6291041500215", true},                     // a UAE barcode that passes Luhn: see TestCardData
	}
	for _, tt := range tests {
		if got := hasCardNumber(tt.in); got != tt.want {
			t.Errorf("hasCardNumber(%q): got %v, want %v", tt.in, got, tt.want)
		}
		if got := hasCardNumber([]byte(tt.in)); got != tt.want {
			t.Errorf("hasCardNumber([]byte(%q)): got %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCardData(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{"none", `{"properties":{"product_id":"prd_a","price":12.5}}`, ""},
		{"number as a string", `{"properties":{"note":"4111111111111111"}}`, "properties/note"},
		{"number as a JSON number", `{"properties":{"n":4111111111111111}}`, "properties/n"},
		{"in an array", `{"properties":{"products":[{"product_id":"a"},{"name":"x 4111111111111111"}]}}`, "properties/products/1/name"},
		{"digits escaped in JSON", `{"properties":{"note":"\u0034111111111111111"}}`, "properties/note"},
		{"security code", `{"properties":{"card_cvv":"123"}}`, "properties/card_cvv"},
		{"security code camel case", `{"traits":{"securityCode":"0123"}}`, "traits/securityCode"},
		{"empty security code", `{"properties":{"cvv":""}}`, ""},
		{"word containing cvv letters", `{"properties":{"name":"cvv serum"}}`, ""},
		// A barcode can pass the Luhn test; identifier keys are not checked.
		{"barcode in sku", `{"properties":{"sku":"6291041500215","product_id":"4111111111111111"}}`, ""},
		{"barcode searched", `{"properties":{"query":"6291041500215"}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cardData([]byte(tt.raw)); got != tt.want {
				t.Fatalf("cardData: got %q, want %q", got, tt.want)
			}
			red := string(redact([]byte(tt.raw)))
			if tt.want == "" && red != tt.raw {
				t.Fatalf("redact changed a message without card data: got %s", red)
			}
			if tt.want != "" && (strings.Contains(red, "4111") || strings.Contains(red, "123") || !strings.Contains(red, redactedValue)) {
				t.Fatalf("redact: got %s, want the card data replaced", red)
			}
		})
	}
}

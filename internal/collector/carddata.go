package collector

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Souq never stores a card number or security code (database, logs,
// stream, archive). Messages are free-form, so the collector looks for
// them: a value that reads as a card number (13 to 19 digits, optionally in
// groups split by single spaces or dashes, starting with 2–6 as the major
// card networks do, passing the Luhn check) or a non-empty value under a
// key that names a security code (cvv, cvc, security_code, …). Values under
// identifier keys (sku, product_id, order_id, …) are not checked as card
// numbers, since barcodes can pass the same test. An event with card data
// is rejected, and its dead-letter copy has the values replaced.

const redactedValue = "[redacted]"

// identifierKeys hold ids and codes that may be long digit strings.
var identifierKeys = map[string]bool{
	"product_id": true, "sku": true, "order_id": true, "cart_id": true, "checkout_id": true,
	"list_id": true, "promotion_id": true, "coupon": true, "query": true, "messageId": true,
	"userId": true, "anonymousId": true, "id": true, "barcode": true, "gtin": true, "ean": true, "upc": true,
}

// securityCodeKeys are the normalised (lower-case, without '_' and '-')
// keys of card security codes.
var securityCodeKeys = map[string]bool{
	"cvv": true, "cvv2": true, "cvc": true, "cvc2": true, "cid": true, "securitycode": true,
	"cardsecuritycode": true, "cardcvv": true, "cardcvc": true, "cardverificationcode": true,
}

// cardNeedles find the keys above cheaply in the raw message (with "cid"
// only as an exact key, since the letters are common in words), and digits
// written as JSON escapes (\u0030–\u0039), which the raw scan for card
// numbers cannot read.
var cardNeedles = [][]byte{
	[]byte("cvv"), []byte("CVV"), []byte("Cvv"), []byte("cvc"), []byte("CVC"), []byte("Cvc"),
	[]byte("ecurity"), []byte("ECURITY"), []byte("erification"), []byte("ERIFICATION"), []byte(`"cid"`), []byte(`"CID"`),
	[]byte(`\u003`),
}

// cardData returns the location of the first card data in the raw message
// ("properties/card", "context/page/url", …), or "".
func cardData(raw []byte) string {
	if !mayHoldCardData(raw) {
		return ""
	}
	v, ok := decodeAny(raw)
	if !ok {
		return ""
	}
	_, at := scrub(v, "", false)
	return at
}

// redact returns raw with any card data replaced, for the dead-letter
// record; raw itself when there is none.
func redact(raw []byte) []byte {
	if !mayHoldCardData(raw) {
		return raw
	}
	v, ok := decodeAny(raw)
	if !ok {
		if hasCardNumber(raw) { // not JSON: keep nothing that might be a card
			return []byte(strconv.Quote(redactedValue))
		}
		return raw
	}
	v, at := scrub(v, "", true)
	if at == "" {
		return raw
	}
	out, err := json.Marshal(v)
	if err != nil {
		return []byte(strconv.Quote(redactedValue))
	}
	return out
}

// mayHoldCardData is the fast test every message passes through: false
// means there is certainly no card data.
func mayHoldCardData(raw []byte) bool {
	if hasCardNumber(raw) {
		return true
	}
	for _, n := range cardNeedles {
		if bytes.Contains(raw, n) {
			return true
		}
	}
	return false
}

func decodeAny(raw []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	return v, dec.Decode(&v) == nil
}

// scrub walks v and returns the location of the first card data found (""
// for none); with redact, it replaces every such value and returns the
// changed v.
func scrub(v any, at string, redact bool) (any, string) {
	found := ""
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			p := joinPath(at, k)
			switch {
			case securityCodeKeys[normalKey(k)] && !empty(x[k]):
				if found == "" {
					found = p
				}
				if redact {
					x[k] = redactedValue
				}
			case identifierKeys[k]:
			default:
				nv, f := scrub(x[k], p, redact)
				if f != "" && found == "" {
					found = f
				}
				x[k] = nv
			}
			if found != "" && !redact {
				return v, found
			}
		}
	case []any:
		for i := range x {
			nv, f := scrub(x[i], joinPath(at, strconv.Itoa(i)), redact)
			if f != "" && found == "" {
				found = f
			}
			x[i] = nv
			if found != "" && !redact {
				return v, found
			}
		}
	case string:
		if hasCardNumber(x) {
			return redactedValue, at
		}
	case json.Number:
		if hasCardNumber(string(x)) {
			return redactedValue, at
		}
	}
	return v, found
}

func joinPath(at, k string) string {
	if at == "" {
		return k
	}
	return at + "/" + k
}

func normalKey(k string) string {
	return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(k))
}

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	}
	return false
}

// hasCardNumber reports whether s contains something that reads as a card
// number, standing on its own (not inside a longer word or number).
func hasCardNumber[T string | []byte](s T) bool {
	for i := 0; i < len(s); {
		if !isDigit(s[i]) || (i > 0 && isAlnum(s[i-1])) {
			i++
			continue
		}
		var digits [19]byte
		n, j := 0, i
		for j < len(s) {
			c := s[j]
			if isDigit(c) {
				if n < len(digits) {
					digits[n] = c
				}
				n++
				j++
				continue
			}
			if (c == ' ' || c == '-') && j+1 < len(s) && isDigit(s[j+1]) {
				j++
				continue
			}
			break
		}
		if n >= 13 && n <= 19 && (j == len(s) || !isAlnum(s[j])) && digits[0] >= '2' && digits[0] <= '6' && luhn(digits[:n]) {
			return true
		}
		i = j
	}
	return false
}

// luhn reports whether the decimal digits pass the Luhn check.
func luhn(digits []byte) bool {
	sum := 0
	for i := range digits {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
}

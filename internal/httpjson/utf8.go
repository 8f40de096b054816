package httpjson

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// InvalidUTF8 reports whether body, a JSON request body, holds bytes that
// are not UTF-8, and names where: the path of the first string holding
// them ("customer.name", "batch[3].anonymousId"; a key's own name for an
// invalid key; "" when it is outside any value). JSON text must be UTF-8
// (RFC 8259), and Go's decoders silently replace such bytes with U+FFFD:
// a request must be refused before it is decoded, or the stored text
// would differ from what was sent.
func InvalidUTF8(body []byte) (path string, invalid bool) {
	bad := firstInvalid(body)
	if bad < 0 {
		return "", false
	}
	type frame struct {
		object    bool
		expectKey bool   // object: the next string token is a key
		key       string // object: the key of the value being read
		index     int    // array: the index of the value being read
	}
	var stack []frame
	here := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.object {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			}
		}
		return b.String()
	}
	valueDone := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].object {
				stack[n-1].expectKey = true
			} else {
				stack[n-1].index++
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil { // malformed around the bad byte: say where we got to
			return here(), true
		}
		n := len(stack)
		isKey := n > 0 && stack[n-1].object && stack[n-1].expectKey
		if dec.InputOffset() > int64(bad) {
			if s, ok := tok.(string); ok && isKey {
				stack[n-1].key = s // the key itself holds the bytes
			}
			return here(), true
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, frame{object: true, expectKey: true})
			case '[':
				stack = append(stack, frame{})
			default:
				stack = stack[:n-1]
				valueDone()
			}
		case string:
			if isKey {
				stack[n-1].key, stack[n-1].expectKey = t, false
				continue
			}
			valueDone()
		default:
			valueDone()
		}
	}
}

// firstInvalid returns the offset of the first byte of b that is not part
// of a UTF-8 encoded character, or -1.
func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

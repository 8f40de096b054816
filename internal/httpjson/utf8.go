package httpjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// InvalidUTF8 reports whether body, a JSON request body, holds bytes that
// are not UTF-8 or a \u escape of a lone UTF-16 surrogate, and names where: the path of the first string holding
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

// UTF8Detail says, for a client, that the field at path (from InvalidUTF8)
// is not valid UTF-8.
func UTF8Detail(path string) string {
	if path == "" {
		return "the body is not valid UTF-8: JSON text must be UTF-8"
	}
	return fmt.Sprintf("field %q is not valid UTF-8: JSON text must be UTF-8", path)
}

// firstInvalid returns the offset of the first byte of b that is not part
// of a UTF-8 encoded character, or of the first \u escape inside a JSON
// string that is a lone UTF-16 surrogate (which decoders also turn into
// U+FFFD), or -1.
func firstInvalid(b []byte) int {
	inString := false
	for i := 0; i < len(b); {
		c := b[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return i
			}
			i += size
			continue
		}
		switch {
		case c == '"':
			inString = !inString
		case c == '\\' && inString:
			if i+1 < len(b) && b[i+1] == 'u' {
				if n, ok := surrogate(b[i:]); !ok {
					return i
				} else if n > 0 {
					i += n
					continue
				}
			}
			i += 2 // the escaped character
			continue
		}
		i++
	}
	return -1
}

// surrogate looks at the \u escape at the start of b. For a surrogate
// pair it returns the pair's length (12); for a lone surrogate, false; for
// any other escape (or one too short to judge, which the decoder rejects),
// 0 and true.
func surrogate(b []byte) (n int, ok bool) {
	hi, isHex := hex4(b, 2)
	switch {
	case !isHex || hi < 0xd800 || hi > 0xdfff:
		return 0, true
	case hi >= 0xdc00: // a low surrogate first
		return 0, false
	}
	if len(b) < 12 || b[6] != '\\' || b[7] != 'u' {
		return 0, false
	}
	lo, isHex := hex4(b, 8)
	if !isHex || lo < 0xdc00 || lo > 0xdfff {
		return 0, false
	}
	return 12, true
}

// hex4 reads four hexadecimal digits of b from offset at.
func hex4(b []byte, at int) (rune, bool) {
	if len(b) < at+4 {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

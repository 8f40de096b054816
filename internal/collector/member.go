package collector

import (
	"bytes"
	"encoding/json"
)

// member returns the raw value of the top-level member key of obj, a
// well-formed JSON object (the request decoder has checked it), or nil.
// When the key appears more than once it returns the last value, as
// encoding/json keeps the last one. It reads obj once without decoding it:
// cheaper than unmarshalling a whole context to look at one member.
func member(obj []byte, key string) []byte {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil
	}
	var found []byte
	for i++; ; i++ { // i is at '{' or ','
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != '"' {
			return found // '}' of an empty object
		}
		ks := i
		i = skipString(obj, i)
		k := obj[ks:i]
		i = skipSpace(obj, i) + 1 // past ':'
		i = skipSpace(obj, i)
		vs := i
		i = skipValue(obj, i)
		if keyIs(k, key) {
			found = obj[vs:i]
		}
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != ',' {
			return found
		}
	}
}

// keyIs reports whether the quoted JSON string k is key, unescaping only
// when k has escapes.
func keyIs(k []byte, key string) bool {
	if bytes.IndexByte(k, '\\') < 0 {
		return len(k) == len(key)+2 && string(k[1:len(k)-1]) == key
	}
	var s string
	return json.Unmarshal(k, &s) == nil && s == key
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i] ('"').
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}

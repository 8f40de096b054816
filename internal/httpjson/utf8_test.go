package httpjson

import (
	"encoding/json"
	"testing"
)

func TestInvalidUTF8(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    string
		invalid bool
	}{
		{"valid", `{"customer":{"name":"مريم"}}`, "", false},
		{"valid with escapes", `{"a":"\u00e9\ud83d\ude00"}`, "", false},
		{"nested field", "{\"market\":\"AE\",\"customer\":{\"name\":\"\xff\xfe\",\"email\":\"x\"}}", "customer.name", true},
		{"array element field", "{\"batch\":[{\"anonymousId\":\"a\"},{\"type\":\"track\",\"anonymousId\":\"b\xffc\"}]}", "batch[1].anonymousId", true},
		{"array of strings", "{\"tags\":[\"a\",\"b\",\"\xc3\"]}", "tags[2]", true},
		{"after a nested object", "{\"a\":{\"b\":1},\"c\":[1,{\"d\":true}],\"e\":\"\xe2\x82\"}", "e", true},
		{"in a key", "{\"ok\":1,\"k\xff\":2}", "k\ufffd", true},
		{"top-level string", "\"\xff\"", "", true},
		{"truncated sequence at the end", "{\"a\":\"x\xe2", "a", true},
		{"surrogate pair", `{"a":"\ud83d\ude00","b":"\uD83D\uDE00"}`, "", false},
		{"lone high surrogate", `{"a":"ok","b":"x\ud800y"}`, "b", true},
		{"high surrogate at the end", `{"a":{"b":"\ud800"}}`, "a.b", true},
		{"high surrogate then another escape", `{"a":"\ud800\u0041"}`, "a", true},
		{"lone low surrogate", `{"batch":[{"c":"\udc00"}]}`, "batch[0].c", true},
		{"escaped backslash before u", `{"a":"\\ud800"}`, "", false},
		{"escaped quote in a string", `{"a":"say \"\ud800\" x"}`, "a", true},
		{"surrogate-like text outside strings is left to the decoder", `{"a":1}`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, invalid := InvalidUTF8([]byte(tt.body))
			if got != tt.want || invalid != tt.invalid {
				t.Errorf("InvalidUTF8(%q): got %q, %v; want %q, %v", tt.body, got, invalid, tt.want, tt.invalid)
			}
		})
	}
}

// FuzzInvalidUTF8 checks two properties: what encoding/json writes is
// never refused, and a body that is refused would have been changed by
// decoding (the check refuses only what the decoder would replace).
func FuzzInvalidUTF8(f *testing.F) {
	for _, s := range []string{"", "مريم", "a\"b\\c", "\U0001F600", "\xff", `x\ud800`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		body, err := json.Marshal(map[string]string{"k": s})
		if err != nil {
			t.Fatal(err)
		}
		if path, bad := InvalidUTF8(body); bad {
			t.Fatalf("InvalidUTF8(%s): refused at %q what encoding/json wrote", body, path)
		}
		raw := []byte(`{"k":"` + s + `"}`)
		var v map[string]string
		if _, bad := InvalidUTF8(raw); bad && json.Unmarshal(raw, &v) == nil && v["k"] == s {
			t.Fatalf("InvalidUTF8(%q): refused a body the decoder keeps as sent", raw)
		}
	})
}

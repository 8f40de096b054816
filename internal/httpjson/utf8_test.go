package httpjson

import "testing"

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

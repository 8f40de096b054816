package collector

import (
	"encoding/json"
	"testing"
)

func TestMember(t *testing.T) {
	tests := []struct {
		obj  string
		want string // "" for none
	}{
		{`{"market":"AE"}`, `"AE"`},
		{` { "locale" : "ar" , "market" : "SA" } `, `"SA"`},
		{`{"page":{"market":"QA"},"market":"KW"}`, `"KW"`},
		{`{"page":{"market":"QA"}}`, ``},
		{`{"a":["market",{"market":1}],"b":"market\"","market":null}`, `null`},
		{`{"market":"AE","market":"XX"}`, `"XX"`}, // encoding/json keeps the last
		{`{"m\u0061rket":"OM"}`, `"OM"`},          // escaped key
		{`{"market":{"code":"BH"},"x":1}`, `{"code":"BH"}`},
		{`{"market":12.5e3}`, `12.5e3`},
		{`{}`, ``},
		{`[]`, ``},
		{`{"x":"\\","market":true}`, `true`},
	}
	for _, tt := range tests {
		if got := string(member([]byte(tt.obj), "market")); got != tt.want {
			t.Errorf("member(%s): got %q, want %q", tt.obj, got, tt.want)
		}
		// The same as encoding/json reads it.
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(tt.obj), &m) == nil && string(m["market"]) != tt.want {
			t.Errorf("test case %s: encoding/json reads %q, want %q", tt.obj, m["market"], tt.want)
		}
	}
}

// FuzzMember checks member against encoding/json on every well-formed
// object.
func FuzzMember(f *testing.F) {
	f.Add([]byte(`{"market":"AE","page":{"market":"x"}}`))
	f.Add([]byte(`{"m\u0061rket":[1,{"a":"]"}],"market":"SA"}`))
	f.Fuzz(func(t *testing.T, obj []byte) {
		var m map[string]json.RawMessage
		if json.Unmarshal(obj, &m) != nil {
			return
		}
		if got, want := string(member(obj, "market")), string(m["market"]); got != want {
			t.Fatalf("member(%s): got %q, want %q", obj, got, want)
		}
	})
}

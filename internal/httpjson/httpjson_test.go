package httpjson

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWriteProblem(t *testing.T) {
	tests := []struct {
		name string
		p    Problem
		want map[string]any
	}{
		{"defaults", Problem{Status: 404}, map[string]any{"type": "about:blank", "title": "Not Found", "status": 404.0}},
		{"extension members", Problem{Type: ProblemTypePrefix + "out-of-stock", Status: 409, Detail: "d", Instance: "/x",
			Extra: map[string]any{"sku": "A-1", "status": 500, "type": "spoof"}},
			map[string]any{"type": "urn:souq:problem:out-of-stock", "title": "Conflict", "status": 409.0, "detail": "d", "instance": "/x", "sku": "A-1"}},
		{"extension that cannot be encoded is dropped", Problem{Status: 500, Extra: map[string]any{"f": func() {}}},
			map[string]any{"type": "about:blank", "title": "Internal Server Error", "status": 500.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteProblem(rec, tt.p)
			if ct := rec.Header().Get("Content-Type"); rec.Code != tt.p.Status || ct != "application/problem+json" {
				t.Fatalf("got %d %q, want %d application/problem+json", rec.Code, ct, tt.p.Status)
			}
			var got map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	rec := httptest.NewRecorder()
	Encode(rec, http.StatusCreated, map[string]int{"a": 1})
	if rec.Code != 201 || rec.Body.String() != "{\"a\":1}\n" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("got %d %q %q", rec.Code, rec.Body.String(), rec.Header().Get("Cache-Control"))
	}
	rec = httptest.NewRecorder()
	Encode(rec, http.StatusOK, func() {})
	if rec.Code != 500 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("unencodable value: got %d %q, want a 500 problem", rec.Code, rec.Header().Get("Content-Type"))
	}
}

func TestTypeName(t *testing.T) {
	for k, want := range map[reflect.Kind]string{reflect.Int64: "number", reflect.Float64: "number", reflect.String: "string",
		reflect.Slice: "array", reflect.Bool: "boolean", reflect.Struct: "object", reflect.Map: "object", reflect.Ptr: "ptr"} {
		if got := TypeName(k); got != want {
			t.Errorf("TypeName(%v): got %q, want %q", k, got, want)
		}
	}
}

// Package httpjson writes JSON responses and RFC 9457 problem documents: the
// one response format of every HTTP surface Souq serves (the API, the event
// collector and the dashboard's JSON). It also holds the one check every
// JSON request body passes before it is decoded (InvalidUTF8).
package httpjson

import (
	"encoding/json"
	"net/http"
	"reflect"
)

// ProblemTypePrefix starts the type URI of every Souq problem kind.
const ProblemTypePrefix = "urn:souq:problem:"

// Problem is an RFC 9457 problem details document. Extra holds extension
// members (such as invalid_params or the product that ran out of stock);
// they cannot replace the standard members.
type Problem struct {
	Type     string
	Title    string
	Status   int
	Detail   string
	Instance string
	Extra    map[string]any
}

// MarshalJSON writes the standard members, defaulting Type to about:blank
// and Title to the status text, and the extension members beside them.
func (p Problem) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(p.Extra)+5)
	for k, v := range p.Extra {
		m[k] = v
	}
	m["type"], m["title"], m["status"] = p.Type, p.Title, p.Status
	if p.Type == "" {
		m["type"] = "about:blank"
	}
	if p.Title == "" {
		m["title"] = http.StatusText(p.Status)
	}
	if p.Detail != "" {
		m["detail"] = p.Detail
	}
	if p.Instance != "" {
		m["instance"] = p.Instance
	}
	return json.Marshal(m)
}

// WriteProblem answers with p as application/problem+json.
func WriteProblem(w http.ResponseWriter, p Problem) {
	body, err := json.Marshal(p)
	if err != nil { // an extension member that cannot be encoded
		p.Extra = nil
		body, _ = json.Marshal(p)
	}
	Write(w, p.Status, "application/problem+json", body)
}

// Encode answers with v as application/json.
func Encode(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		WriteProblem(w, Problem{Status: http.StatusInternalServerError, Detail: "the response could not be encoded"})
		return
	}
	Write(w, status, "application/json", body)
}

// Write answers with body, which is already encoded, marked not to be
// stored by caches.
func Write(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
	_, _ = w.Write([]byte("\n"))
}

// TypeName names, for a client, the JSON type a Go kind decodes from
// ("number", "string", …), for messages about mistyped fields.
func TypeName(k reflect.Kind) string {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Bool:
		return "boolean"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return k.String()
}

package httpjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/souq-commerce/souq/internal/souq"
)

// ErrBadRequest is the kind of the errors Decode returns: the request's
// form is wrong (malformed JSON, a wrong type, an unknown field), which an
// API answers with 400 rather than ErrInvalid's 422.
var ErrBadRequest = errors.New("bad request")

// Decode strictly decodes one JSON value from body into v: the body must
// be UTF-8 and hold exactly one value, with no field v does not have.
// Every failure is a *souq.Error of kind ErrBadRequest whose detail names
// the problem, with the field when there is one. unknown, when not nil,
// may give the detail for an unknown field name ("" keeps the default,
// `unknown field "name"`).
func Decode(body []byte, v any, unknown func(name string) string) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return souq.Errorf(ErrBadRequest, "request body is empty; send a JSON object")
	}
	if field, bad := InvalidUTF8(body); bad {
		e := &souq.Error{Kind: ErrBadRequest, Detail: UTF8Detail(field)}
		if field != "" {
			e.Fields = []souq.FieldError{{Field: field, Reason: "is not valid UTF-8"}}
		}
		return e
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, unknown)
	}
	if dec.More() {
		return souq.Errorf(ErrBadRequest, "request body has data after the JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return souq.Errorf(ErrBadRequest, "request body has data after the JSON value")
	}
	return nil
}

// decodeError explains an error of encoding/json's decoder.
func decodeError(err error, unknown func(string) string) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return souq.Errorf(ErrBadRequest, "malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return souq.Errorf(ErrBadRequest, "malformed JSON: the body ends too early")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return souq.Errorf(ErrBadRequest, "the body must be a JSON object, not a %s", typ.Value)
		}
		return &souq.Error{Kind: ErrBadRequest, Detail: fmt.Sprintf("field %q must be a %s, not a %s", field, TypeName(typ.Type.Kind()), typ.Value),
			Fields: []souq.FieldError{{Field: field, Reason: "must be a " + TypeName(typ.Type.Kind())}}}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		detail := ""
		if unknown != nil {
			detail = unknown(name)
		}
		if detail == "" {
			detail = fmt.Sprintf("unknown field %q", name)
		}
		return &souq.Error{Kind: ErrBadRequest, Detail: detail, Fields: []souq.FieldError{{Field: name, Reason: "unknown field"}}}
	}
	return souq.Errorf(ErrBadRequest, "malformed JSON body")
}

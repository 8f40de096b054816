package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/souq-commerce/souq/internal/httpjson"
	"github.com/souq-commerce/souq/internal/souq"
)

// errBadRequest is the kind of errors in the request's form (malformed JSON,
// bad query parameters), mapped to 400 rather than ErrInvalid's 422.
var errBadRequest = errors.New("bad request")

// errTooLarge is the kind of an oversize body, mapped to 413.
var errTooLarge = errors.New("request body too large")

// errUnsupportedMedia is the kind of a body that is not JSON, mapped to 415.
var errUnsupportedMedia = errors.New("unsupported media type")

// serverPriced are fields a client might send that the server sets itself;
// rejecting them by name tells the client why.
var serverPriced = map[string]bool{"price": true, "unit_price": true, "total": true, "amount": true, "vat": true, "line_total": true}

// decode reads a JSON body of at most limit bytes into a T. Unknown fields,
// trailing data, a non-JSON content type and an oversize body are errors
// that name the problem.
func decode[T any](w http.ResponseWriter, r *http.Request, limit int64) (T, error) {
	var v T
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return v, souq.Errorf(errUnsupportedMedia, "send the body as application/json, not %q", ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return v, souq.Errorf(errTooLarge, "request body is larger than %d bytes", limit)
	case err != nil:
		return v, souq.Errorf(errBadRequest, "could not read the request body")
	}
	return v, decodeBytes(body, &v)
}

// decodeBytes strictly decodes one JSON value from body into v.
func decodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return souq.Errorf(errBadRequest, "request body is empty; send a JSON object")
	}
	if field, bad := httpjson.InvalidUTF8(body); bad {
		return utf8Problem(field)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return souq.Errorf(errBadRequest, "request body has data after the JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return souq.Errorf(errBadRequest, "request body has data after the JSON value")
	}
	return nil
}

// utf8Problem refuses a body whose field holds bytes that are not UTF-8.
func utf8Problem(field string) error {
	e := &souq.Error{Kind: errBadRequest, Detail: httpjson.UTF8Detail(field)}
	if field != "" {
		e.Fields = []souq.FieldError{{Field: field, Reason: "is not valid UTF-8"}}
	}
	return e
}

func decodeError(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return souq.Errorf(errBadRequest, "malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return souq.Errorf(errBadRequest, "malformed JSON: the body ends too early")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return souq.Errorf(errBadRequest, "the body must be a JSON object, not a %s", typ.Value)
		}
		return &souq.Error{Kind: errBadRequest, Detail: fmt.Sprintf("field %q must be a %s, not a %s", field, httpjson.TypeName(typ.Type.Kind()), typ.Value),
			Fields: []souq.FieldError{{Field: field, Reason: "must be a " + httpjson.TypeName(typ.Type.Kind())}}}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		detail := fmt.Sprintf("unknown field %q", name)
		if serverPriced[name] {
			detail = fmt.Sprintf("field %q is not accepted: prices and totals are set by the server", name)
		}
		return &souq.Error{Kind: errBadRequest, Detail: detail, Fields: []souq.FieldError{{Field: name, Reason: "unknown field"}}}
	}
	return souq.Errorf(errBadRequest, "malformed JSON body")
}

package httpapi

import (
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
var errBadRequest = httpjson.ErrBadRequest

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

// decodeBytes strictly decodes one JSON value from body into v
// (httpjson.Decode), explaining a refused price or total.
func decodeBytes(body []byte, v any) error {
	return httpjson.Decode(body, v, func(name string) string {
		if serverPriced[name] {
			return fmt.Sprintf("field %q is not accepted: prices and totals are set by the server", name)
		}
		return ""
	})
}

package collector

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	json "github.com/segmentio/encoding/json"

	"github.com/souq-commerce/souq/internal/httpjson"
)

// request is a decoded request body: the raw messages and what the batch
// adds to each.
type request struct {
	items    []json.RawMessage
	sentAt   string
	context  json.RawMessage
	writeKey string
}

// readBody reads the body, at most MaxBodyBytes, and decompresses it when
// it is gzip-encoded, again to at most MaxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= MaxBodyBytes {
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, fail(errTooLarge, fmt.Sprintf("request body is larger than 500 KB (%d bytes): send smaller batches", MaxBodyBytes))
	case err != nil:
		return nil, fail(errBadRequest, "could not read the request body")
	}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return buf.Bytes(), nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(&buf)
		if err != nil {
			return nil, fail(errBadRequest, "the body is not valid gzip (Content-Encoding: gzip)")
		}
		out, err := io.ReadAll(io.LimitReader(zr, MaxBodyBytes+1))
		if err != nil {
			return nil, fail(errBadRequest, "the body is not valid gzip (Content-Encoding: gzip)")
		}
		if len(out) > MaxBodyBytes {
			return nil, fail(errTooLarge, fmt.Sprintf("decompressed request body is larger than 500 KB (%d bytes): send smaller batches", MaxBodyBytes))
		}
		return out, nil
	default:
		return nil, fail(errEncoding, fmt.Sprintf("unsupported Content-Encoding %q: send gzip or no encoding", clip(enc)))
	}
}

// decodeRequest reads a /v1/batch body (callType "") or a single message
// for /v1/track, /v1/page or /v1/identify. Unknown members are ignored, as
// Segment does; the JSON must be well-formed and the body a single value.
func decodeRequest(body []byte, callType string) (request, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		if callType == "" {
			return request{}, fail(errBadRequest, `request body is empty; send a JSON object with a "batch" array of messages`)
		}
		return request{}, fail(errBadRequest, "request body is empty; send the message as a JSON object")
	}
	if field, bad := httpjson.InvalidUTF8(body); bad {
		return request{}, fail(errBadRequest, httpjson.UTF8Detail(field))
	}
	if callType != "" {
		var one struct {
			WriteKey string `json:"writeKey"`
		}
		if err := decodeOne(body, &one); err != nil {
			return request{}, err
		}
		return request{items: []json.RawMessage{body}, writeKey: one.WriteKey}, nil
	}
	var b struct {
		Batch    []json.RawMessage `json:"batch"`
		SentAt   string            `json:"sentAt"`
		Context  json.RawMessage   `json:"context"`
		WriteKey string            `json:"writeKey"`
	}
	if err := decodeOne(body, &b); err != nil {
		return request{}, err
	}
	switch {
	case b.Batch == nil:
		return request{}, fail(errBadRequest, `the body must have a "batch" array of messages`)
	case len(b.Batch) == 0:
		return request{}, fail(errBadRequest, `"batch" is empty; send at least one message`)
	case len(b.Batch) > MaxBatchEvents:
		return request{}, fail(errTooLarge, fmt.Sprintf("the batch has %d messages; the limit is %d: send smaller batches", len(b.Batch), MaxBatchEvents))
	}
	ctx, r := object("context", b.Context)
	if r != nil {
		return request{}, fail(errBadRequest, `the batch's "context" must be a JSON object`)
	}
	return request{items: b.Batch, sentAt: b.SentAt, context: ctx, writeKey: b.WriteKey}, nil
}

// decodeOne decodes exactly one JSON value from body into v.
func decodeOne(body []byte, v any) error {
	rest, err := json.Parse(body, v, 0)
	if err != nil {
		return decodeError(err)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return fail(errBadRequest, "request body has data after the JSON value")
	}
	return nil
}

func decodeError(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return fail(errBadRequest, fmt.Sprintf("malformed JSON at byte %d: %s", syntax.Offset, syntax.Error()))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fail(errBadRequest, "malformed JSON: the body ends too early")
	case errors.As(err, &typ) && typ.Field == "":
		return fail(errBadRequest, fmt.Sprintf("the body must be a JSON object, not %s", valueKind(typ.Value)))
	case errors.As(err, &typ) && typ.Field == "batch":
		return fail(errBadRequest, fmt.Sprintf(`"batch" must be an array of messages, not %s`, valueKind(typ.Value)))
	case errors.As(err, &typ):
		return fail(errBadRequest, fmt.Sprintf("field %q must be a %s, not %s", typ.Field, httpjson.TypeName(typ.Type.Kind()), valueKind(typ.Value)))
	}
	return fail(errBadRequest, "malformed JSON body")
}

// jsonArticle turns encoding/json's value names ("array", "number 5") into
// words for a message.
func jsonArticle(v string) string {
	switch {
	case strings.HasPrefix(v, "array"), strings.HasPrefix(v, "object"):
		return "an " + v
	case v == "null" || v == "nothing":
		return v
	case v == "":
		return "this value"
	}
	return "a " + v
}

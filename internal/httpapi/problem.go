package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/souq-commerce/souq/internal/souq"
)

// problem is an RFC 9457 problem details document.
type problem struct {
	Type          string            `json:"type"`
	Title         string            `json:"title"`
	Status        int               `json:"status"`
	Detail        string            `json:"detail,omitempty"`
	Instance      string            `json:"instance,omitempty"`
	InvalidParams []souq.FieldError `json:"invalid_params,omitempty"`
	Extra         map[string]any    `json:"-"`
}

// kindStatus maps error kinds to HTTP statuses and problem types: the one
// table for the whole API.
var kindStatus = []struct {
	kind   error
	status int
	typ    string
}{
	{errBadRequest, http.StatusBadRequest, "bad-request"},
	{errTooLarge, http.StatusRequestEntityTooLarge, "body-too-large"},
	{errUnsupportedMedia, http.StatusUnsupportedMediaType, "unsupported-media-type"},
	{souq.ErrInvalid, http.StatusUnprocessableEntity, "validation"},
	{souq.ErrNotFound, http.StatusNotFound, "not-found"},
	{souq.ErrOutOfStock, http.StatusConflict, "out-of-stock"},
	{souq.ErrKeyInFlight, http.StatusConflict, "idempotency-key-in-flight"},
	{souq.ErrConflict, http.StatusConflict, "conflict"},
	{souq.ErrKeyReused, http.StatusUnprocessableEntity, "idempotency-key-reused"},
	{souq.ErrUnauthorized, http.StatusUnauthorized, "unauthorized"},
	{souq.ErrPayment, http.StatusPaymentRequired, "payment-declined"},
}

// MarshalJSON adds the extension members to the standard ones.
func (p problem) MarshalJSON() ([]byte, error) {
	type plain problem
	base, err := json.Marshal(plain(p))
	if err != nil || len(p.Extra) == 0 {
		return base, err
	}
	m := make(map[string]any, len(p.Extra)+6)
	for k, v := range p.Extra {
		m[k] = v
	}
	var std map[string]any
	if err := json.Unmarshal(base, &std); err != nil {
		return nil, err
	}
	for k, v := range std {
		m[k] = v
	}
	return json.Marshal(m)
}

func writeProblem(w http.ResponseWriter, p problem) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	body, _ := json.Marshal(p)
	writeJSON(w, p.Status, "application/problem+json", body)
}

// fail writes err as a problem. Errors of a known kind show their
// client-safe detail; anything else is logged and shown as a bare 500.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *souq.Error
	if errors.As(err, &e) {
		for _, ks := range kindStatus {
			if errors.Is(e.Kind, ks.kind) {
				if ks.status == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", `Bearer realm="souq"`)
				}
				writeProblem(w, problem{Type: "urn:souq:problem:" + ks.typ, Status: ks.status,
					Detail: e.Detail, Instance: r.URL.Path, InvalidParams: e.Fields, Extra: e.Extra})
				return
			}
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(r.Context().Err(), context.Canceled) {
		w.Header().Set("Retry-After", "1")
		writeProblem(w, problem{Status: http.StatusServiceUnavailable, Detail: "the request timed out; retry shortly", Instance: r.URL.Path})
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeProblem(w, problem{Status: http.StatusInternalServerError, Detail: "an internal error occurred; it has been logged", Instance: r.URL.Path})
}

// handle adapts a handler that returns its error: the error is written as a
// problem document by fail.
func (s *server) handle(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

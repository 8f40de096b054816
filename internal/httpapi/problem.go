package httpapi

import (
	"context"
	"errors"
	"maps"
	"net/http"

	"github.com/souq-commerce/souq/internal/httpjson"
	"github.com/souq-commerce/souq/internal/media"
	"github.com/souq-commerce/souq/internal/souq"
)

// kindStatus maps error kinds to HTTP statuses and problem types: the one
// table for the whole API. retry, when set, is the Retry-After (seconds)
// of a condition that passes by itself.
var kindStatus = []struct {
	kind   error
	status int
	typ    string
	retry  string
}{
	{errBadRequest, http.StatusBadRequest, "bad-request", ""},
	{errTooLarge, http.StatusRequestEntityTooLarge, "body-too-large", ""},
	{errUnsupportedMedia, http.StatusUnsupportedMediaType, "unsupported-media-type", ""},
	{media.ErrTooLarge, http.StatusRequestEntityTooLarge, "image-too-large", ""},
	{media.ErrType, http.StatusUnsupportedMediaType, "unsupported-image-type", ""},
	{souq.ErrInvalid, http.StatusUnprocessableEntity, "validation", ""},
	{souq.ErrNotFound, http.StatusNotFound, "not-found", ""},
	{souq.ErrOutOfStock, http.StatusConflict, "out-of-stock", ""},
	{souq.ErrKeyInFlight, http.StatusConflict, "idempotency-key-in-flight", "1"},
	{souq.ErrConflict, http.StatusConflict, "conflict", ""},
	{souq.ErrKeyReused, http.StatusUnprocessableEntity, "idempotency-key-reused", ""},
	{souq.ErrUnauthorized, http.StatusUnauthorized, "unauthorized", ""},
	{souq.ErrPayment, http.StatusPaymentRequired, "payment-declined", ""},
	{souq.ErrQueued, http.StatusTooManyRequests, "waiting-room", "2"},
	{souq.ErrForbidden, http.StatusForbidden, "admission-refused", ""},
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
				if ks.retry != "" {
					w.Header().Set("Retry-After", ks.retry)
				}
				extra := maps.Clone(e.Extra)
				if len(e.Fields) > 0 {
					if extra == nil {
						extra = map[string]any{}
					}
					extra["invalid_params"] = e.Fields
				}
				httpjson.WriteProblem(w, httpjson.Problem{Type: httpjson.ProblemTypePrefix + ks.typ, Status: ks.status,
					Detail: e.Detail, Instance: r.URL.Path, Extra: extra})
				return
			}
		}
	}
	if errors.Is(err, souq.ErrUnavailable) {
		s.log.Warn("request failed: a store is unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "1")
		httpjson.WriteProblem(w, httpjson.Problem{Status: http.StatusServiceUnavailable, Detail: "the shop is busy; retry shortly", Instance: r.URL.Path})
		return
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(r.Context().Err(), context.Canceled) {
		w.Header().Set("Retry-After", "1")
		httpjson.WriteProblem(w, httpjson.Problem{Status: http.StatusServiceUnavailable, Detail: "the request timed out; retry shortly", Instance: r.URL.Path})
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	httpjson.WriteProblem(w, httpjson.Problem{Status: http.StatusInternalServerError, Detail: "an internal error occurred; it has been logged", Instance: r.URL.Path})
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

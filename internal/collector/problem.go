package collector

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/souq-commerce/souq/internal/souq"
)

// Error kinds of a whole request. A rejected event is not an error of the
// request: it is listed in the answer (and dead-lettered).
var (
	errBadRequest    = errors.New("bad request")             // 400: the body cannot be read as messages
	errInvalidEvents = errors.New("no valid event")          // 400: every message was rejected
	errTooLarge      = errors.New("request too large")       // 413
	errEncoding      = errors.New("unsupported encoding")    // 415
	errRateLimited   = errors.New("rate limited")            // 429
	errUnavailable   = errors.New("temporarily unavailable") // 503: nothing acknowledged; retry
	errUnauthorized  = souq.ErrUnauthorized                  // 401
)

const internalDetail = "an internal error occurred; it has been logged"

// kindStatus maps request error kinds to HTTP statuses and problem types.
var kindStatus = []struct {
	kind   error
	status int
	typ    string
}{
	{errBadRequest, http.StatusBadRequest, "bad-request"},
	{errInvalidEvents, http.StatusBadRequest, "invalid-events"},
	{errTooLarge, http.StatusRequestEntityTooLarge, "body-too-large"},
	{errEncoding, http.StatusUnsupportedMediaType, "unsupported-content-encoding"},
	{errUnauthorized, http.StatusUnauthorized, "unauthorized"},
	{errRateLimited, http.StatusTooManyRequests, "rate-limited"},
	{errUnavailable, http.StatusServiceUnavailable, "unavailable"},
}

// requestError is an error whose detail is safe to show to the client.
type requestError struct {
	kind       error
	detail     string
	retryAfter string          // Retry-After header value, for 429 and 503
	events     []rejectedEvent // per-event reasons, for errInvalidEvents
}

func (e *requestError) Error() string { return e.detail }
func (e *requestError) Unwrap() error { return e.kind }

func fail(kind error, detail string) *requestError {
	return &requestError{kind: kind, detail: detail}
}

// rejectedEvent is one message the collector did not accept, and why.
type rejectedEvent struct {
	Index     int    `json:"index"`
	MessageID string `json:"messageId,omitempty"`
	Reason    string `json:"reason"`
}

// batchResponse answers a request in which at least one event was accepted
// (Segment answers {"success": true}; the other members are Souq's).
type batchResponse struct {
	Success  bool            `json:"success"`
	Accepted int             `json:"accepted"`
	Rejected []rejectedEvent `json:"rejected"`
}

// problem is an RFC 9457 problem details document, with the per-event
// reasons in "errors" when every event was rejected.
type problem struct {
	Type     string          `json:"type"`
	Title    string          `json:"title"`
	Status   int             `json:"status"`
	Detail   string          `json:"detail,omitempty"`
	Instance string          `json:"instance,omitempty"`
	Errors   []rejectedEvent `json:"errors,omitempty"`
}

// writeError writes err as a problem document. Errors of a known kind show
// their detail; anything else is logged and shown as a bare 500.
func (c *Collector) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *requestError
	if errors.As(err, &e) {
		for _, ks := range kindStatus {
			if errors.Is(e.kind, ks.kind) {
				if ks.status == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", `Basic realm="souq"`)
				}
				if e.retryAfter != "" {
					w.Header().Set("Retry-After", e.retryAfter)
				}
				if ks.status == http.StatusTooManyRequests {
					w.Header().Set("X-RateLimit-Reset", e.retryAfter) // what analytics.js reads, in seconds
				}
				writeProblem(w, problem{Type: "urn:souq:problem:" + ks.typ, Status: ks.status,
					Detail: e.detail, Instance: r.URL.Path, Errors: e.events})
				return
			}
		}
	}
	c.log.Error("collector request failed", "path", r.URL.Path, "err", err)
	writeProblem(w, problem{Status: http.StatusInternalServerError, Detail: internalDetail, Instance: r.URL.Path})
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

// encode writes v as a JSON response with the given status.
func encode(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, problem{Status: http.StatusInternalServerError, Detail: "the response could not be encoded"})
		return
	}
	writeJSON(w, status, "application/json", body)
}

func writeJSON(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
	_, _ = w.Write([]byte("\n"))
}

func jsonType(kind string) string {
	switch kind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	case "string":
		return "string"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	case "map", "struct":
		return "object"
	}
	return kind
}

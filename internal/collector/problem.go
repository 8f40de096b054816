package collector

import (
	"errors"
	"net/http"

	"github.com/souq-commerce/souq/internal/httpjson"
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
				var extra map[string]any
				if len(e.events) > 0 {
					extra = map[string]any{"errors": e.events}
				}
				httpjson.WriteProblem(w, httpjson.Problem{Type: httpjson.ProblemTypePrefix + ks.typ, Status: ks.status,
					Detail: e.detail, Instance: r.URL.Path, Extra: extra})
				return
			}
		}
	}
	c.log.Error("collector request failed", "path", r.URL.Path, "err", err)
	httpjson.WriteProblem(w, httpjson.Problem{Status: http.StatusInternalServerError, Detail: internalDetail, Instance: r.URL.Path})
}

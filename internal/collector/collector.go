package collector

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/httpjson"
	"github.com/souq-commerce/souq/internal/souq"
)

// Publisher appends events to the stream. The returned slice has one entry
// per event (or is nil when all succeeded): an event whose entry is nil has
// been durably appended. A non-nil second result means the call as a whole
// failed and no event may be taken as appended. Appending an event whose
// MessageID the stream has seen before must succeed without a second copy.
type Publisher interface {
	PublishBatch(ctx context.Context, evs []souq.Event) ([]error, error)
}

// DeadLetters durably records a message the collector rejected, with the
// reason, so no rejected message is silently lost.
type DeadLetters interface {
	DeadLetter(ctx context.Context, reason string, raw []byte) error
}

// Deps are what the collector needs.
type Deps struct {
	Publisher   Publisher
	DeadLetters DeadLetters
	// WriteKeys are the accepted write keys (SOUQ_WRITE_KEY). With none,
	// the collector answers every request 401.
	WriteKeys []string
	// Now is the clock for receivedAt, timestamp checks and rate limits
	// (time.Now when nil).
	Now func() time.Time
	Log *slog.Logger
	// Registry receives the collector's metrics (a fresh registry when nil).
	Registry prometheus.Registerer
	// RatePerSecond and Burst bound the events a client (write key and IP)
	// may send: a token bucket per client, one token per message.
	// Zero means DefaultRatePerSecond and DefaultBurst; Burst is raised to
	// MaxBatchEvents if lower, so a full batch can always pass.
	RatePerSecond float64
	Burst         int
	// ClientIP names the client of a request for rate limiting (the host of
	// RemoteAddr when nil). Set it when a proxy you trust sits in front.
	ClientIP func(r *http.Request) string
	// Limiter, when set, is a rate limit shared with the other collector
	// replicas, asked instead of the in-process token bucket. nil keeps the
	// in-process bucket alone. When Limiter fails (returns an error), the
	// request is held to the in-process bucket instead, the failure is
	// counted in souq_collector_limiter_errors_total and logged at most
	// once a minute: the collector fails open to its local limit.
	Limiter Limiter
}

// Collector is the Segment-compatible HTTP tracking API.
type Collector struct {
	pub       Publisher
	dead      DeadLetters
	keys      [][sha256.Size]byte
	now       func() time.Time
	log       *slog.Logger
	metrics   *metrics
	limiter   *limiter
	shared    Limiter      // nil: limiter alone
	sharedLog atomic.Int64 // when a shared limiter's failure was last logged, Unix ns
	schemas   *schemaSet
	clientIP  func(r *http.Request) string
}

// publishTimeout bounds the wait for the stream (and for dead letters).
const publishTimeout = 10 * time.Second

// New returns a collector. It panics when Publisher or DeadLetters is nil,
// or when the embedded schemas do not compile (a bug caught by the tests).
func New(d Deps) *Collector {
	if d.Publisher == nil || d.DeadLetters == nil {
		panic("collector: Deps.Publisher and Deps.DeadLetters are required")
	}
	schemas, err := loadSchemas()
	if err != nil {
		panic(fmt.Sprintf("collector: embedded schemas: %v", err))
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	if d.ClientIP == nil {
		d.ClientIP = remoteHost
	}
	c := &Collector{pub: d.Publisher, dead: d.DeadLetters, now: d.Now, log: d.Log.With("component", "collector"),
		metrics: newMetrics(d.Registry), limiter: newLimiter(d.RatePerSecond, d.Burst), shared: d.Limiter,
		schemas: schemas, clientIP: d.ClientIP}
	for _, k := range d.WriteKeys {
		if k != "" {
			c.keys = append(c.keys, sha256.Sum256([]byte(k)))
		}
	}
	return c
}

// Route is one endpoint: a net/http pattern and its handler.
type Route struct {
	Pattern string
	Handler http.Handler
}

// Routes lists the collector's endpoints, to be mounted on the API server's
// mux (which adds its own middleware and request metrics). The one-letter
// paths are the ones analytics.js (analytics-next) posts to: /b for a batch,
// /t, /p and /i for single calls.
func (c *Collector) Routes() []Route {
	batch, track, page, identify := c.handler(""), c.handler("track"), c.handler("page"), c.handler("identify")
	return []Route{
		{"POST /v1/batch", batch},
		{"POST /v1/track", track},
		{"POST /v1/page", page},
		{"POST /v1/identify", identify},
		{"POST /v1/b", batch},
		{"POST /v1/t", track},
		{"POST /v1/p", page},
		{"POST /v1/i", identify},
	}
}

func (c *Collector) handler(callType string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := c.serve(w, r, callType); err != nil {
			c.writeError(w, r, err)
		}
	})
}

// serve authenticates, limits and decodes a request, then ingests its
// messages.
func (c *Collector) serve(w http.ResponseWriter, r *http.Request, callType string) error {
	// Event times carry microseconds, the archive's precision, so an
	// aggregate recomputed from the archive equals the live one.
	receivedAt := c.now().UTC().Truncate(time.Microsecond)
	if len(c.keys) == 0 {
		return fail(errUnauthorized, "the collector is disabled: start the server with SOUQ_WRITE_KEY set to the write key your SDKs send")
	}
	key, sent := c.headerKey(r)
	if sent && key < 0 {
		return fail(errUnauthorized, "wrong write key: send your write key as the HTTP Basic username with an empty password")
	}
	ip := c.clientIP(r)
	if key >= 0 && c.limiter.empty(key, ip, receivedAt) {
		return &requestError{kind: errRateLimited, detail: "too many events from this client; retry after the time in Retry-After", retryAfter: "1"}
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	req, err := decodeRequest(body, callType)
	if err != nil {
		return err
	}
	if key < 0 {
		if req.writeKey == "" {
			return fail(errUnauthorized, `send your write key as the HTTP Basic username with an empty password (Authorization: Basic base64("KEY:"))`)
		}
		if key = c.match(req.writeKey); key < 0 {
			return fail(errUnauthorized, "wrong write key")
		}
	}
	if err := c.allow(r.Context(), key, ip, len(req.items), receivedAt); err != nil {
		return err
	}
	c.metrics.batchEvents.Observe(float64(len(req.items)))
	return c.ingest(w, r, req, envelope{receivedAt: receivedAt, callType: callType, sentAt: req.sentAt, context: req.context})
}

// ingest validates every message, appends the valid ones to the stream,
// dead-letters the others and answers. Nothing is acknowledged unless all
// of that succeeded.
func (c *Collector) ingest(w http.ResponseWriter, r *http.Request, req request, env envelope) error {
	v := c.judge(req, env)
	ctx, cancel := context.WithTimeout(r.Context(), publishTimeout)
	defer cancel()
	if err := c.record(ctx, v); err != nil {
		return err
	}
	if len(v.accepted) > 0 {
		c.metrics.events.WithLabelValues(resultAccepted, "none").Add(float64(len(v.accepted)))
	}
	for i, code := range v.codes {
		c.metrics.events.WithLabelValues(resultRejected, code).Inc()
		c.log.Debug("rejected event", "index", v.rejected[i].Index, "messageId", v.rejected[i].MessageID, "reason", code)
	}
	if len(v.accepted) == 0 {
		detail := fmt.Sprintf("none of the %d messages was accepted; see errors for each one's reason", len(req.items))
		if env.callType != "" {
			detail = "the message was rejected: " + v.rejected[0].Reason
		}
		return &requestError{kind: errInvalidEvents, detail: detail, events: v.rejected}
	}
	rejected := v.rejected
	if rejected == nil {
		rejected = []rejectedEvent{}
	}
	httpjson.Encode(w, http.StatusOK, batchResponse{Success: true, Accepted: len(v.accepted), Rejected: rejected})
	return nil
}

// verdicts sorts a request's messages: accepted events, and the rejected
// messages with their reasons, metric codes and raw JSON, in order.
type verdicts struct {
	total    int
	accepted []souq.Event
	rejected []rejectedEvent
	codes    []string
	raws     [][]byte
}

// judge validates each message of req. Of several valid messages with the
// same messageId, the first is accepted.
func (c *Collector) judge(req request, env envelope) verdicts {
	v := verdicts{total: len(req.items), accepted: make([]souq.Event, 0, len(req.items))}
	seen := make(map[string]struct{}, len(req.items))
	batchCard := cardData(env.context)
	for i, raw := range req.items {
		ev, rej := c.schemas.parseMessage(raw, env)
		if rej == nil && batchCard != "" {
			rej = reject(codeCardData, "the batch's context/%s looks like a payment card number or security code; Souq never stores card data", batchCard)
		}
		if _, dup := seen[ev.MessageID]; rej == nil && dup {
			rej = reject(codeDuplicate, "duplicate messageId in batch: the first message with it was kept")
		}
		if rej != nil {
			v.rejected = append(v.rejected, rejectedEvent{Index: i, MessageID: clip(ev.MessageID), Reason: rej.reason})
			v.codes = append(v.codes, rej.code)
			v.raws = append(v.raws, raw)
			continue
		}
		seen[ev.MessageID] = struct{}{}
		v.accepted = append(v.accepted, ev)
	}
	return v
}

// record appends the accepted events to the stream, then dead-letters the
// rejected messages (card data redacted). Either failing is a 503: the
// client retries the whole request, and the stream drops the events it
// already holds by messageId.
func (c *Collector) record(ctx context.Context, v verdicts) error {
	if len(v.accepted) > 0 {
		start := time.Now()
		errs, err := c.pub.PublishBatch(ctx, v.accepted)
		c.metrics.append.Observe(time.Since(start).Seconds())
		if err == nil {
			err = firstError(errs, len(v.accepted))
		}
		if err != nil {
			c.metrics.events.WithLabelValues(resultFailed, "publish").Add(float64(v.total))
			c.log.Error("publish events", "events", len(v.accepted), "err", err)
			return &requestError{kind: errUnavailable, retryAfter: "1",
				detail: "the event stream could not take the events, so none from this request was accepted; retry the whole request (messageIds make a retry safe)"}
		}
	}
	for i, raw := range v.raws {
		if err := c.dead.DeadLetter(ctx, v.rejected[i].Reason, redact(raw)); err != nil {
			c.metrics.events.WithLabelValues(resultFailed, "dead_letter").Add(float64(v.total))
			c.log.Error("dead-letter rejected event", "index", v.rejected[i].Index, "err", err)
			return &requestError{kind: errUnavailable, retryAfter: "1",
				detail: "the rejected events could not be recorded; retry the whole request (events already accepted are deduplicated by messageId)"}
		}
	}
	return nil
}

// firstError checks a Publisher's per-event results.
func firstError(errs []error, n int) error {
	if errs == nil {
		return nil
	}
	if len(errs) != n {
		return fmt.Errorf("publisher returned %d results for %d events", len(errs), n)
	}
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
	}
	return nil
}

// headerKey reads the write key from HTTP Basic credentials: the username,
// with an empty password (Segment also accepts base64 of the bare key,
// without the colon). sent reports whether Basic credentials were present;
// key is the index of the matching write key, or -1.
func (c *Collector) headerKey(r *http.Request) (key int, sent bool) {
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return -1, false
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return -1, true
	}
	user, _, _ := strings.Cut(string(dec), ":")
	return c.match(user), true
}

// match returns the index of the write key equal to k, or -1, comparing
// hashes in constant time against every key.
func (c *Collector) match(k string) int {
	if k == "" {
		return -1
	}
	sum := sha256.Sum256([]byte(k))
	found := -1
	for i := range c.keys {
		if subtle.ConstantTimeCompare(sum[:], c.keys[i][:]) == 1 && found < 0 {
			found = i
		}
	}
	return found
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

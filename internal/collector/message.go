package collector

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	json "github.com/segmentio/encoding/json"

	"github.com/souq-commerce/souq/internal/httpjson"
	"github.com/souq-commerce/souq/internal/souq"
)

// Limits. The byte limits are Segment's own, so SDKs already respect them.
const (
	// MaxBodyBytes caps a request body, and separately its decompressed
	// size when it is gzip-encoded (Segment: 500 KB per batch request).
	MaxBodyBytes = 500 << 10
	// MaxEventBytes caps one message in its JSON form (Segment: 32 KB).
	MaxEventBytes = 32 << 10
	// MaxBatchEvents caps the messages in one batch.
	MaxBatchEvents = 1000
	// MaxMessageIDLen caps a messageId, which becomes the stream's
	// deduplication id.
	MaxMessageIDLen = 100
	// maxIDLen caps userId and anonymousId.
	maxIDLen = 255
	// MaxFuture is how far past the time it was received an event's
	// (corrected) timestamp may lie.
	MaxFuture = 24 * time.Hour
	// MaxAge is how far before the time it was received an event's
	// (corrected) timestamp may lie: older events, such as a historical
	// import, are rejected.
	MaxAge = 30 * 24 * time.Hour
)

// Reason codes label rejected events in metrics; the reason text sent to the
// client says more.
const (
	codeMalformed = "malformed"  // not an object, or a field of the wrong JSON type
	codeTooLarge  = "too_large"  // larger than MaxEventBytes
	codeType      = "type"       // missing or unsupported type
	codeMessageID = "message_id" // missing or invalid messageId
	codeIdentity  = "identity"   // neither userId nor anonymousId, or too long
	codeEventName = "event_name" // missing or unknown track event name
	codeServer    = "server_event"
	codeSchema    = "schema"    // properties or traits break the event's schema
	codeTimestamp = "timestamp" // unparseable, too far in the future or the past
	codeMarket    = "market"    // context.market is not a Souq market
	codeCardData  = "card_data" // looks like a payment card number or security code
	codeDuplicate = "duplicate" // messageId repeated within the batch
)

// rejection is why one message was not accepted.
type rejection struct {
	code   string // one of the codes above: a metric label
	reason string // for the client and the dead-letter record
}

func reject(code, format string, args ...any) *rejection {
	return &rejection{code: code, reason: fmt.Sprintf(format, args...)}
}

// wireMessage is a Segment message as SDKs send it. Fields Souq does not
// keep (integrations, version, channel, _metadata, …) are ignored.
type wireMessage struct {
	Type              string          `json:"type"`
	MessageID         string          `json:"messageId"`
	Event             string          `json:"event"`
	Name              string          `json:"name"`
	UserID            json.RawMessage `json:"userId"`
	AnonymousID       json.RawMessage `json:"anonymousId"`
	Timestamp         string          `json:"timestamp"`
	OriginalTimestamp string          `json:"originalTimestamp"`
	SentAt            string          `json:"sentAt"`
	Properties        json.RawMessage `json:"properties"`
	Traits            json.RawMessage `json:"traits"`
	Context           json.RawMessage `json:"context"`
}

// envelope is what a request adds to each of its messages.
type envelope struct {
	receivedAt time.Time
	callType   string          // the type implied by /v1/track, /v1/page or /v1/identify; "" for a batch
	sentAt     string          // the batch's sentAt, used by messages without their own
	context    json.RawMessage // the batch's context, merged under each message's
}

// parseMessage validates one raw message and turns it into the event the
// stream stores.
func (s *schemaSet) parseMessage(raw []byte, env envelope) (souq.Event, *rejection) {
	if len(raw) > MaxEventBytes {
		return souq.Event{}, reject(codeTooLarge, "event is larger than 32 KB (%d bytes)", len(raw))
	}
	if t := jsonKind(raw); t != "object" {
		return souq.Event{}, reject(codeMalformed, "event must be a JSON object, not %s", jsonArticle(t))
	}
	var m wireMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return souq.Event{}, fieldTypeRejection(err)
	}
	ev := souq.Event{MessageID: m.MessageID, ReceivedAt: env.receivedAt}
	if r := checkType(&m, env.callType); r != nil {
		return ev, r
	}
	ev.Type = m.Type
	if r := checkMessageID(m.MessageID); r != nil {
		return ev, r
	}
	var r *rejection
	if ev.UserID, r = identity("userId", m.UserID); r != nil {
		return ev, r
	}
	if ev.AnonymousID, r = identity("anonymousId", m.AnonymousID); r != nil {
		return ev, r
	}
	if ev.UserID == "" && ev.AnonymousID == "" {
		return ev, reject(codeIdentity, "userId or anonymousId is required")
	}
	if r := s.checkPayload(&ev, &m); r != nil {
		return ev, r
	}
	if ev.Timestamp, r = eventTime(m, env); r != nil {
		return ev, r
	}
	ev.Timestamp = ev.Timestamp.Truncate(time.Microsecond)
	if ev.Context, r = mergeContext(env.context, m.Context); r != nil {
		return ev, r
	}
	if r := checkMarket(ev.Context); r != nil {
		return ev, r
	}
	if at := cardData(raw); at != "" {
		return ev, reject(codeCardData, "%s looks like a payment card number or security code; Souq never stores card data", at)
	}
	return ev, nil
}

func checkType(m *wireMessage, callType string) *rejection {
	switch {
	case callType != "" && m.Type != "" && m.Type != callType:
		return reject(codeType, "a %q message was sent to /v1/%s; send it to /v1/%s or /v1/batch", m.Type, callType, m.Type)
	case callType != "":
		m.Type = callType
	case m.Type == "":
		return reject(codeType, "type is required: track, page or identify")
	}
	switch m.Type {
	case "track", "page", "identify":
		return nil
	}
	return reject(codeType, "unsupported type %q; supported: track, page, identify", clip(m.Type))
}

func checkMessageID(id string) *rejection {
	switch {
	case id == "":
		return reject(codeMessageID, "messageId is required: a unique id per message, used to drop duplicates")
	case len(id) > MaxMessageIDLen:
		return reject(codeMessageID, "messageId is longer than %d characters", MaxMessageIDLen)
	}
	for i := range len(id) {
		if id[i] < 0x21 || id[i] > 0x7e {
			return reject(codeMessageID, "messageId may contain only printable ASCII characters without spaces")
		}
	}
	return nil
}

// identity reads userId or anonymousId: a string, or a number some SDKs
// send, kept as its decimal text.
func identity(field string, raw json.RawMessage) (string, *rejection) {
	var id string
	switch jsonKind(raw) {
	case "nothing", "null":
		return "", nil
	case "string":
		if err := json.Unmarshal(raw, &id); err != nil {
			return "", reject(codeMalformed, "%s is not a valid JSON string", field)
		}
	case "number":
		id = string(raw)
	default:
		return "", reject(codeMalformed, "%s must be a string, not %s", field, jsonArticle(jsonKind(raw)))
	}
	if len(id) > maxIDLen {
		return "", reject(codeIdentity, "%s is longer than %d characters", field, maxIDLen)
	}
	return id, nil
}

// checkPayload checks the call-specific part: a track call's event name and
// properties, a page call's name and properties, an identify call's traits.
func (s *schemaSet) checkPayload(ev *souq.Event, m *wireMessage) *rejection {
	switch m.Type {
	case "track":
		props, r := object("properties", m.Properties)
		if r != nil {
			return r
		}
		if r := s.checkEventName(m.Event); r != nil {
			return r
		}
		if reason := s.track[m.Event].validate("properties", props); reason != "" {
			return &rejection{code: codeSchema, reason: reason}
		}
		ev.Event, ev.Properties = m.Event, props
	case "page":
		props, r := object("properties", m.Properties)
		if r != nil {
			return r
		}
		if reason := s.page.validate("properties", props); reason != "" {
			return &rejection{code: codeSchema, reason: reason}
		}
		ev.Name, ev.Properties = m.Name, props
	case "identify":
		traits, r := object("traits", m.Traits)
		if r != nil {
			return r
		}
		if reason := s.identify.validate("traits", traits); reason != "" {
			return &rejection{code: codeSchema, reason: reason}
		}
		ev.Traits = traits
	}
	return nil
}

func (s *schemaSet) checkEventName(name string) *rejection {
	if name == "" {
		return reject(codeEventName, "event is required: the name of the track call, such as \"Product Viewed\"")
	}
	for _, se := range serverEvents {
		if strings.EqualFold(name, se) {
			return reject(codeServer, "%q is recorded by the server at checkout; do not send it from clients", se)
		}
	}
	if _, ok := s.track[name]; ok {
		return nil
	}
	for _, n := range s.names {
		if strings.EqualFold(n, name) {
			return reject(codeEventName, "unknown event %q; did you mean %q? Event names are case-sensitive", clip(name), n)
		}
	}
	return reject(codeEventName, "unknown event %q; supported: %s", clip(name), strings.Join(s.names, ", "))
}

// eventTime returns when the event happened: its timestamp (or, as
// RudderStack SDKs send it, originalTimestamp; or, with neither, the time it
// was received), corrected for the sending device's clock skew as Segment
// does when sentAt is known: timestamp + (receivedAt − sentAt).
func eventTime(m wireMessage, env envelope) (time.Time, *rejection) {
	ts, field := m.Timestamp, "timestamp"
	if ts == "" {
		ts, field = m.OriginalTimestamp, "originalTimestamp"
	}
	sent, sentField := m.SentAt, "sentAt"
	if sent == "" {
		sent, sentField = env.sentAt, "the batch's sentAt"
	}
	if ts == "" {
		return env.receivedAt, nil
	}
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return time.Time{}, reject(codeTimestamp, "%s is not an RFC 3339 time such as 2026-11-27T18:00:00.000Z", field)
	}
	if sent != "" {
		sentAt, err := time.Parse(time.RFC3339Nano, sent)
		if err != nil {
			return time.Time{}, reject(codeTimestamp, "%s is not an RFC 3339 time such as 2026-11-27T18:00:00.000Z", sentField)
		}
		at = at.Add(env.receivedAt.Sub(sentAt))
	}
	at = at.UTC()
	switch {
	case at.After(env.receivedAt.Add(MaxFuture)):
		return time.Time{}, reject(codeTimestamp, "%s %s is more than %s after the time it was received (%s)",
			field, at.Format(time.RFC3339), fmtDuration(MaxFuture), env.receivedAt.Format(time.RFC3339))
	case at.Before(env.receivedAt.Add(-MaxAge)):
		return time.Time{}, reject(codeTimestamp, "%s %s is more than %s before the time it was received (%s); historical imports are not supported",
			field, at.Format(time.RFC3339), fmtDuration(MaxAge), env.receivedAt.Format(time.RFC3339))
	}
	return at, nil
}

func fmtDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		if d == 24*time.Hour {
			return "1 day"
		}
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

// mergeContext returns the message's context with the batch's context
// fields it lacks added, as Segment merges them.
func mergeContext(batch, own json.RawMessage) (json.RawMessage, *rejection) {
	ctx, r := object("context", own)
	if r != nil || batch == nil {
		return ctx, r
	}
	if ctx == nil {
		return batch, nil
	}
	var b, o map[string]json.RawMessage
	if json.Unmarshal(batch, &b) != nil || json.Unmarshal(ctx, &o) != nil {
		return nil, reject(codeMalformed, "context is not a valid JSON object")
	}
	for k, v := range b {
		if _, ok := o[k]; !ok {
			o[k] = v
		}
	}
	merged, err := json.Marshal(o)
	if err != nil {
		return nil, reject(codeMalformed, "context is not a valid JSON object")
	}
	return merged, nil
}

// checkMarket requires context.market, when present, to be a Souq market.
func checkMarket(ctx json.RawMessage) *rejection {
	raw := member(ctx, "market")
	var code string
	switch jsonKind(raw) {
	case "nothing", "null":
		return nil
	case "string":
		if json.Unmarshal(raw, &code) == nil {
			if _, err := souq.LookupMarket(code); err == nil {
				return nil
			}
		}
	}
	codes := make([]string, 0, 6)
	for _, mc := range souq.MarketCodes() {
		codes = append(codes, string(mc))
	}
	return reject(codeMarket, "context.market must be one of %s", strings.Join(codes, ", "))
}

// object returns raw when it is a JSON object, nil when it is absent or
// null, and a rejection otherwise.
func object(field string, raw json.RawMessage) (json.RawMessage, *rejection) {
	switch k := jsonKind(raw); k {
	case "object":
		return raw, nil
	case "nothing", "null":
		return nil, nil
	default:
		return nil, reject(codeMalformed, "%s must be a JSON object, not %s", field, jsonArticle(k))
	}
}

// jsonKind names the JSON type of a raw value from its first byte.
func jsonKind(raw []byte) string {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// fieldTypeRejection explains a decoding error of a message whose JSON is
// well-formed (the request decoder has checked it): a field of the wrong type.
func fieldTypeRejection(err error) *rejection {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field != "" {
		return reject(codeMalformed, "field %q must be a %s, not %s", typ.Field, httpjson.TypeName(typ.Type.Kind()), valueKind(typ.Value))
	}
	return reject(codeMalformed, "event is not a valid JSON object")
}

// valueKind names, with its article, the JSON type of the value a decoding
// error quotes (the decoder quotes the input from the offending value on).
func valueKind(quoted string) string {
	v, err := strconv.Unquote(quoted)
	if err != nil {
		v = quoted
	}
	return jsonArticle(jsonKind([]byte(v)))
}

// clip shortens a client-supplied string quoted back in a reason.
func clip(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

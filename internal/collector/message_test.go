package collector

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func testSchemas(t testing.TB) *schemaSet {
	t.Helper()
	s, err := loadSchemas()
	if err != nil {
		t.Fatalf("load schemas: %v", err)
	}
	return s
}

// TestParseMessage checks the per-message rules: each case is one message
// and the rejection it must get (code and the start of the reason), or none.
func TestParseMessage(t *testing.T) {
	s := testSchemas(t)
	env := envelope{receivedAt: testNow}
	tests := []struct {
		name     string
		msg      msg
		callType string
		code     string // "" when the message must be accepted
		reason   string
	}{
		{name: "valid track", msg: viewed("m")},
		{name: "valid page without properties", msg: page("m", "Home").with("properties", nil)},
		{name: "valid identify without traits", msg: identify("m").with("traits", nil)},
		{name: "null properties", msg: track("m", "Cart Viewed", nil)},
		{name: "numeric userId", msg: identify("m").with("userId", 1234)},
		{name: "extra Segment fields ignored", msg: viewed("m").with("integrations", map[string]any{"All": true}, "version", 2, "channel", "server", "_metadata", map[string]any{})},
		{name: "extra properties allowed", msg: viewed("m").with("properties", map[string]any{"product_id": "prd_a", "colour": "rose"})},
		{name: "lower-case market", msg: viewed("m").with("context", map[string]any{"market": "kw"})},
		{name: "search query object", msg: track("m", "Products Searched", map[string]any{"query": map[string]any{"text": "oud"}})},
		{name: "checkout started", msg: track("m", "Checkout Started", map[string]any{"order_id": "o1", "value": 120.5, "currency": "SAR",
			"products": []any{map[string]any{"product_id": "prd_a", "quantity": 2, "price": 60.25}}})},

		{name: "missing type", msg: viewed("m").with("type", nil), code: codeType, reason: "type is required: track, page or identify"},
		{name: "screen is not supported", msg: viewed("m").with("type", "screen"), code: codeType, reason: `unsupported type "screen"; supported: track, page, identify`},
		{name: "type against endpoint", msg: identify("m"), callType: "page", code: codeType, reason: `a "identify" message was sent to /v1/page`},
		{name: "messageId missing", msg: viewed("m").with("messageId", nil), code: codeMessageID, reason: "messageId is required"},
		{name: "messageId too long", msg: viewed(strings.Repeat("m", MaxMessageIDLen+1)), code: codeMessageID, reason: "messageId is longer than 100 characters"},
		{name: "messageId with a space", msg: viewed("m 1"), code: codeMessageID, reason: "messageId may contain only printable ASCII"},
		{name: "messageId a number", msg: viewed("m").with("messageId", 7), code: codeMalformed, reason: `field "messageId" must be a string, not a number`},
		{name: "no ids", msg: viewed("m").with("anonymousId", nil), code: codeIdentity, reason: "userId or anonymousId is required"},
		{name: "empty ids", msg: viewed("m").with("anonymousId", "", "userId", ""), code: codeIdentity, reason: "userId or anonymousId is required"},
		{name: "userId an object", msg: viewed("m").with("userId", map[string]any{}), code: codeMalformed, reason: "userId must be a string, not an object"},
		{name: "anonymousId too long", msg: viewed("m").with("anonymousId", strings.Repeat("a", 256)), code: codeIdentity, reason: "anonymousId is longer than 255"},
		{name: "no event name", msg: viewed("m").with("event", nil), code: codeEventName, reason: "event is required"},
		{name: "unknown event", msg: viewed("m").with("event", "Wishlist Opened"), code: codeEventName,
			reason: `unknown event "Wishlist Opened"; supported: Cart Viewed, Checkout Started, Checkout Step Completed, Checkout Step Viewed, Payment Info Entered, Product Added, Product Clicked, Product List Filtered, Product List Viewed, Product Removed, Product Viewed, Products Searched, Promotion Clicked, Promotion Viewed`},
		{name: "event name in the wrong case", msg: viewed("m").with("event", "product viewed"), code: codeEventName, reason: `unknown event "product viewed"; did you mean "Product Viewed"?`},
		{name: "order completed", msg: track("m", "Order Completed", nil), code: codeServer, reason: `"Order Completed" is recorded by the server at checkout; do not send it from clients`},
		{name: "order cancelled", msg: track("m", "order cancelled", nil), code: codeServer, reason: `"Order Cancelled" is recorded by the server`},
		{name: "properties an array", msg: viewed("m").with("properties", []any{1}), code: codeMalformed, reason: "properties must be a JSON object, not an array"},
		{name: "traits a string", msg: identify("m").with("traits", "vip"), code: codeMalformed, reason: "traits must be a JSON object, not a string"},
		{name: "context a number", msg: viewed("m").with("context", 5), code: codeMalformed, reason: "context must be a JSON object, not a number"},
		{name: "product_id missing", msg: track("m", "Product Viewed", map[string]any{"sku": "SK-1"}), code: codeSchema, reason: "properties: missing property 'product_id'"},
		{name: "price a string", msg: viewed("m").with("properties", map[string]any{"product_id": "prd_a", "price": "89.50"}), code: codeSchema,
			reason: "properties/price: got string, want number"},
		{name: "quantity fractional", msg: track("m", "Product Removed", map[string]any{"product_id": "prd_a", "quantity": 1.5}), code: codeSchema,
			reason: "properties/quantity: got number, want integer"},
		{name: "cart product without id", msg: track("m", "Cart Viewed", map[string]any{"products": []any{map[string]any{"sku": "x"}}}), code: codeSchema,
			reason: "properties/products/0: missing property 'product_id'"},
		{name: "search without query", msg: track("m", "Products Searched", map[string]any{}), code: codeSchema, reason: "properties: missing property 'query'"},
		{name: "page title a number", msg: page("m", "Home").with("properties", map[string]any{"title": 5}), code: codeSchema, reason: "properties/title: got number, want string"},
		{name: "identify email a bool", msg: identify("m").with("traits", map[string]any{"email": true}), code: codeSchema, reason: "traits/email: got boolean, want string"},
		{name: "timestamp not RFC 3339", msg: viewed("m").with("timestamp", "27/11/2026 18:00"), code: codeTimestamp, reason: "timestamp is not an RFC 3339 time"},
		{name: "timestamp a number", msg: viewed("m").with("timestamp", 1798394400000), code: codeMalformed, reason: `field "timestamp" must be a string, not a number`},
		{name: "sentAt not RFC 3339", msg: viewed("m").with("sentAt", "yesterday"), code: codeTimestamp, reason: "sentAt is not an RFC 3339 time"},
		{name: "future timestamp", msg: viewed("m").with("timestamp", "2026-11-28T18:00:01Z"), code: codeTimestamp,
			reason: "timestamp 2026-11-28T18:00:01Z is more than 1 day after the time it was received (2026-11-27T18:00:00Z)"},
		{name: "future timestamp explained by skew", msg: viewed("m").with("timestamp", "2026-11-29T18:00:00Z", "sentAt", "2026-11-29T18:00:05Z")},
		{name: "old timestamp", msg: viewed("m").with("timestamp", "2026-10-28T17:59:59Z"), code: codeTimestamp,
			reason: "timestamp 2026-10-28T17:59:59Z is more than 30 days before the time it was received"},
		{name: "unknown market", msg: viewed("m").with("context", map[string]any{"market": "EG"}), code: codeMarket, reason: "context.market must be one of AE, SA, QA, KW, BH, OM"},
		{name: "market a number", msg: viewed("m").with("context", map[string]any{"market": 971}), code: codeMarket, reason: "context.market must be one of"},
		{name: "card number in context", msg: viewed("m").with("context", map[string]any{"page": map[string]any{"url": "https://souq.example/pay?c=5555-5555-5555-4444"}}),
			code: codeCardData, reason: "context/page/url looks like a payment card number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := env
			e.callType = tt.callType
			ev, rej := s.parseMessage(mustJSON(t, tt.msg), e)
			switch {
			case tt.code == "" && rej != nil:
				t.Fatalf("got rejected %s: %s, want accepted", rej.code, rej.reason)
			case tt.code == "":
				if ev.MessageID == "" || ev.Type == "" || ev.Timestamp.IsZero() || !ev.ReceivedAt.Equal(testNow) {
					t.Fatalf("accepted event is incomplete: %+v", ev)
				}
			case rej == nil:
				t.Fatalf("got accepted, want rejected %s", tt.code)
			case rej.code != tt.code || !strings.HasPrefix(rej.reason, tt.reason):
				t.Fatalf("got %s: %q, want %s: %q…", rej.code, rej.reason, tt.code, tt.reason)
			}
		})
	}
}

func TestParseMessageKeepsFields(t *testing.T) {
	s := testSchemas(t)
	raw := []byte(`{"type":"track","event":"Product Added","messageId":"ajs-next-1","userId":"u1","anonymousId":"a1",
		"timestamp":"2026-11-27T17:00:00.123Z","properties":{"product_id":"prd_a","quantity":2,"on_sale":true},
		"context":{"market":"QA","page":{"path":"/p/prd_a"}},"integrations":{"All":true}}`)
	ev, rej := s.parseMessage(raw, envelope{receivedAt: testNow})
	if rej != nil {
		t.Fatalf("rejected: %s", rej.reason)
	}
	if ev.Event != "Product Added" || ev.UserID != "u1" || ev.AnonymousID != "a1" || ev.Type != "track" || ev.MessageID != "ajs-next-1" {
		t.Fatalf("identity fields: got %+v", ev)
	}
	if want := time.Date(2026, 11, 27, 17, 0, 0, 123e6, time.UTC); !ev.Timestamp.Equal(want) {
		t.Fatalf("timestamp: got %v, want %v", ev.Timestamp, want)
	}
	var props, ctx map[string]any
	if err := json.Unmarshal(ev.Properties, &props); err != nil || props["on_sale"] != true || props["quantity"] != 2.0 {
		t.Fatalf("properties: got %s (%v), want them unchanged", ev.Properties, err)
	}
	if err := json.Unmarshal(ev.Context, &ctx); err != nil || ctx["market"] != "QA" {
		t.Fatalf("context: got %s (%v), want it unchanged", ev.Context, err)
	}
	if ev.Traits != nil || ev.Name != "" {
		t.Fatalf("a track event has no traits or page name: got %+v", ev)
	}
}

package collector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/souq"
)

func TestBatchAccepted(t *testing.T) {
	f := newFixture(t, nil)
	ctx := map[string]any{"market": "AE", "locale": "ar-AE"}
	body := batchBody(t,
		viewed("m1").with("context", ctx),
		page("m2", "Product"),
		identify("m3"),
	)
	resp := decodeResponse(t, f.post(t, "/v1/batch", body))
	if diff := cmp.Diff(batchResponse{Success: true, Accepted: 3, Rejected: []rejectedEvent{}}, resp); diff != "" {
		t.Fatalf("response (-want +got):\n%s", diff)
	}
	want := []souq.Event{
		{MessageID: "m1", Type: "track", Event: "Product Viewed", Timestamp: time.Date(2026, 11, 27, 17, 59, 0, 0, time.UTC),
			ReceivedAt: testNow, AnonymousID: "anon-1",
			Properties: json.RawMessage(`{"currency":"AED","price":89.5,"product_id":"prd_a","sku":"SK-1"}`),
			Context:    json.RawMessage(`{"locale":"ar-AE","market":"AE"}`)},
		{MessageID: "m2", Type: "page", Name: "Product", Timestamp: time.Date(2026, 11, 27, 17, 58, 0, 0, time.UTC),
			ReceivedAt: testNow, UserID: "user-7", Properties: json.RawMessage(`{"path":"/products/prd_a","title":"Product"}`)},
		{MessageID: "m3", Type: "identify", Timestamp: testNow, ReceivedAt: testNow, UserID: "user-7",
			Traits: json.RawMessage(`{"email":"mariam@example.ae"}`)},
	}
	if diff := cmp.Diff(want, f.pub.events); diff != "" {
		t.Fatalf("published events (-want +got):\n%s", diff)
	}
	if len(f.dead.letters) != 0 {
		t.Fatalf("dead letters: got %d, want none", len(f.dead.letters))
	}
	if got := eventsTotal(t, f, resultAccepted, "none"); got != 3 {
		t.Fatalf("accepted events metric: got %v, want 3", got)
	}
}

// TestMixedBatch is the documented policy: valid events are published,
// invalid ones are listed and dead-lettered, and the answer is 200.
func TestMixedBatch(t *testing.T) {
	f := newFixture(t, nil)
	big := strings.Repeat("x", MaxEventBytes)
	items := []any{
		viewed("ok-1"),
		track("bad-event", "Product Liked", map[string]any{"product_id": "prd_a"}),
		viewed("").with("messageId", nil),
		viewed("no-ids").with("anonymousId", nil),
		track("order", "Order Completed", map[string]any{"order_id": "ord_1"}),
		viewed("big").with("properties", map[string]any{"product_id": "prd_a", "name": big}),
		"not an object",
		viewed("ok-1").with("properties", map[string]any{"product_id": "prd_b"}),
		page("ok-2", "Home"),
		track("bad-qty", "Product Added", map[string]any{"product_id": "prd_a", "quantity": 0}),
	}
	body := batchBody(t, items...)
	resp := decodeResponse(t, f.post(t, "/v1/batch", body))

	wantRejected := []struct {
		index  int
		id     string
		reason string
		code   string
	}{
		{1, "bad-event", `unknown event "Product Liked"; supported: Cart Viewed, `, codeEventName},
		{2, "", "messageId is required", codeMessageID},
		{3, "no-ids", "userId or anonymousId is required", codeIdentity},
		{4, "order", `"Order Completed" is recorded by the server at checkout; do not send it from clients`, codeServer},
		{5, "", "event is larger than 32 KB", codeTooLarge},
		{6, "", "event must be a JSON object, not a string", codeMalformed},
		{7, "ok-1", "duplicate messageId in batch", codeDuplicate},
		{9, "bad-qty", "properties/quantity: minimum: got 0, want 1", codeSchema},
	}
	if resp.Accepted != 2 || len(resp.Rejected) != len(wantRejected) {
		t.Fatalf("got accepted %d rejected %d (%+v), want 2 and %d", resp.Accepted, len(resp.Rejected), resp.Rejected, len(wantRejected))
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &struct{ Batch *[]json.RawMessage }{&raws}); err != nil {
		t.Fatal(err)
	}
	for i, w := range wantRejected {
		got := resp.Rejected[i]
		if got.Index != w.index || got.MessageID != w.id || !strings.HasPrefix(got.Reason, w.reason) {
			t.Errorf("rejected[%d]: got %+v, want index %d, messageId %q, reason starting %q", i, got, w.index, w.id, w.reason)
		}
		if dl := f.dead.letters[i]; dl.Reason != got.Reason || dl.Raw != string(raws[w.index]) {
			t.Errorf("dead letter %d: got reason %q raw %.80s, want reason %q and item %d's raw message", i, dl.Reason, dl.Raw, got.Reason, w.index)
		}
		if n := eventsTotal(t, f, resultRejected, w.code); n < 1 {
			t.Errorf("metric rejected{reason=%q}: got %v, want at least 1", w.code, n)
		}
	}
	if len(f.dead.letters) != len(wantRejected) {
		t.Fatalf("dead letters: got %d, want %d", len(f.dead.letters), len(wantRejected))
	}
	var gotIDs []string
	for _, ev := range f.pub.events {
		gotIDs = append(gotIDs, ev.MessageID+"/"+string(ev.Properties))
	}
	wantIDs := []string{`ok-1/{"currency":"AED","price":89.5,"product_id":"prd_a","sku":"SK-1"}`, `ok-2/{"path":"/products/prd_a","title":"Home"}`}
	if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
		t.Fatalf("published (-want +got):\n%s", diff)
	}
}

// TestBadRequests covers answers about the request as a whole.
func TestBadRequests(t *testing.T) {
	manyItems := make([]any, MaxBatchEvents+1)
	for i := range manyItems {
		manyItems[i] = identify(fmt.Sprint("m", i))
	}
	// A batch whose JSON is over the body limit, and compresses well.
	var huge []any
	for i := 0; len(huge)*600 < MaxBodyBytes+50_000; i++ {
		huge = append(huge, viewed(fmt.Sprint("h", i)).with("properties", map[string]any{"product_id": "prd_a", "name": strings.Repeat("n", 500)}))
	}
	hugeBody := batchBody(t, huge...)
	if len(hugeBody) <= MaxBodyBytes {
		t.Fatalf("test batch is %d bytes, want more than %d", len(hugeBody), MaxBodyBytes)
	}
	tests := []struct {
		name       string
		path       string
		body       []byte
		headers    []string
		status     int
		detail     string
		deadLetter int
	}{
		{name: "malformed JSON", path: "/v1/batch", body: []byte(`{"batch": [`), status: 400, detail: "malformed JSON"},
		{name: "syntax error", path: "/v1/batch", body: []byte(`{"batch": [}`), status: 400, detail: "malformed JSON at byte"},
		{name: "not an object", path: "/v1/batch", body: []byte(`[{"type":"track"}]`), status: 400, detail: "the body must be a JSON object, not an array"},
		{name: "empty body", path: "/v1/batch", body: nil, status: 400, detail: "request body is empty"},
		{name: "invalid UTF-8", path: "/v1/batch", status: 400, detail: `field "batch[1].anonymousId" is not valid UTF-8`,
			body: []byte("{\"batch\":[{\"type\":\"track\",\"event\":\"Product Viewed\",\"messageId\":\"m1\",\"anonymousId\":\"x\",\"properties\":{\"product_id\":\"p1\"}},{\"type\":\"track\",\"event\":\"Product Viewed\",\"messageId\":\"m2\",\"anonymousId\":\"\xff\xfe\",\"properties\":{\"product_id\":\"p1\"}}]}")},
		{name: "lone surrogate escape", path: "/v1/track", status: 400, detail: `field "anonymousId" is not valid UTF-8`,
			body: []byte(`{"event":"Product Viewed","messageId":"m4","anonymousId":"x\ud800","properties":{"product_id":"p1"}}`)},
		{name: "invalid UTF-8 in a single call", path: "/v1/track", status: 400, detail: `field "properties.name" is not valid UTF-8`,
			body: []byte("{\"event\":\"Product Viewed\",\"messageId\":\"m3\",\"anonymousId\":\"x\",\"properties\":{\"product_id\":\"p1\",\"name\":\"\xc3\"}}")},
		{name: "no batch", path: "/v1/batch", body: []byte(`{"messages": []}`), status: 400, detail: `the body must have a "batch" array`},
		{name: "batch not an array", path: "/v1/batch", body: []byte(`{"batch": {"type": "track"}}`), status: 400, detail: `"batch" must be an array of messages, not an object`},
		{name: "empty batch", path: "/v1/batch", body: []byte(`{"batch": []}`), status: 400, detail: `"batch" is empty`},
		{name: "trailing data", path: "/v1/batch", body: []byte(`{"batch": []} {}`), status: 400, detail: "data after the JSON value"},
		{name: "sentAt not a string", path: "/v1/batch", body: []byte(`{"batch": [{}], "sentAt": 5}`), status: 400, detail: `field "sentAt" must be a string, not a number`},
		{name: "batch context not an object", path: "/v1/batch", body: []byte(`{"batch": [{}], "context": "AE"}`), status: 400, detail: `"context" must be a JSON object`},
		{name: "too many messages", path: "/v1/batch", body: batchBody(t, manyItems...), status: 413, detail: "the batch has 1001 messages; the limit is 1000"},
		{name: "body too large", path: "/v1/batch", body: hugeBody, status: 413, detail: "request body is larger than 500 KB"},
		{name: "gzip body too large when decompressed", path: "/v1/batch", body: gzipped(t, hugeBody), headers: []string{"Content-Encoding", "gzip"},
			status: 413, detail: "decompressed request body is larger than 500 KB"},
		{name: "not gzip", path: "/v1/batch", body: []byte(`{"batch": []}`), headers: []string{"Content-Encoding", "gzip"}, status: 400, detail: "not valid gzip"},
		{name: "unsupported encoding", path: "/v1/batch", body: []byte(`{}`), headers: []string{"Content-Encoding", "br"}, status: 415, detail: `unsupported Content-Encoding "br"`},
		{name: "every message invalid", path: "/v1/batch", body: batchBody(t, viewed("a").with("event", "Nope"), identify("")), status: 400,
			detail: "none of the 2 messages was accepted", deadLetter: 2},
		{name: "single message not an object", path: "/v1/track", body: []byte(`"Product Viewed"`), status: 400, detail: "the body must be a JSON object, not a string"},
		{name: "single message malformed", path: "/v1/page", body: []byte(`{"type":`), status: 400, detail: "malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			p := decodeProblem(t, f.post(t, tt.path, tt.body, tt.headers...), tt.status)
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail: got %q, want it to contain %q", p.Detail, tt.detail)
			}
			if len(f.pub.events) != 0 {
				t.Errorf("published: got %d events, want none", len(f.pub.events))
			}
			if len(f.dead.letters) != tt.deadLetter {
				t.Errorf("dead letters: got %d, want %d", len(f.dead.letters), tt.deadLetter)
			}
			if tt.deadLetter > 0 && len(p.Errors) != tt.deadLetter {
				t.Errorf("problem errors: got %d (%+v), want %d", len(p.Errors), p.Errors, tt.deadLetter)
			}
		})
	}
}

func TestGzipBody(t *testing.T) {
	f := newFixture(t, nil)
	body := gzipped(t, batchBody(t, viewed("g1"), page("g2", "Home")))
	resp := decodeResponse(t, f.post(t, "/v1/batch", body, "Content-Encoding", "gzip"))
	if resp.Accepted != 2 || len(f.pub.events) != 2 || f.pub.events[1].MessageID != "g2" {
		t.Fatalf("got accepted %d, published %+v; want both messages", resp.Accepted, f.pub.events)
	}
}

// TestAnalyticsJSBatch sends what analytics.js (analytics-next) sends in
// its batching mode: POST /b, text/plain, the write key in the body.
func TestAnalyticsJSBatch(t *testing.T) {
	f := newFixture(t, nil)
	body := mustJSON(t, map[string]any{"writeKey": testKey, "sentAt": "2026-11-27T17:59:59.000Z",
		"batch": []any{viewed("ajs-1").with("writeKey", testKey, "_metadata", map[string]any{"bundled": []string{"Segment.io"}})}})
	rec := f.post(t, "/v1/b", body, "Authorization", "", "Content-Type", "text/plain")
	if resp := decodeResponse(t, rec); resp.Accepted != 1 || len(f.pub.events) != 1 || f.pub.events[0].MessageID != "ajs-1" {
		t.Fatalf("got %+v, published %+v; want ajs-1 accepted", resp, f.pub.events)
	}
	if want := time.Date(2026, 11, 27, 17, 59, 1, 0, time.UTC); !f.pub.events[0].Timestamp.Equal(want) {
		t.Fatalf("timestamp corrected by the batch's sentAt: got %v, want %v", f.pub.events[0].Timestamp, want)
	}
}

func TestAuth(t *testing.T) {
	valid := batchBody(t, viewed("a1"))
	tests := []struct {
		name    string
		keys    []string
		body    []byte
		auth    string
		status  int
		detail  string
		publish int
	}{
		{name: "basic with empty password", keys: []string{testKey}, body: valid, auth: basic(testKey + ":"), status: 200, publish: 1},
		{name: "basic without the colon", keys: []string{testKey}, body: valid, auth: basic(testKey), status: 200, publish: 1},
		{name: "second of two keys", keys: []string{"other", testKey}, body: valid, auth: basic(testKey + ":"), status: 200, publish: 1},
		{name: "writeKey in the body", keys: []string{testKey}, body: mustJSON(t, map[string]any{"batch": []any{viewed("a1")}, "writeKey": testKey}), status: 200, publish: 1},
		{name: "writeKey in a single message", keys: []string{testKey}, body: mustJSON(t, viewed("a1").with("writeKey", testKey)), status: 200, publish: 1},
		{name: "wrong key", keys: []string{testKey}, body: valid, auth: basic("nope:"), status: 401, detail: "wrong write key"},
		{name: "empty username", keys: []string{testKey}, body: valid, auth: basic(":" + testKey), status: 401, detail: "wrong write key"},
		{name: "not base64", keys: []string{testKey}, body: valid, auth: "Basic %%%", status: 401, detail: "wrong write key"},
		{name: "missing", keys: []string{testKey}, body: valid, status: 401, detail: "send your write key as the HTTP Basic username"},
		{name: "wrong key in the body", keys: []string{testKey}, body: mustJSON(t, map[string]any{"batch": []any{viewed("a1")}, "writeKey": "nope"}), status: 401, detail: "wrong write key"},
		{name: "bearer token is not a write key", keys: []string{testKey}, body: valid, auth: "Bearer " + testKey, status: 401, detail: "send your write key"},
		{name: "collector disabled", keys: nil, body: valid, auth: basic(testKey + ":"), status: 401, detail: "start the server with SOUQ_WRITE_KEY set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(d *Deps) { d.WriteKeys = tt.keys })
			path := "/v1/batch"
			if strings.Contains(tt.name, "single") {
				path = "/v1/track"
			}
			rec := f.post(t, path, tt.body, "Authorization", tt.auth)
			if tt.status == http.StatusOK {
				decodeResponse(t, rec)
			} else {
				p := decodeProblem(t, rec, tt.status)
				if !strings.Contains(p.Detail, tt.detail) {
					t.Errorf("detail: got %q, want it to contain %q", p.Detail, tt.detail)
				}
				if got := rec.Header().Get("WWW-Authenticate"); got != `Basic realm="souq"` {
					t.Errorf("WWW-Authenticate: got %q, want Basic realm=\"souq\"", got)
				}
			}
			if len(f.pub.events) != tt.publish {
				t.Errorf("published: got %d, want %d", len(f.pub.events), tt.publish)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t, func(d *Deps) { d.RatePerSecond = 10; d.Burst = 1000 })
	decodeResponse(t, f.post(t, "/v1/batch", batchBody(t, identifies("a", 600)...)))

	// 400 tokens left; 600 more need 200 more tokens: 20 s at 10 a second.
	rec := f.post(t, "/v1/batch", batchBody(t, identifies("b", 600)...))
	decodeProblem(t, rec, http.StatusTooManyRequests)
	if got, reset := rec.Header().Get("Retry-After"), rec.Header().Get("X-RateLimit-Reset"); got != "20" || reset != "20" {
		t.Fatalf("Retry-After, X-RateLimit-Reset: got %q, %q, want 20 and 20", got, reset)
	}
	if len(f.pub.events) != 600 {
		t.Fatalf("published: got %d, want 600 (nothing from the limited request)", len(f.pub.events))
	}

	// Another client (another IP) has its own bucket.
	req := httptest.NewRequest(http.MethodPost, "/v1/batch", bytes.NewReader(batchBody(t, identifies("c", 600)...)))
	req.Header.Set("Authorization", basic(testKey+":"))
	req.RemoteAddr = "198.51.100.7:4321"
	other := httptest.NewRecorder()
	f.mux.ServeHTTP(other, req)
	decodeResponse(t, other)

	f.advance(20 * time.Second)
	decodeResponse(t, f.post(t, "/v1/batch", batchBody(t, identifies("b", 600)...)))

	// The bucket is empty now: the next request is refused before its body is read.
	rec = f.post(t, "/v1/batch", []byte(`not even JSON`))
	decodeProblem(t, rec, http.StatusTooManyRequests)
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Fatalf("Retry-After on an empty bucket: got %q, want 1", got)
	}
}

func TestUnavailable(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(f *fixture)
		published int
		dead      int
	}{
		{name: "publisher fails", edit: func(f *fixture) { f.pub.failCall = errors.New("stream down") }},
		{name: "publisher fails one event", edit: func(f *fixture) { f.pub.failEvent = map[string]error{"u2": errors.New("no ack")} }, published: 1},
		{name: "dead letters fail", edit: func(f *fixture) { f.dead.fail = errors.New("disk full") }, published: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			tt.edit(f)
			rec := f.post(t, "/v1/batch", batchBody(t, viewed("u1"), viewed("u2"), viewed("u3").with("event", "Nope")))
			p := decodeProblem(t, rec, http.StatusServiceUnavailable)
			if got := rec.Header().Get("Retry-After"); got != "1" {
				t.Errorf("Retry-After: got %q, want 1", got)
			}
			if strings.Contains(rec.Body.String(), `"accepted"`) || len(p.Errors) != 0 {
				t.Errorf("a 503 must not report events: got %s", rec.Body)
			}
			if len(f.pub.events) != tt.published || len(f.dead.letters) != tt.dead {
				t.Errorf("got %d published, %d dead letters; want %d and %d", len(f.pub.events), len(f.dead.letters), tt.published, tt.dead)
			}
			if got := eventsTotal(t, f, resultAccepted, "none"); got != 0 {
				t.Errorf("accepted metric: got %v, want 0", got)
			}
		})
	}
}

// TestRetryAfterFailureIsSafe replays a request that failed with 503: the
// second attempt succeeds and reports every event.
func TestRetryAfterFailureIsSafe(t *testing.T) {
	f := newFixture(t, nil)
	body := batchBody(t, viewed("r1"), viewed("r2").with("event", "Nope"))
	f.dead.fail = errors.New("disk full")
	decodeProblem(t, f.post(t, "/v1/batch", body), http.StatusServiceUnavailable)
	f.dead.fail = nil
	resp := decodeResponse(t, f.post(t, "/v1/batch", body))
	if resp.Accepted != 1 || len(resp.Rejected) != 1 || len(f.dead.letters) != 1 {
		t.Fatalf("retry: got accepted %d rejected %d dead letters %d, want 1, 1, 1", resp.Accepted, len(resp.Rejected), len(f.dead.letters))
	}
	// The publisher saw r1 twice; the stream deduplicates it by messageId.
	if f.pub.calls != 2 || f.pub.events[0].MessageID != "r1" || f.pub.events[1].MessageID != "r1" {
		t.Fatalf("publisher: got %d calls, events %v; want r1 published on both attempts", f.pub.calls, f.pub.events)
	}
}

func TestSingleMessageEndpoints(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		body   msg
		status int
		want   string // type of the published event, or the start of the problem detail
	}{
		{name: "track", path: "/v1/track", body: viewed("s1").with("type", nil), status: 200, want: "track"},
		{name: "track with its type", path: "/v1/track", body: viewed("s1"), status: 200, want: "track"},
		{name: "page", path: "/v1/page", body: page("s2", "Home").with("type", nil), status: 200, want: "page"},
		{name: "identify", path: "/v1/identify", body: identify("s3").with("type", nil), status: 200, want: "identify"},
		{name: "analytics.js track", path: "/v1/t", body: viewed("s1").with("writeKey", testKey), status: 200, want: "track"},
		{name: "analytics.js page", path: "/v1/p", body: page("s2", "Home"), status: 200, want: "page"},
		{name: "analytics.js identify", path: "/v1/i", body: identify("s3"), status: 200, want: "identify"},
		{name: "page sent to track", path: "/v1/track", body: page("s4", "Home"), status: 400,
			want: `the message was rejected: a "page" message was sent to /v1/track`},
		{name: "unknown event", path: "/v1/track", body: viewed("s5").with("event", "Product Loved"), status: 400,
			want: `the message was rejected: unknown event "Product Loved"`},
		{name: "client order", path: "/v1/track", body: track("s6", "Order Completed", map[string]any{"order_id": "ord_1"}), status: 400,
			want: `the message was rejected: "Order Completed" is recorded by the server at checkout`},
		{name: "oversize", path: "/v1/identify", body: identify("s7").with("traits", map[string]any{"bio": strings.Repeat("b", MaxEventBytes)}), status: 400,
			want: "the message was rejected: event is larger than 32 KB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			rec := f.post(t, tt.path, mustJSON(t, tt.body))
			if tt.status == http.StatusOK {
				resp := decodeResponse(t, rec)
				if resp.Accepted != 1 || len(f.pub.events) != 1 || f.pub.events[0].Type != tt.want {
					t.Fatalf("got accepted %d, published %+v; want one %s event", resp.Accepted, f.pub.events, tt.want)
				}
				return
			}
			p := decodeProblem(t, rec, tt.status)
			if !strings.HasPrefix(p.Detail, tt.want) || len(p.Errors) != 1 || p.Errors[0].Index != 0 {
				t.Fatalf("got detail %q errors %+v, want a detail starting %q and one error", p.Detail, p.Errors, tt.want)
			}
			if len(f.dead.letters) != 1 || len(f.pub.events) != 0 {
				t.Fatalf("got %d dead letters and %d published, want 1 and 0", len(f.dead.letters), len(f.pub.events))
			}
		})
	}
}

func TestBatchTimestamps(t *testing.T) {
	f := newFixture(t, nil)
	// The device clock is 2 hours behind: it sent the batch at 16:00 by
	// its clock, received at 18:00.
	body := mustJSON(t, map[string]any{
		"sentAt": "2026-11-27T16:00:00Z",
		"batch": []any{
			viewed("t1").with("timestamp", "2026-11-27T15:59:30Z"),
			viewed("t2").with("timestamp", nil, "originalTimestamp", "2026-11-27T15:58:00.250Z"),
			viewed("t3").with("timestamp", "2026-11-27T21:59:00+04:00", "sentAt", "2026-11-27T22:00:00+04:00"),
			viewed("t4").with("timestamp", nil),
		},
	})
	decodeResponse(t, f.post(t, "/v1/batch", body))
	want := map[string]time.Time{
		"t1": time.Date(2026, 11, 27, 17, 59, 30, 0, time.UTC),
		"t2": time.Date(2026, 11, 27, 17, 58, 0, 250e6, time.UTC),
		"t3": time.Date(2026, 11, 27, 17, 59, 0, 0, time.UTC), // its own sentAt: 18:00 UTC, no skew
		"t4": testNow,
	}
	for _, ev := range f.pub.events {
		if !ev.Timestamp.Equal(want[ev.MessageID]) || ev.Timestamp.Location() != time.UTC {
			t.Errorf("%s timestamp: got %v, want %v", ev.MessageID, ev.Timestamp, want[ev.MessageID])
		}
		if !ev.ReceivedAt.Equal(testNow) {
			t.Errorf("%s receivedAt: got %v, want %v", ev.MessageID, ev.ReceivedAt, testNow)
		}
	}
	if len(f.pub.events) != len(want) {
		t.Fatalf("published: got %d, want %d", len(f.pub.events), len(want))
	}
}

func TestBatchContextMerged(t *testing.T) {
	f := newFixture(t, nil)
	body := mustJSON(t, map[string]any{
		"context": map[string]any{"market": "SA", "library": map[string]any{"name": "analytics-node"}},
		"batch": []any{
			viewed("c1").with("context", map[string]any{"market": "AE"}),
			viewed("c2"),
			viewed("c3").with("context", map[string]any{"market": "FR"}),
		},
	})
	resp := decodeResponse(t, f.post(t, "/v1/batch", body))
	if len(resp.Rejected) != 1 || resp.Rejected[0].Index != 2 || !strings.HasPrefix(resp.Rejected[0].Reason, "context.market must be one of AE") {
		t.Fatalf("rejected: got %+v, want item 2 rejected for its market", resp.Rejected)
	}
	got := map[string]string{}
	for _, ev := range f.pub.events {
		got[ev.MessageID] = string(ev.Context)
	}
	want := map[string]string{
		"c1": `{"library":{"name":"analytics-node"},"market":"AE"}`,
		"c2": `{"library":{"name":"analytics-node"},"market":"SA"}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("contexts (-want +got):\n%s", diff)
	}
}

func TestCardDataNeverPublished(t *testing.T) {
	f := newFixture(t, nil)
	body := batchBody(t,
		track("p1", "Payment Info Entered", map[string]any{"checkout_id": "chk_1", "payment_method": "card", "card_number": "4111 1111 1111 1111"}),
		track("p2", "Payment Info Entered", map[string]any{"checkout_id": "chk_1", "payment_method": "card", "cvv": "123"}),
		track("p3", "Payment Info Entered", map[string]any{"checkout_id": "chk_1", "payment_method": "cod"}),
	)
	resp := decodeResponse(t, f.post(t, "/v1/batch", body))
	if resp.Accepted != 1 || len(resp.Rejected) != 2 {
		t.Fatalf("got accepted %d rejected %+v, want 1 and 2", resp.Accepted, resp.Rejected)
	}
	for i, wantAt := range []string{"properties/card_number", "properties/cvv"} {
		if !strings.HasPrefix(resp.Rejected[i].Reason, wantAt+" looks like a payment card number") {
			t.Errorf("reason %d: got %q, want it to name %s", i, resp.Rejected[i].Reason, wantAt)
		}
		raw := f.dead.letters[i].Raw
		if strings.Contains(raw, "4111") || strings.Contains(raw, `"123"`) || !strings.Contains(raw, redactedValue) {
			t.Errorf("dead letter %d keeps card data or lacks the redaction: %s", i, raw)
		}
	}
	if published := string(mustJSON(t, f.pub.events)); strings.Contains(published, "4111") || strings.Contains(published, "cvv") {
		t.Fatalf("card data in published events: %s", published)
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, nil)
	decodeResponse(t, f.post(t, "/v1/batch", batchBody(t, viewed("x1"), viewed("x2"), viewed("x3").with("event", "Nope"))))
	for _, c := range []struct {
		result, reason string
		want           float64
	}{{resultAccepted, "none", 2}, {resultRejected, codeEventName, 1}} {
		if got := eventsTotal(t, f, c.result, c.reason); got != c.want {
			t.Errorf("souq_collector_events_total{result=%q,reason=%q}: got %v, want %v", c.result, c.reason, got, c.want)
		}
	}
	for name, want := range map[string]uint64{"souq_collector_append_seconds": 1, "souq_collector_batch_events": 1} {
		if got := histogramCount(t, f, name); got != want {
			t.Errorf("%s observations: got %d, want %d", name, got, want)
		}
	}
}

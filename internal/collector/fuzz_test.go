package collector

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

// FuzzCollectorBatch sends arbitrary bodies to POST /v1/batch: the collector
// never panics, every answer is 200, 400 or 413, and the answer agrees with
// what was published and dead-lettered: every message is either accepted
// (published, once) or rejected (dead-lettered), none with card data is
// published, and a request answered with an error publishes nothing.
func FuzzCollectorBatch(f *testing.F) {
	f.Add([]byte(`{"batch":[{"type":"track","messageId":"m1","anonymousId":"a","event":"Product Viewed","properties":{"product_id":"prd_a","price":12.5}}]}`))
	f.Add([]byte(`{"batch":[{"type":"page","messageId":"m1","userId":"u","name":"Home"},{"type":"identify","messageId":"m1","userId":"u"},{"type":"screen"}],"sentAt":"2026-11-27T17:00:00Z"}`))
	f.Add([]byte(`{"batch":[{"type":"track","messageId":"m2","userId":7,"event":"Order Completed","timestamp":"2026-11-27T17:00:00Z"}],"context":{"market":"AE"}}`))
	f.Add([]byte(`{"batch":[{"type":"track","messageId":"m3","anonymousId":"a","event":"Payment Info Entered","properties":{"cvv":"123","n":"4111 1111 1111 1111"}}]}`))
	f.Add([]byte(`{"batch":[1,"x",null,[],{}]}`))
	f.Add([]byte(`{"batch":[{"type":"track","properties":{"a":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}}]}`))
	f.Add([]byte(`{"batch": [`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Add([]byte(`{"batch":[{"type":"track","messageId":"m4","anonymousId":"\ud800","event":"Products Searched","properties":{"query":1e400}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fx := newFixture(t, func(d *Deps) { d.RatePerSecond, d.Burst = 1e12, 1<<30 })
		rec := fx.post(t, "/v1/batch", body)
		switch rec.Code {
		case http.StatusOK:
			resp := decodeResponse(t, rec)
			var req struct{ Batch []json.RawMessage }
			if err := json.Unmarshal(body, &req); err != nil {
				t.Fatalf("200 for a body that does not decode: %v", err)
			}
			if !resp.Success || resp.Accepted < 1 || resp.Accepted != len(fx.pub.events) {
				t.Fatalf("got success %v accepted %d with %d published", resp.Success, resp.Accepted, len(fx.pub.events))
			}
			if resp.Accepted+len(resp.Rejected) != len(req.Batch) || len(resp.Rejected) != len(fx.dead.letters) {
				t.Fatalf("got %d accepted + %d rejected (%d dead letters) for %d messages",
					resp.Accepted, len(resp.Rejected), len(fx.dead.letters), len(req.Batch))
			}
			var ids []string
			for _, ev := range fx.pub.events {
				if ev.MessageID == "" || len(ev.MessageID) > MaxMessageIDLen || (ev.UserID == "" && ev.AnonymousID == "") ||
					!slices.Contains([]string{"track", "page", "identify"}, ev.Type) || ev.Timestamp.IsZero() {
					t.Fatalf("published an invalid event: %+v", ev)
				}
				if slices.Contains(ids, ev.MessageID) {
					t.Fatalf("published messageId %q twice", ev.MessageID)
				}
				ids = append(ids, ev.MessageID)
				if at := cardData(mustJSON(t, ev)); at != "" {
					t.Fatalf("published card data at %s: %+v", at, ev)
				}
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			p := decodeProblem(t, rec, rec.Code)
			if len(fx.pub.events) != 0 || len(p.Errors) != len(fx.dead.letters) {
				t.Fatalf("error answer with %d published, %d listed and %d dead-lettered", len(fx.pub.events), len(p.Errors), len(fx.dead.letters))
			}
		default:
			t.Fatalf("status: got %d, want 200, 400 or 413; body %s", rec.Code, rec.Body)
		}
	})
}

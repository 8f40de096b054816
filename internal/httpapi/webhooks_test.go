package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/webhook"
)

func TestAdminWebhooks(t *testing.T) {
	f := newFixture(t)
	status, _, body := f.do("POST", "/api/v1/admin/webhooks",
		map[string]any{"url": "https://erp.example.ae/souq", "events": []string{"order.created", "stock.low"}, "description": "ERP"},
		"Authorization", "Bearer "+testAdminToken)
	if status != http.StatusCreated {
		t.Fatalf("register: got %d %s, want 201", status, body)
	}
	created := decodeJSON[endpointJSON](t, body)
	if !strings.HasPrefix(string(created.ID), "whk_") || !strings.HasPrefix(created.Secret, "whsec_") ||
		created.URL != "https://erp.example.ae/souq" || strings.Join(created.Events, ",") != "order.created,stock.low" {
		t.Fatalf("register: got %+v, want an id, a generated secret, the URL and events", created)
	}
	status, body = f.admin("GET", "/api/v1/admin/webhooks", nil)
	list := decodeJSON[struct{ Items []endpointJSON }](t, body)
	if status != http.StatusOK || len(list.Items) != 1 || list.Items[0].ID != created.ID || list.Items[0].Secret != "" {
		t.Fatalf("list: got %d %s, want the endpoint without its secret", status, body)
	}
	status, body = f.admin("GET", "/api/v1/admin/webhooks/"+string(created.ID), nil)
	if got := decodeJSON[endpointJSON](t, body); status != http.StatusOK || got.ID != created.ID || got.Secret != "" || strings.Contains(string(body), created.Secret) {
		t.Fatalf("get: got %d %s, want the endpoint without its secret", status, body)
	}
	status, body = f.admin("GET", "/api/v1/admin/webhooks/"+string(created.ID)+"/deliveries?page_size=10", nil)
	page := decodeJSON[listJSON[deliveryJSON]](t, body)
	if status != http.StatusOK || len(page.Items) != 0 || page.Total != 0 || page.Page != 1 || page.PageSize != 10 {
		t.Fatalf("deliveries: got %d %s, want an empty first page of 10", status, body)
	}
	if status, body = f.admin("DELETE", "/api/v1/admin/webhooks/"+string(created.ID), nil); status != http.StatusNoContent {
		t.Fatalf("delete: got %d %s, want 204", status, body)
	}
	if status, body = f.admin("GET", "/api/v1/admin/webhooks/"+string(created.ID), nil); status != http.StatusNotFound {
		t.Fatalf("get after delete: got %d %s, want 404", status, body)
	}
}

func TestAdminWebhooksBadInput(t *testing.T) {
	f := newFixture(t)
	f.refuses(t, []badRequest{
		{"no token", "POST", "/api/v1/admin/webhooks", map[string]any{"url": "https://a.example/x", "events": []string{"order.created"}}, false, 401, ""},
		{"ftp url", "POST", "/api/v1/admin/webhooks", map[string]any{"url": "ftp://a.example/x", "events": []string{"order.created"}}, true, 422, "url"},
		{"plain http", "POST", "/api/v1/admin/webhooks", map[string]any{"url": "http://erp.example.ae/x", "events": []string{"order.created"}}, true, 422, "url"},
		{"unknown event", "POST", "/api/v1/admin/webhooks", map[string]any{"url": "https://a.example/x", "events": []string{"order.paid"}}, true, 422, "events"},
		{"no events", "POST", "/api/v1/admin/webhooks", map[string]any{"url": "https://a.example/x"}, true, 422, "events"},
		{"short secret", "POST", "/api/v1/admin/webhooks", map[string]any{"url": "https://a.example/x", "events": []string{"stock.low"}, "secret": "abc"}, true, 422, "secret"},
		{"unknown field", "POST", "/api/v1/admin/webhooks", map[string]any{"url": "https://a.example/x", "events": []string{"stock.low"}, "active": true}, true, 400, ""},
		{"not JSON", "POST", "/api/v1/admin/webhooks", "url=https://a.example", true, 400, ""},
		{"unknown endpoint", "GET", "/api/v1/admin/webhooks/whk_nope", nil, true, 404, ""},
		{"delete unknown", "DELETE", "/api/v1/admin/webhooks/whk_nope", nil, true, 404, ""},
		{"log of unknown", "GET", "/api/v1/admin/webhooks/whk_nope/deliveries", nil, true, 404, ""},
		{"page size too big", "GET", "/api/v1/admin/webhooks/whk_nope/deliveries?page_size=1000", nil, true, 400, "page_size"},
		{"page zero", "GET", "/api/v1/admin/webhooks/whk_nope/deliveries?page=0", nil, true, 400, "page"},
	})
}

// TestOpenAPIWebhookResponses validates the webhook routes' exchanges,
// with a delivery in the log, against the document.
func TestOpenAPIWebhookResponses(t *testing.T) {
	f := newFixture(t)
	a := &openAPICheck{t: t, f: f, v: newOpenAPIValidator(t)}
	body, _ := a.do(openAPICall{method: "POST", path: "/api/v1/admin/webhooks", admin: true, want: 201,
		body: map[string]any{"url": "http://127.0.0.1:9/hooks", "events": []string{"order.created"}, "secret": "a-secret-of-the-receiver-0123"}})
	e := decodeJSON[endpointJSON](t, body)
	f.advance(time.Minute)
	ev := souq.Event{MessageID: "evt_openapi", Type: "track", Event: souq.EventOrderCompleted, Timestamp: f.clock(),
		Properties: json.RawMessage(`{"order_id":"ord_1","products":[]}`)}
	if err := webhook.NewFeed(nil, f.db, nil, 5, nil).Handle(t.Context(), []souq.Event{ev}); err != nil {
		t.Fatal(err)
	}
	a.do(openAPICall{method: "GET", path: "/api/v1/admin/webhooks", admin: true, want: 200})
	a.do(openAPICall{method: "GET", path: "/api/v1/admin/webhooks/" + string(e.ID), admin: true, want: 200})
	body, _ = a.do(openAPICall{method: "GET", path: "/api/v1/admin/webhooks/" + string(e.ID) + "/deliveries?page=1&page_size=5", admin: true, want: 200})
	if page := decodeJSON[listJSON[deliveryJSON]](t, body); page.Total != 1 || page.Items[0].EventID != "evt_openapi" || page.Items[0].NextRetryAt == nil {
		t.Errorf("delivery log: got %s, want the pending delivery of evt_openapi", body)
	}
	a.do(openAPICall{method: "POST", path: "/api/v1/admin/webhooks", admin: true, want: 422, outside: true,
		body: map[string]any{"url": "gopher://a.example/", "events": []string{"order.created"}}})
	a.do(openAPICall{method: "DELETE", path: "/api/v1/admin/webhooks/" + string(e.ID), admin: true, want: 204})
	a.do(openAPICall{method: "GET", path: "/api/v1/admin/webhooks/" + string(e.ID), admin: true, want: 404})
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/webhook"
)

// TestServeWebhooks runs souq serve --demo with a receiver on loopback
// registered for every event type: an order that leaves its product under
// --stock-low sends order.created and stock.low, its cancellation
// order.cancelled, each signed with the endpoint's secret; the metrics
// count them.
func TestServeWebhooks(t *testing.T) {
	var (
		mu  sync.Mutex
		got = map[string]json.RawMessage{} // by type
		bad []string
	)
	const secret = "the-receivers-own-secret-0123456789"
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := webhook.Verify(secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, time.Now(), webhook.DefaultTolerance)
		var ev struct {
			ID   string          `json:"id"`
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		_ = json.Unmarshal(body, &ev)
		mu.Lock()
		defer mu.Unlock()
		if err != nil || ev.ID != r.Header.Get(webhook.HeaderID) {
			bad = append(bad, fmt.Sprintf("%s: %v (id %q, header %q)", ev.Type, err, ev.ID, r.Header.Get(webhook.HeaderID)))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		got[ev.Type] = ev.Data
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()

	const token = "webhooks-test-admin-token"
	base, _, _ := startServe(t, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo", "--shoppers", "0",
		"--admin-token", token, "--stock-low", "5"}, nil)
	call := func(method, path, body string, auth bool) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	status, body := call("POST", "/api/v1/admin/webhooks", fmt.Sprintf(`{"url":%q,"events":["order.created","order.cancelled","stock.low"],"secret":%q}`,
		recv.URL+"/souq", secret), true)
	if status != http.StatusCreated {
		t.Fatalf("register: got %d %s, want 201", status, body)
	}
	var endpoint struct{ ID string }
	_ = json.Unmarshal([]byte(body), &endpoint)

	var list productList
	getJSON(t, base+"/api/v1/products?market=AE&page_size=50", &list)
	product := list.inStock(t)
	if status, body := call("PUT", "/api/v1/admin/products/"+product+"/stock", `{"quantity":6}`, true); status != http.StatusOK {
		t.Fatalf("set stock: got %d %s", status, body)
	}
	status, body = call("POST", "/api/v1/orders", fmt.Sprintf(`{"market":"AE","items":[{"product_id":%q,"quantity":2}],
		"customer":{"name":"Mariam Al Mansoori","email":"mariam@example.ae","phone":"+971501234567"},
		"shipping_address":{"line1":"Villa 12, Street 5","area":"Al Barsha","city":"Dubai","country":"AE"},
		"payment":{"method":"cod"}}`, product), false)
	if status != http.StatusCreated {
		t.Fatalf("order: got %d %s, want 201", status, body)
	}
	var order struct {
		ID          string `json:"id"`
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal([]byte(body), &order)
	// stock.low is judged from the stock when the order's event is
	// handled: the order is cancelled (restocking) once it has been.
	waitFor(t, &mu, got, &bad, webhook.TypeOrderCreated, webhook.TypeStockLow)
	if status, body := call("POST", "/api/v1/orders/"+order.ID+"/cancel?token="+order.AccessToken, "", false); status != http.StatusOK {
		t.Fatalf("cancel: got %d %s, want 200", status, body)
	}
	waitFor(t, &mu, got, &bad, webhook.TypeOrderCancelled, webhook.TypeOrderCreated, webhook.TypeStockLow)
	mu.Lock()
	created, low := string(got[webhook.TypeOrderCreated]), string(got[webhook.TypeStockLow])
	mu.Unlock()
	if !strings.Contains(created, `"order_id":"`+order.ID+`"`) {
		t.Errorf("order.created data: got %s, want order %s", created, order.ID)
	}
	if !strings.Contains(low, `"product_id":"`+product+`"`) || !strings.Contains(low, `"stock":4`) || !strings.Contains(low, `"threshold":5`) {
		t.Errorf("stock.low data: got %s, want product %s at 4 of threshold 5", low, product)
	}
	// The log shows the three delivered; the metrics count them.
	status, body = call("GET", "/api/v1/admin/webhooks/"+endpoint.ID+"/deliveries", "", true)
	if status != http.StatusOK || strings.Count(body, `"status":"delivered"`) != 3 {
		t.Errorf("delivery log: got %d %s, want 3 delivered", status, body)
	}
	// The dispatcher counts a delivery just after recording it in the log:
	// poll until the count has caught up.
	lines := []string{`souq_webhook_deliveries_total{outcome="delivered"} 3`, `souq_webhook_pending_deliveries 0`, `souq_role{role="webhooks"} 1`}
	var metrics string
	var missing []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, metrics = call("GET", "/metrics", "", false)
		missing = missing[:0]
		for _, line := range lines {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(line) + `$`).MatchString(metrics) {
				missing = append(missing, line)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, line := range missing {
		t.Errorf("metrics: no line %q", line)
	}
	if !regexp.MustCompile(`(?m)^souq_pipeline_consumer_lag\{consumer="webhooks"\} \d+$`).MatchString(metrics) {
		t.Error("metrics: no souq_pipeline_consumer_lag of the webhooks consumer")
	}
}

// waitFor polls, for up to 30 s, until the receiver's deliveries by type
// (guarded by mu) are want, sorted; refused deliveries fail the test.
func waitFor(t *testing.T, mu *sync.Mutex, got map[string]json.RawMessage, bad *[]string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		var have []string
		for k := range got {
			have = append(have, k)
		}
		refused := slices.Clone(*bad)
		mu.Unlock()
		slices.Sort(have)
		if len(refused) > 0 {
			t.Fatalf("receiver refused deliveries: %v", refused)
		}
		if slices.Equal(have, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("receiver got %v within 30 s, want %v", have, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

type orderResponse struct {
	ID          string    `json:"id"`
	Status      string    `json:"status"`
	Total       moneyJSON `json:"total"`
	VAT         moneyJSON `json:"vat"`
	AccessToken string    `json:"access_token"`
	StatusURL   string    `json:"status_url"`
	Payment     struct {
		Method    string `json:"method"`
		Reference string `json:"reference"`
		Status    string `json:"status"`
	} `json:"payment"`
	Lines []struct {
		ProductID string    `json:"product_id"`
		Quantity  int       `json:"quantity"`
		UnitPrice moneyJSON `json:"unit_price"`
		OnSale    bool      `json:"on_sale"`
	} `json:"lines"`
}

type productResponse struct {
	ID      string    `json:"id"`
	SKU     string    `json:"sku"`
	Price   moneyJSON `json:"price"`
	OnSale  bool      `json:"on_sale"`
	Stock   int       `json:"stock"`
	InStock bool      `json:"in_stock"`
}

func (f *fixture) stock(id souq.ID) int {
	f.t.Helper()
	p, err := f.db.Product(context.Background(), id)
	if err != nil {
		f.t.Fatalf("read product %s: %v", id, err)
	}
	return p.Stock
}

func (f *fixture) orderCount() int {
	f.t.Helper()
	_, total, err := f.db.ListOrders(context.Background(), 0, 1)
	if err != nil {
		f.t.Fatalf("list orders: %v", err)
	}
	return total
}

func (f *fixture) outboxCount() int {
	f.t.Helper()
	evs, err := f.db.PendingOutbox(context.Background(), 100000)
	if err != nil {
		f.t.Fatalf("pending outbox: %v", err)
	}
	return len(evs)
}

func TestBrowseCartAndOrder(t *testing.T) {
	f := newFixture(t)
	p := f.product(10, 8900)
	f.product(5, 4500)

	status, _, body := f.do("GET", "/api/v1/products?market=KW", nil)
	if status != 200 {
		t.Fatalf("list: got %d, want 200: %s", status, body)
	}
	list := decodeJSON[struct {
		Items []productResponse `json:"items"`
		Total int               `json:"total"`
	}](t, body)
	if list.Total != 2 || len(list.Items) != 2 || list.Items[0].Price.Currency != souq.KWD || list.Items[0].Price.Exponent != 3 {
		t.Fatalf("list: got %+v, want 2 items priced in KWD with exponent 3", list)
	}

	status, _, body = f.do("GET", "/api/v1/products/"+string(p.ID)+"?market=SA", nil)
	got := decodeJSON[productResponse](t, body)
	if status != 200 || got.Price.Amount != 8900 || got.Price.Currency != souq.SAR || got.Stock != 10 {
		t.Fatalf("get: got %d %+v, want 200, SAR 89.00, stock 10", status, got)
	}
	if status, _, _ := f.do("GET", "/api/v1/products/"+p.Slug, nil); status != 200 {
		t.Errorf("get by slug: got %d, want 200", status)
	}

	status, hdr, body := f.do("POST", "/api/v1/carts", map[string]any{"market": "AE"})
	c := decodeJSON[struct {
		ID string `json:"id"`
	}](t, body)
	if status != 201 || !strings.HasPrefix(c.ID, "cart_") || hdr.Get("Location") == "" {
		t.Fatalf("create cart: got %d %s", status, body)
	}
	status, _, body = f.do("POST", "/api/v1/carts/"+c.ID+"/items", item(p.ID, 2))
	cartView := decodeJSON[struct {
		Items int       `json:"items"`
		Total moneyJSON `json:"total"`
		VAT   moneyJSON `json:"vat"`
	}](t, body)
	if status != 200 || cartView.Items != 2 || cartView.Total.Amount != 17800 || cartView.VAT.Amount != 848 {
		t.Fatalf("add item: got %d %+v, want 2 items, total 17800, VAT 848", status, cartView)
	}

	req := orderBody()
	delete(req, "items")
	req["cart_id"] = c.ID
	status, hdr, body = f.do("POST", "/api/v1/orders", req)
	if status != 201 {
		t.Fatalf("order: got %d, want 201: %s", status, body)
	}
	o := decodeJSON[orderResponse](t, body)
	if o.Status != "placed" || o.Total.Amount != 17800 || o.VAT.Amount != 848 || o.AccessToken == "" || hdr.Get("Location") != "/api/v1/orders/"+o.ID {
		t.Fatalf("order: got %+v", o)
	}
	if got := f.stock(p.ID); got != 8 {
		t.Errorf("stock after order: got %d, want 8", got)
	}
	if _, _, body := f.do("GET", "/api/v1/carts/"+c.ID, nil); !strings.Contains(string(body), `"items":0`) {
		t.Errorf("cart after order: got %s, want it emptied", body)
	}

	if status, _, _ := f.do("GET", o.StatusURL, nil); status != 200 {
		t.Errorf("order with token: got %d, want 200", status)
	}
	if status, _, _ := f.do("GET", "/api/v1/orders/"+o.ID, nil, "Authorization", "Bearer "+o.AccessToken); status != 200 {
		t.Errorf("order with bearer token: got %d, want 200", status)
	}
	status, hdr, body = f.do("GET", "/api/v1/orders/"+o.ID+"?token=wrong", nil)
	wantProblem(t, status, hdr, body, 404)
	status, hdr, body = f.do("GET", "/api/v1/orders/ord_doesnotexist0000000?token="+o.AccessToken, nil)
	wantProblem(t, status, hdr, body, 404)

	status, _, body = f.do("POST", "/api/v1/orders/"+o.ID+"/cancel?token="+o.AccessToken, nil)
	if status != 200 || !strings.Contains(string(body), `"status":"cancelled"`) {
		t.Fatalf("cancel: got %d %s", status, body)
	}
	if got := f.stock(p.ID); got != 10 {
		t.Errorf("stock after cancel: got %d, want 10", got)
	}
	status, hdr, body = f.do("POST", "/api/v1/orders/"+o.ID+"/cancel?token="+o.AccessToken, nil)
	wantProblem(t, status, hdr, body, 409)
	if got := f.outboxCount(); got != 2 {
		t.Errorf("outbox events: got %d, want 2 (completed, cancelled)", got)
	}
}

func TestVATAndThreeDecimalCurrencies(t *testing.T) {
	f := newFixture(t)
	p := f.product(10, 8900) // KW/BH/OM price is 89.000 in the fixture
	tests := []struct {
		market, city, phone string
		total, vat          int64
	}{
		{"AE", "Dubai", "+971501234567", 8900, 424},
		{"SA", "Riyadh", "+966501234567", 8900, 1161}, // 8900*1500/11500 = 1160.87
		{"QA", "Doha", "+97455123456", 8900, 0},
		{"KW", "Kuwait City", "+96599887766", 89000, 0},
		{"BH", "Manama", "+97336123456", 89000, 8091}, // 89000*1000/11000 = 8090.9
		{"OM", "Muscat", "+96891234567", 89000, 4238}, // 89000*500/10500 = 4238.1
	}
	for _, tt := range tests {
		t.Run(tt.market, func(t *testing.T) {
			req := orderBody(item(p.ID, 1))
			req["market"] = tt.market
			req["customer"].(map[string]any)["phone"] = tt.phone
			req["shipping_address"] = map[string]any{"line1": "Building 4", "area": "Centre", "city": tt.city}
			status, _, body := f.do("POST", "/api/v1/orders", req)
			o := decodeJSON[orderResponse](t, body)
			if status != 201 || o.Total.Amount != tt.total || o.VAT.Amount != tt.vat {
				t.Fatalf("got %d total %d VAT %d, want 201 total %d VAT %d (%s)", status, o.Total.Amount, o.VAT.Amount, tt.total, tt.vat, body)
			}
		})
	}
}

// TestNoOversell: 500 concurrent orders for one unit each of a product with
// stock 50 create exactly 50 orders; every other answer is a 409 problem.
func TestNoOversell(t *testing.T) {
	f := newFixture(t)
	p := f.product(50, 8900)
	const clients = 500
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		bad      []string
	)
	body, _ := json.Marshal(orderBody(item(p.ID, 1)))
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, hdr, out := f.do("POST", "/api/v1/orders", body)
			mu.Lock()
			defer mu.Unlock()
			statuses[status]++
			if status == 409 {
				var pb problemBody
				if hdr.Get("Content-Type") != "application/problem+json" || json.Unmarshal(out, &pb) != nil || pb.ProductID != string(p.ID) {
					bad = append(bad, string(out))
				}
			}
		}()
	}
	wg.Wait()
	if statuses[201] != 50 || statuses[409] != clients-50 {
		t.Fatalf("statuses: got %v, want 50×201 and %d×409", statuses, clients-50)
	}
	if len(bad) > 0 {
		t.Errorf("409 answers that are not out-of-stock problems naming the product: %d, first %s", len(bad), bad[0])
	}
	if got := f.stock(p.ID); got != 0 {
		t.Errorf("stock: got %d, want 0", got)
	}
	if got := f.orderCount(); got != 50 {
		t.Errorf("orders: got %d, want 50", got)
	}
	if got := f.outboxCount(); got != 50 {
		t.Errorf("outbox events: got %d, want 50", got)
	}
}

// TestIdempotency: 100 concurrent requests with one key create one order;
// every 201 is the same response and the rest are in-flight 409s.
func TestIdempotency(t *testing.T) {
	f := newFixture(t)
	p := f.product(1000, 8900)
	body, _ := json.Marshal(orderBody(item(p.ID, 2)))
	const clients = 100
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created []string
		other   []string
	)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, hdr, out := f.do("POST", "/api/v1/orders", body, "Idempotency-Key", "key-concurrent")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case status == 201:
				created = append(created, string(out))
			case status == 409 && hdr.Get("Content-Type") == "application/problem+json" && strings.Contains(string(out), "idempotency-key-in-flight"):
			default:
				other = append(other, fmt.Sprintf("%d %s", status, out))
			}
		}()
	}
	wg.Wait()
	if len(other) > 0 {
		t.Fatalf("unexpected answers: %v", other)
	}
	if len(created) == 0 {
		t.Fatalf("no 201 among %d requests", clients)
	}
	for _, c := range created[1:] {
		if c != created[0] {
			t.Fatalf("replays differ:\n%s\n%s", c, created[0])
		}
	}
	if got := f.orderCount(); got != 1 {
		t.Fatalf("orders: got %d, want 1", got)
	}
	if got := f.stock(p.ID); got != 998 {
		t.Errorf("stock: got %d, want 998", got)
	}

	// A later retry replays the stored response, marked as a replay.
	status, hdr, out := f.do("POST", "/api/v1/orders", body, "Idempotency-Key", "key-concurrent")
	if status != 201 || string(out) != created[0] || hdr.Get("Idempotent-Replayed") != "true" || !strings.HasPrefix(hdr.Get("Location"), "/api/v1/orders/ord_") {
		t.Errorf("replay: got %d %q replayed=%q, want the first 201", status, out, hdr.Get("Idempotent-Replayed"))
	}
	// Whitespace does not make a different body.
	var pretty map[string]any
	_ = json.Unmarshal(body, &pretty)
	indented, _ := json.MarshalIndent(pretty, "", "   ")
	if status, _, out := f.do("POST", "/api/v1/orders", indented, "Idempotency-Key", "key-concurrent"); status != 201 || string(out) != created[0] {
		t.Errorf("replay of reformatted body: got %d, want the first 201", status)
	}
	// The same key with another body is rejected.
	other2, _ := json.Marshal(orderBody(item(p.ID, 3)))
	status, hdr, out = f.do("POST", "/api/v1/orders", other2, "Idempotency-Key", "key-concurrent")
	wantProblem(t, status, hdr, out, 422)
	if got := f.orderCount(); got != 1 {
		t.Errorf("orders after reuse: got %d, want 1", got)
	}
}

func TestIdempotencyKeyReleasedAfterClientError(t *testing.T) {
	f := newFixture(t)
	p := f.product(1, 8900)
	body, _ := json.Marshal(orderBody(item(p.ID, 2)))
	status, hdr, out := f.do("POST", "/api/v1/orders", body, "Idempotency-Key", "k1")
	wantProblem(t, status, hdr, out, 409)
	// After a restock the same key and body may succeed: the failure was not stored.
	if status, _ := f.admin("PUT", "/api/v1/admin/products/"+string(p.ID)+"/stock", map[string]any{"quantity": 5}); status != 200 {
		t.Fatalf("restock: got %d", status)
	}
	if status, _, out := f.do("POST", "/api/v1/orders", body, "Idempotency-Key", "k1"); status != 201 {
		t.Fatalf("retry after restock: got %d %s, want 201", status, out)
	}
}

func TestBadOrderInput(t *testing.T) {
	f := newFixture(t)
	p := f.product(10, 8900)
	valid := func() map[string]any { return orderBody(item(p.ID, 1)) }
	with := func(edit func(map[string]any)) map[string]any { b := valid(); edit(b); return b }
	tests := []struct {
		name   string
		body   any
		header []string
		status int
		detail string
	}{
		{"malformed JSON", `{"market": "AE",`, nil, 400, "malformed JSON"},
		{"not an object", `[1,2]`, nil, 400, "JSON object"},
		{"empty body", ``, nil, 400, "empty"},
		{"trailing data", `{"market":"AE"} {}`, nil, 400, "after the JSON"},
		{"oversize body", `{"market":"` + strings.Repeat("A", maxBody) + `"}`, nil, 413, "larger than"},
		{"wrong content type", valid(), []string{"Content-Type", "text/plain"}, 415, "application/json"},
		{"unknown market", with(func(b map[string]any) { b["market"] = "US" }), nil, 422, "unknown market"},
		{"negative quantity", with(func(b map[string]any) { b["items"] = []any{item(p.ID, -1)} }), nil, 422, "quantity"},
		{"huge quantity", with(func(b map[string]any) { b["items"] = []any{item(p.ID, 1_000_000_000)} }), nil, 422, "quantity"},
		{"quantity overflowing int", `{"market":"AE","items":[{"product_id":"x","quantity":99999999999999999999}]}`, nil, 400, "quantity"},
		{"fractional quantity", `{"market":"AE","items":[{"product_id":"x","quantity":1.5}]}`, nil, 400, "quantity"},
		{"unknown product", with(func(b map[string]any) { b["items"] = []any{item("prd_nosuchproduct00000", 1)} }), nil, 422, "not found"},
		{"client-sent price", with(func(b map[string]any) {
			b["items"] = []any{map[string]any{"product_id": p.ID, "quantity": 1, "price": 1}}
		}), nil, 400, "set by the server"},
		{"client-sent total", with(func(b map[string]any) { b["total"] = 1 }), nil, 400, "set by the server"},
		{"unknown field", with(func(b map[string]any) { b["coupon"] = "FREE" }), nil, 400, "unknown field"},
		{"card number fields", with(func(b map[string]any) {
			b["payment"] = map[string]any{"method": "card", "number": "4111111111111111", "cvc": "123"}
		}), nil, 400, "unknown field"},
		{"unknown cart", with(func(b map[string]any) { delete(b, "items"); b["cart_id"] = "cart_nope" }), nil, 422, "cart"},
		{"long idempotency key", valid(), []string{"Idempotency-Key", strings.Repeat("k", 300)}, 400, "Idempotency-Key"},
		{"empty idempotency key", valid(), []string{"Idempotency-Key", ""}, 400, "Idempotency-Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, out := f.do("POST", "/api/v1/orders", tt.body, tt.header...)
			pb := wantProblem(t, status, hdr, out, tt.status)
			if !strings.Contains(pb.Detail, tt.detail) {
				t.Errorf("detail: got %q, want it to mention %q", pb.Detail, tt.detail)
			}
			if strings.Contains(string(out), "4111") {
				t.Errorf("problem echoes card data: %s", out)
			}
		})
	}
	if got := f.orderCount(); got != 0 {
		t.Errorf("orders written by bad requests: got %d, want 0", got)
	}
	if got := f.stock(p.ID); got != 10 {
		t.Errorf("stock after bad requests: got %d, want 10", got)
	}
	if got := f.outboxCount(); got != 0 {
		t.Errorf("outbox events after bad requests: got %d, want 0", got)
	}
}

func TestCardPayment(t *testing.T) {
	f := newFixture(t)
	p := f.product(1, 8900)
	req := orderBody(item(p.ID, 1))
	req["payment"] = map[string]any{"method": "card", "token": "tok_ok"}
	status, _, body := f.do("POST", "/api/v1/orders", req)
	o := decodeJSON[orderResponse](t, body)
	if status != 201 || o.Status != "paid" || o.Payment.Reference == "" || o.Payment.Status != "captured" {
		t.Fatalf("card order: got %d %s, want 201 paid and captured with a reference", status, body)
	}
	if got := f.outboxCount(); got != 1 {
		t.Errorf("outbox events after a paid card order: got %d, want 1 (Order Completed)", got)
	}
	// Out of stock: the stock is taken before the payment is asked for,
	// so nothing is authorised.
	status, hdr, body := f.do("POST", "/api/v1/orders", req)
	wantProblem(t, status, hdr, body, 409)
	if got := f.payments.Status("pay_test_" + o.ID); got != "captured" {
		t.Errorf("the paid order's payment: got %q, want captured", got)
	}
	if got := f.payments.Voids() + f.payments.Refunds(); got != 0 {
		t.Errorf("payments voided or refunded: got %d, want 0 (the order out of stock never reached the provider)", got)
	}
}

// TestCardDeclined: a card declined at once answers 402 naming the order,
// which was committed pending payment and released at once: its stock is
// back, it wrote no event, and it reads as cancelled with the payment
// failed.
func TestCardDeclined(t *testing.T) {
	f := newFixture(t)
	p := f.product(1, 8900)
	req := orderBody(item(p.ID, 1))
	req["payment"] = map[string]any{"method": "card", "token": "tok_declined"}
	status, hdr, body := f.do("POST", "/api/v1/orders", req)
	pb := wantProblem(t, status, hdr, body, 402)
	id := pb.OrderID
	if !strings.Contains(pb.Detail, "declined") || id == "" {
		t.Fatalf("declined card: got %s, want a payment-declined problem naming the order", body)
	}
	o, err := f.db.Order(t.Context(), souq.ID(id))
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != souq.StatusCancelled || o.Payment.Status != souq.PaymentFailed || o.CompletedAt != nil {
		t.Errorf("declined order: status %s, payment %s, completed %v; want cancelled, failed, never completed", o.Status, o.Payment.Status, o.CompletedAt)
	}
	if got := f.stock(p.ID); got != 1 {
		t.Errorf("stock after a declined card: got %d, want 1", got)
	}
	if got := f.outboxCount(); got != 0 {
		t.Errorf("outbox events after a declined card: got %d, want 0", got)
	}
}

// TestCardPaymentWithoutProvider: a shop without a card provider refuses
// a card order with a problem naming payment.method; nothing is ordered,
// no stock is taken, no event is written, and the Idempotency-Key is free
// for a cash-on-delivery retry.
func TestCardPaymentWithoutProvider(t *testing.T) {
	f := newFixtureWith(t, false)
	p := f.product(1, 8900)
	req := orderBody(item(p.ID, 1))
	req["payment"] = map[string]any{"method": "card", "token": "tok_ok"}
	status, h, body := f.do("POST", "/api/v1/orders", req, "Idempotency-Key", "card-then-cod")
	wantProblem(t, status, h, body, 422)
	if !strings.Contains(string(body), "card payment is not available") || !strings.Contains(string(body), "payment.method") {
		t.Errorf("problem: got %s, want one saying card payment is not available, naming payment.method", body)
	}
	if got := f.outboxCount(); got != 0 {
		t.Errorf("outbox events: got %d, want 0", got)
	}
	req["payment"] = map[string]any{"method": "cod"}
	if status, _, body := f.do("POST", "/api/v1/orders", req, "Idempotency-Key", "card-then-cod"); status != 201 {
		t.Errorf("cash on delivery with the same key: got %d %s, want 201 (the key was released and the unit is still in stock)", status, body)
	}
}

func TestFlashSalePricing(t *testing.T) {
	f := newFixture(t)
	p := f.product(10, 8900)
	start := f.clock().Add(time.Hour)
	status, body := f.admin("POST", "/api/v1/admin/sales", map[string]any{
		"name": map[string]any{"en": "Flash", "ar": "تخفيضات"}, "starts_at": start, "ends_at": start.Add(time.Hour),
		"items": []any{map[string]any{"product_id": p.ID, "discount_percent": 30}},
	})
	if status != 201 {
		t.Fatalf("schedule sale: got %d %s", status, body)
	}
	price := func() productResponse {
		_, _, body := f.do("GET", "/api/v1/products/"+string(p.ID), nil)
		return decodeJSON[productResponse](t, body)
	}
	if got := price(); got.OnSale || got.Price.Amount != 8900 {
		t.Errorf("before the sale: got %+v, want 8900 not on sale", got)
	}
	f.advance(90 * time.Minute)
	if got := price(); !got.OnSale || got.Price.Amount != 6200 {
		t.Errorf("during the sale: got %+v, want 6200 on sale", got)
	}
	// The client cannot send a price; the server charges the sale price.
	status, _, body = f.do("POST", "/api/v1/orders", orderBody(item(p.ID, 1)))
	o := decodeJSON[orderResponse](t, body)
	if status != 201 || o.Total.Amount != 6200 || !o.Lines[0].OnSale {
		t.Errorf("order during the sale: got %d total %d, want 201 total 6200 on sale", status, o.Total.Amount)
	}
	f.advance(time.Hour)
	if got := price(); got.OnSale || got.Price.Amount != 8900 {
		t.Errorf("after the sale: got %+v, want 8900 not on sale", got)
	}
	// Sales may not overlap.
	now := f.clock()
	sale := func(from, to time.Time) (int, []byte) {
		return f.admin("POST", "/api/v1/admin/sales", map[string]any{
			"name": map[string]any{"en": "Again", "ar": "مرة أخرى"}, "starts_at": from, "ends_at": to,
			"items": []any{map[string]any{"product_id": p.ID, "discount_percent": 10}},
		})
	}
	if status, body := sale(now, now.Add(time.Hour)); status != 201 {
		t.Errorf("sale after the first ended: got %d %s, want 201", status, body)
	}
	if status, body := sale(now.Add(30*time.Minute), now.Add(2*time.Hour)); status != 409 {
		t.Errorf("overlapping sale: got %d %s, want 409", status, body)
	}
	if status, body := sale(now.Add(-2*time.Hour), now.Add(-time.Hour)); status != 422 {
		t.Errorf("sale in the past: got %d %s, want 422", status, body)
	}
}

func TestAdminAPI(t *testing.T) {
	f := newFixture(t)
	status, hdr, body := f.do("POST", "/api/v1/admin/products", map[string]any{})
	wantProblem(t, status, hdr, body, 401)
	if hdr.Get("WWW-Authenticate") == "" {
		t.Errorf("401 without WWW-Authenticate")
	}
	status, hdr, body = f.do("POST", "/api/v1/admin/products", map[string]any{}, "Authorization", "Bearer wrong")
	wantProblem(t, status, hdr, body, 401)

	in := map[string]any{"sku": "LANEIGE-LSM-20", "slug": "laneige-lip-sleeping-mask", "brand": "Laneige", "category": "skincare",
		"name": map[string]any{"en": "Lip Sleeping Mask Berry 20g", "ar": "قناع الشفاه الليلي بالتوت"}, "prices": map[string]any{"AE": 7900, "KW": 6500}, "stock": 3}
	status, body = f.admin("POST", "/api/v1/admin/products", in)
	created := decodeJSON[souq.Product](t, body)
	if status != 201 || created.Stock != 3 || created.Prices[souq.KW] != 6500 {
		t.Fatalf("create: got %d %s", status, body)
	}
	status, hdr, body = f.do("POST", "/api/v1/admin/products", in, "Authorization", "Bearer "+testAdminToken)
	p := wantProblem(t, status, hdr, body, 409)
	if !strings.Contains(p.Detail, `a product with SKU "LANEIGE-LSM-20" already exists`) || len(p.InvalidParams) != 1 || p.InvalidParams[0].Field != "sku" {
		t.Errorf("duplicate SKU: got %+v, want the SKU named in detail and invalid_params", p)
	}
	status, body = f.admin("PUT", "/api/v1/admin/products/"+string(created.ID)+"/stock", map[string]any{"quantity": 40})
	if status != 200 || decodeJSON[souq.Product](t, body).Stock != 40 {
		t.Errorf("set stock: got %d %s, want 200 stock 40", status, body)
	}
	for _, q := range []string{`{"quantity": -1}`, `{}`, `{"quantity": "7"}`} {
		status, _ := f.admin("PUT", "/api/v1/admin/products/"+string(created.ID)+"/stock", q)
		if status != 422 && status != 400 {
			t.Errorf("set stock %s: got %d, want 400 or 422", q, status)
		}
	}
	if status, _ := f.admin("PUT", "/api/v1/admin/products/prd_missing000000000000/stock", map[string]any{"quantity": 1}); status != 404 {
		t.Errorf("stock of missing product: got %d, want 404", status)
	}
	in["name"] = map[string]any{"en": "Lip Sleeping Mask Berry 20 g", "ar": "قناع الشفاه الليلي بالتوت"}
	delete(in, "stock")
	status, body = f.admin("PUT", "/api/v1/admin/products/"+string(created.ID), in)
	if status != 200 || decodeJSON[souq.Product](t, body).Stock != 40 {
		t.Errorf("update: got %d %s, want 200 keeping stock 40", status, body)
	}
	// Not sold in Saudi Arabia: not listed there.
	_, _, body = f.do("GET", "/api/v1/products?market=SA", nil)
	if !strings.Contains(string(body), `"total":0`) {
		t.Errorf("SA listing: got %s, want no products", body)
	}
}

func TestSearchAndFilters(t *testing.T) {
	f := newFixture(t)
	for _, in := range []map[string]any{
		{"sku": "ANUA-HEART-TONER", "slug": "anua-heartleaf-toner", "brand": "Anua", "category": "skincare",
			"name": map[string]any{"en": "Heartleaf 77% Soothing Toner", "ar": "تونر أوراق القلب المهدئ"}},
		{"sku": "ROMND-TINT-01", "slug": "romnd-juicy-tint", "brand": "rom&nd", "category": "makeup",
			"name": map[string]any{"en": "Juicy Lasting Tint", "ar": "تينت الشفاه الدائم"}},
	} {
		in["prices"] = map[string]any{"AE": 5500}
		if status, body := f.admin("POST", "/api/v1/admin/products", in); status != 201 {
			t.Fatalf("create: %d %s", status, body)
		}
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"q=toner", []string{"ANUA-HEART-TONER"}},
		{"q=HEART", []string{"ANUA-HEART-TONER"}},
		{"q=" + "تونر", []string{"ANUA-HEART-TONER"}},
		{"q=" + "اوراق", []string{"ANUA-HEART-TONER"}}, // typed without hamza
		{"q=tint+juicy", []string{"ROMND-TINT-01"}},
		{"q=tint+toner", nil},
		{"category=makeup", []string{"ROMND-TINT-01"}},
		{"brand=Anua", []string{"ANUA-HEART-TONER"}},
		{"sort=name", []string{"ANUA-HEART-TONER", "ROMND-TINT-01"}},
		{"page_size=1&page=2&sort=name", []string{"ROMND-TINT-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			status, _, body := f.do("GET", "/api/v1/products?"+tt.query, nil)
			if status != 200 {
				t.Fatalf("got %d %s", status, body)
			}
			list := decodeJSON[struct{ Items []productResponse }](t, body)
			var got []string
			for _, it := range list.Items {
				got = append(got, it.SKU)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	for _, q := range []string{"page_size=101", "page_size=x", "page=0", "market=US", "sort=random"} {
		status, hdr, body := f.do("GET", "/api/v1/products?"+q, nil)
		wantProblem(t, status, hdr, body, 400)
	}
}

func TestEdge(t *testing.T) {
	f := newFixture(t)
	status, hdr, _ := f.do("GET", "/api/v1/markets", nil)
	if status != 200 {
		t.Fatalf("markets: got %d", status)
	}
	for h, want := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Frame-Options":         "DENY",
	} {
		if !strings.Contains(hdr.Get(h), want) {
			t.Errorf("%s: got %q, want it to contain %q", h, hdr.Get(h), want)
		}
	}
	if hdr.Get("Strict-Transport-Security") != "" {
		t.Errorf("HSTS sent over plain HTTP")
	}
	status, hdr, body := f.do("GET", "/api/v1/nothing-here", nil)
	wantProblem(t, status, hdr, body, 404)
	status, hdr, body = f.do("DELETE", "/api/v1/products", nil)
	wantProblem(t, status, hdr, body, 405)
	if hdr.Get("Allow") == "" {
		t.Errorf("405 without Allow")
	}
	if status, _, body := f.do("GET", "/readyz", nil); status != 200 {
		t.Errorf("readyz: got %d %s", status, body)
	}
	if status, _, _ := f.do("GET", "/livez", nil); status != 200 {
		t.Errorf("livez: got %d", status)
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	p := f.product(1, 8900)
	body, _ := json.Marshal(orderBody(item(p.ID, 1)))
	f.do("POST", "/api/v1/orders", body, "Idempotency-Key", "m1")
	f.do("POST", "/api/v1/orders", body, "Idempotency-Key", "m1")
	f.do("POST", "/api/v1/orders", body)
	_, _, out := f.do("GET", "/metrics", nil)
	for _, want := range []string{
		`souq_orders_created_total{market="AE",payment="cod"} 1`,
		`souq_out_of_stock_rejections_total 1`,
		`souq_idempotent_replays_total 1`,
		`souq_http_request_duration_seconds_count{code="201",method="POST",route="POST /api/v1/orders"} 2`,
		`souq_http_requests_in_flight`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestPaymentWebhook: the webhook endpoint refuses what its provider
// cannot verify (401) and bodies over its limit (413), counting both.
func TestPaymentWebhook(t *testing.T) {
	f := newFixture(t)
	status, hdr, body := f.do("POST", "/api/v1/payments/webhook", `{"id":"evt_1","type":"payment_intent.succeeded"}`)
	wantProblem(t, status, hdr, body, 401)
	status, hdr, body = f.do("POST", "/api/v1/payments/webhook", `{"id":"`+strings.Repeat("x", maxWebhookBody)+`"}`)
	wantProblem(t, status, hdr, body, 413)
	_, _, out := f.do("GET", "/metrics", nil)
	if want := `souq_payment_webhooks_total{outcome="refused"} 2`; !strings.Contains(string(out), want) {
		t.Errorf("metrics lack %q", want)
	}
}

// TestInvalidUTF8IsRefused: bytes that are not UTF-8 in a JSON body are
// refused with a problem naming the field, not stored as U+FFFD.
func TestInvalidUTF8IsRefused(t *testing.T) {
	f := newFixture(t)
	p := f.product(5, 8900)
	good, _ := json.Marshal(orderBody(item(p.ID, 1)))
	bad := bytes.Replace(good, []byte(`"name":"`), []byte("\"name\":\"\xff\xfe"), 1)
	if bytes.Equal(bad, good) {
		t.Fatal("the order body has no customer name to spoil")
	}
	status, hdr, out := f.do("POST", "/api/v1/orders", bad)
	wantProblem(t, status, hdr, out, 400)
	if !strings.Contains(string(out), "customer.name") || !strings.Contains(string(out), "UTF-8") {
		t.Errorf("problem: got %s, want one naming customer.name and UTF-8", out)
	}
	if got := f.orderCount(); got != 0 {
		t.Errorf("orders: got %d, want 0", got)
	}
}

// TestServerWithoutShop: a process running no shop role (no Catalog)
// serves health and metrics, and answers the shop's paths with a 404
// problem rather than failing on them.
func TestServerWithoutShop(t *testing.T) {
	h := NewServer(Deps{Ready: func(context.Context) error { return nil }})
	for path, want := range map[string]int{
		"/livez": http.StatusOK, "/readyz": http.StatusOK, "/metrics": http.StatusOK,
		"/api/v1/products?market=AE": http.StatusNotFound, "/api": http.StatusNotFound,
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: got %d, want %d", path, rec.Code, want)
		}
		if want == http.StatusNotFound && rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s: got Content-Type %q, want a problem", path, rec.Header().Get("Content-Type"))
		}
	}
}

package httpapi

import (
	"strings"
	"testing"

	"github.com/souq-commerce/souq/internal/souq"
)

type cartResponse struct {
	ID     string    `json:"id"`
	Market string    `json:"market"`
	Items  int       `json:"items"`
	Total  moneyJSON `json:"total"`
	VAT    moneyJSON `json:"vat"`
	Lines  []struct {
		ProductID string `json:"product_id"`
		Quantity  int    `json:"quantity"`
		Stock     int    `json:"stock"`
		Available bool   `json:"available"`
	} `json:"lines"`
}

func TestCartLifecycle(t *testing.T) {
	f := newFixture(t)
	a := f.product(5, 8900)
	b := f.product(3, 1000)

	status, _, body := f.do("POST", "/api/v1/carts", nil)
	c := decodeJSON[cartResponse](t, body)
	if status != 201 || c.Market != "AE" || c.Total.Currency != souq.AED {
		t.Fatalf("create without body: got %d %s, want 201 in AE", status, body)
	}
	path := "/api/v1/carts/" + c.ID
	step := func(method, p string, in any, wantStatus int) cartResponse {
		t.Helper()
		status, _, body := f.do(method, p, in)
		if status != wantStatus {
			t.Fatalf("%s %s: got %d %s, want %d", method, p, status, body, wantStatus)
		}
		return decodeJSON[cartResponse](t, body)
	}
	step("POST", path+"/items", item(a.ID, 1), 200)
	step("POST", path+"/items", item(a.ID, 2), 200)
	got := step("POST", path+"/items", item(b.ID, 1), 200)
	if len(got.Lines) != 2 || got.Lines[0].Quantity != 3 || got.Lines[0].Stock != 5 || got.Items != 4 || got.Total.Amount != 3*8900+1000 {
		t.Fatalf("after adds: got %+v, want a×3 then b×1, total %d", got, 3*8900+1000)
	}
	got = step("PUT", path+"/items/"+string(a.ID), map[string]any{"quantity": 1}, 200)
	if got.Items != 2 || got.Total.Amount != 9900 || got.VAT.Amount != 472 { // per line: 424 (of 89.00) + 48 (of 10.00); on the total it would be 471
		t.Errorf("after set: got items %d total %d VAT %d, want 2, 9900, 472", got.Items, got.Total.Amount, got.VAT.Amount)
	}
	got = step("PATCH", path, map[string]any{"market": "KW"}, 200)
	if got.Market != "KW" || got.Total.Currency != souq.KWD || got.Total.Amount != 99000 || got.VAT.Amount != 0 {
		t.Errorf("after market change: got %+v, want KWD 99.000 without VAT", got)
	}
	got = step("DELETE", path+"/items/"+string(b.ID), nil, 200)
	if len(got.Lines) != 1 || got.Items != 1 {
		t.Errorf("after delete: got %+v, want one line", got)
	}

	// A product added by slug is the same line as by id.
	got = step("POST", path+"/items", item(souq.ID(a.Slug), 1), 200)
	if len(got.Lines) != 1 || got.Lines[0].ProductID != string(a.ID) || got.Lines[0].Quantity != 2 {
		t.Errorf("add by slug: got %+v, want one line of %s ×2", got.Lines, a.ID)
	}
	if status, _, body := f.do("POST", "/api/v1/carts", map[string]any{}); status != 201 || !strings.Contains(string(body), `"market":"AE"`) {
		t.Errorf("create with {}: got %d %s, want 201 in AE", status, body)
	}

	for _, tt := range []struct {
		name, method, path string
		body               any
		status             int
		detail             string
	}{
		{"more than in stock", "POST", path + "/items", item(a.ID, 10), 409, "left in stock"},
		{"zero quantity", "POST", path + "/items", item(a.ID, 0), 422, "quantity"},
		{"negative set", "PUT", path + "/items/" + string(a.ID), map[string]any{"quantity": -1}, 422, "quantity"},
		{"set without quantity", "PUT", path + "/items/" + string(a.ID), map[string]any{}, 422, "quantity is required"},
		{"unknown product", "POST", path + "/items", item("prd_unknown0000000000", 1), 404, "not found"},
		{"missing product id", "POST", path + "/items", map[string]any{"quantity": 1}, 422, "product_id"},
		{"unknown market", "PATCH", path, map[string]any{"market": "EG"}, 422, "unknown market"},
		{"unknown cart", "GET", "/api/v1/carts/cart_nope", nil, 404, "cart not found"},
		{"unknown cart item add", "POST", "/api/v1/carts/cart_nope/items", item(a.ID, 1), 404, "cart not found"},
		{"create in unknown market", "POST", "/api/v1/carts", map[string]any{"market": "XX"}, 422, "unknown market"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, body := f.do(tt.method, tt.path, tt.body)
			p := wantProblem(t, status, hdr, body, tt.status)
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail: got %q, want it to mention %q", p.Detail, tt.detail)
			}
		})
	}
}

func TestProductNotSoldInMarket(t *testing.T) {
	f := newFixture(t)
	status, body := f.admin("POST", "/api/v1/admin/products", map[string]any{"sku": "UAE-ONLY", "slug": "uae-only", "brand": "Klairs",
		"category": "skincare", "name": map[string]any{"en": "Toner", "ar": "تونر"}, "prices": map[string]any{"AE": 5000}, "stock": 5})
	if status != 201 {
		t.Fatalf("create: %d %s", status, body)
	}
	p := decodeJSON[souq.Product](t, body)
	if status, _, _ := f.do("GET", "/api/v1/products/"+string(p.ID)+"?market=AE", nil); status != 200 {
		t.Errorf("in AE: got %d, want 200", status)
	}
	status, hdr, out := f.do("GET", "/api/v1/products/"+string(p.ID)+"?market=QA", nil)
	wantProblem(t, status, hdr, out, 404)
	_, _, out = f.do("POST", "/api/v1/carts", map[string]any{"market": "QA"})
	c := decodeJSON[cartResponse](t, out)
	status, hdr, out = f.do("POST", "/api/v1/carts/"+c.ID+"/items", item(p.ID, 1))
	wantProblem(t, status, hdr, out, 422)
}

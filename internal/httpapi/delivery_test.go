package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

// aeDelivery is the demo's UAE delivery: AED 15, free from AED 200, COD
// AED 10, cut-off 14:00, Dubai next day, elsewhere 2–3 days.
var aeDelivery = map[string]any{"fee": 1500, "free_over": 20000, "cod_fee": 1000, "cutoff": "14:00",
	"estimate": map[string]any{"min_days": 2, "max_days": 3}, "cities": map[string]any{"Dubai": map[string]any{"min_days": 1, "max_days": 1}}}

func TestDeliveryAPI(t *testing.T) {
	f := newFixture(t)
	p := f.product(10, 12350)
	if status, body := f.admin("PUT", "/api/v1/admin/delivery/ae", aeDelivery); status != http.StatusOK {
		t.Fatalf("put: got %d %s, want 200", status, body)
	}
	status, body := f.admin("GET", "/api/v1/admin/delivery", nil)
	list := decodeJSON[struct {
		Items []struct {
			Market string
			Fee    int64
			Cities map[string]struct {
				MinDays int `json:"min_days"`
			}
		}
	}](t, body)
	if status != http.StatusOK || len(list.Items) != 1 || list.Items[0].Market != "AE" || list.Items[0].Fee != 1500 || list.Items[0].Cities["Dubai"].MinDays != 1 {
		t.Fatalf("list: got %d %s, want the UAE's settings", status, body)
	}

	type estimate struct {
		MinDays       int    `json:"min_days"`
		MaxDays       int    `json:"max_days"`
		DispatchDate  string `json:"dispatch_date"`
		Earliest      string `json:"earliest"`
		DaysFromToday struct {
			MinDays int `json:"min_days"`
			MaxDays int `json:"max_days"`
		} `json:"days_from_today"`
	}
	type info struct {
		Configured bool
		Fee        moneyJSON
		FreeOver   *moneyJSON `json:"free_over"`
		CODFee     moneyJSON  `json:"cod_fee"`
		Estimate   *estimate
	}
	// The fixture's clock is 18:00 UTC, 22:00 in Dubai: past the cut-off,
	// so the order leaves tomorrow and arrives the day after.
	status, _, body = f.do("GET", "/api/v1/delivery?market=AE&city=Dubai", nil)
	got := decodeJSON[info](t, body)
	if status != http.StatusOK || !got.Configured || got.Fee.Amount != 1500 || got.FreeOver == nil || got.FreeOver.Amount != 20000 ||
		got.CODFee.Amount != 1000 || got.Estimate == nil {
		t.Fatalf("delivery in Dubai: got %d %s, want the UAE's fees and an estimate", status, body)
	}
	if e := *got.Estimate; e.MinDays != 1 || e.MaxDays != 1 || e.DispatchDate != "2026-11-28" || e.Earliest != "2026-11-29" || e.DaysFromToday.MinDays != 2 {
		t.Errorf("estimate in Dubai: got %+v, want 1 day from dispatch on 2026-11-28, arriving 2026-11-29, 2 days from today", e)
	}
	_, _, body = f.do("GET", "/api/v1/delivery?market=AE&city=Fujairah", nil)
	if e := decodeJSON[info](t, body).Estimate; e == nil || e.MinDays != 2 || e.MaxDays != 3 {
		t.Errorf("estimate in Fujairah: got %s, want the default 2-3 days", body)
	}
	_, _, body = f.do("GET", "/api/v1/delivery?market=OM", nil)
	if got := decodeJSON[info](t, body); got.Configured || got.Fee.Amount != 0 || got.Estimate != nil {
		t.Errorf("delivery in Oman: got %s, want unconfigured, free, no estimate", body)
	}

	// A cart shows the fee it would pay: AED 123.50 pays, AED 247.00 not.
	_, _, body = f.do("POST", "/api/v1/carts", map[string]any{"market": "AE"})
	cart := decodeJSON[struct{ ID string }](t, body).ID
	_, _, body = f.do("POST", "/api/v1/carts/"+cart+"/items", item(p.ID, 1))
	if fee := decodeJSON[cartJSON](t, body).DeliveryFee.Amount; fee != 1500 {
		t.Errorf("cart of AED 123.50: got delivery fee %d, want 1500", fee)
	}
	_, _, body = f.do("PUT", "/api/v1/carts/"+cart+"/items/"+string(p.ID), map[string]any{"quantity": 2})
	if fee := decodeJSON[cartJSON](t, body).DeliveryFee.Amount; fee != 0 {
		t.Errorf("cart of AED 247.00: got delivery fee %d, want 0 (free over AED 200)", fee)
	}

	// An order pays the fees, priced by the server.
	status, _, body = f.do("POST", "/api/v1/orders", orderBody(item(p.ID, 1)))
	o := decodeJSON[orderJSON](t, body)
	if status != http.StatusCreated || o.DeliveryFee.Amount != 1500 || o.CODFee.Amount != 1000 || o.Total.Amount != 12350+2500 {
		t.Fatalf("order: got %d, delivery fee %d, COD fee %d, total %d; want 201, 1500, 1000, %d (%s)",
			status, o.DeliveryFee.Amount, o.CODFee.Amount, o.Total.Amount, 12350+2500, body)
	}
	withFee := orderBody(item(p.ID, 1))
	withFee["delivery_fee"] = 0
	status, h, body := f.do("POST", "/api/v1/orders", withFee)
	wantProblem(t, status, h, body, http.StatusBadRequest)
}

func TestAdminDeliveryBadInput(t *testing.T) {
	f := newFixture(t)
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k, v := range aeDelivery {
			m[k] = v
		}
		m[k] = v
		return m
	}
	f.refuses(t, []badRequest{
		{"no token", "PUT", "/api/v1/admin/delivery/AE", aeDelivery, false, 401, ""},
		{"no token to list", "GET", "/api/v1/admin/delivery", nil, false, 401, ""},
		{"unknown market", "PUT", "/api/v1/admin/delivery/EG", aeDelivery, true, 404, ""},
		{"negative fee", "PUT", "/api/v1/admin/delivery/AE", with("fee", -1), true, 422, "fee"},
		{"negative threshold", "PUT", "/api/v1/admin/delivery/AE", with("free_over", -100), true, 422, "free_over"},
		{"negative COD fee", "PUT", "/api/v1/admin/delivery/AE", with("cod_fee", -1), true, 422, "cod_fee"},
		{"bad cut-off", "PUT", "/api/v1/admin/delivery/AE", with("cutoff", "2pm"), true, 422, "cutoff"},
		{"min over max", "PUT", "/api/v1/admin/delivery/AE", with("estimate", map[string]any{"min_days": 3, "max_days": 1}), true, 422, "estimate"},
		{"city of another market", "PUT", "/api/v1/admin/delivery/AE", with("cities", map[string]any{"Riyadh": map[string]any{"min_days": 1, "max_days": 1}}), true, 422, `cities[\"Riyadh\"]`},
		{"fee as text", "PUT", "/api/v1/admin/delivery/AE", with("fee", "15"), true, 400, ""},
		{"unknown field", "PUT", "/api/v1/admin/delivery/AE", with("vat", 5), true, 400, ""},
		{"unknown market in the shop's query", "GET", "/api/v1/delivery?market=EG", nil, false, 400, "market"},
		{"city of another market in the query", "GET", "/api/v1/delivery?market=AE&city=Riyadh", nil, false, 400, "city"},
	})
	if _, body := f.admin("GET", "/api/v1/admin/delivery", nil); !strings.Contains(string(body), `"items":[]`) {
		t.Errorf("settings after refused puts: got %s, want none", body)
	}
}

// TestOpenAPIDeliveryResponses validates the delivery routes' exchanges,
// and a cart and an order paying fees, against the document.
func TestOpenAPIDeliveryResponses(t *testing.T) {
	f := newFixture(t)
	a := &openAPICheck{t: t, f: f, v: newOpenAPIValidator(t)}
	p := f.product(10, 12350)
	a.do(openAPICall{method: "GET", path: "/api/v1/admin/delivery", admin: true, want: 200})
	a.do(openAPICall{method: "GET", path: "/api/v1/delivery?market=AE", want: 200})
	a.do(openAPICall{method: "PUT", path: "/api/v1/admin/delivery/AE", body: aeDelivery, admin: true, want: 200})
	sa := map[string]any{"fee": 2500, "free_over": 30000, "cod_fee": 1500, "cod_limit": 500000, "cutoff": "14:00",
		"estimate": map[string]any{"min_days": 2, "max_days": 3}}
	a.do(openAPICall{method: "PUT", path: "/api/v1/admin/delivery/SA", body: sa, admin: true, want: 200})
	a.do(openAPICall{method: "PUT", path: "/api/v1/admin/delivery/XX", body: sa, admin: true, want: 404, outside: true})
	sa["cutoff"] = "25:00"
	a.do(openAPICall{method: "PUT", path: "/api/v1/admin/delivery/SA", body: sa, admin: true, want: 422, outside: true})
	a.do(openAPICall{method: "GET", path: "/api/v1/admin/delivery", admin: true, want: 200})
	a.do(openAPICall{method: "GET", path: "/api/v1/delivery?market=AE&city=Dubai", want: 200})
	a.do(openAPICall{method: "GET", path: "/api/v1/delivery?market=SA&city=Tabuk", want: 200})
	a.do(openAPICall{method: "GET", path: "/api/v1/delivery?market=AE&city=Tabuk", want: 400})
	body, _ := a.do(openAPICall{method: "POST", path: "/api/v1/carts", body: map[string]any{"market": "AE"}, want: 201})
	cart := decodeJSON[struct{ ID string }](t, body).ID
	a.do(openAPICall{method: "POST", path: "/api/v1/carts/" + cart + "/items", body: item(p.ID, 1), want: 200})
	body, _ = a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: orderBody(item(p.ID, 1)), want: 201})
	created := decodeJSON[struct {
		ID          string `json:"id"`
		AccessToken string `json:"access_token"`
	}](t, body)
	a.do(openAPICall{method: "GET", path: "/api/v1/orders/" + created.ID + "?token=" + created.AccessToken, want: 200})

	// Cash on delivery over the limit: a 422 naming payment.method, with the limit.
	limited := map[string]any{"fee": 1500, "cod_fee": 1000, "cod_limit": 10000, "cutoff": "14:00", "estimate": map[string]any{"min_days": 1, "max_days": 2}}
	a.do(openAPICall{method: "PUT", path: "/api/v1/admin/delivery/AE", body: limited, admin: true, want: 200})
	body, _ = a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: orderBody(item(p.ID, 1)), want: 422})
	prob := decodeJSON[struct {
		InvalidParams []struct{ Name string } `json:"invalid_params"`
		CODLimit      struct{ Amount int64 }  `json:"cod_limit"`
	}](t, body)
	if len(prob.InvalidParams) != 1 || prob.InvalidParams[0].Name != "payment.method" || prob.CODLimit.Amount != 10000 {
		t.Errorf("COD over the limit: got %s, want payment.method named and cod_limit 10000", body)
	}
}

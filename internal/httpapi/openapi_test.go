package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi/datamodel"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/dashboard"
	"github.com/souq-commerce/souq/internal/payment"
)

// openAPIModel parses the embedded document as OpenAPI 3.1 and builds its
// model, failing on any error the library reports.
func openAPIModel(t *testing.T) (libopenapi.Document, *libopenapi.DocumentModel[v3.Document]) {
	t.Helper()
	doc, err := libopenapi.NewDocument(openAPIDocument)
	if err != nil {
		t.Fatalf("parse openapi.json: %v", err)
	}
	info := doc.GetSpecInfo()
	if info.SpecFormat != datamodel.OAS31 || info.Version != "3.1.0" {
		t.Fatalf("openapi.json: got format %q version %q, want %q version 3.1.0", info.SpecFormat, info.Version, datamodel.OAS31)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("build OpenAPI model: %v", err)
	}
	return doc, model
}

func TestOpenAPIDocument(t *testing.T) {
	doc, model := openAPIModel(t)
	info := model.Model.Info
	if got, want := info.Title, "Souq API"; got != want {
		t.Errorf("info.title: got %q, want %q", got, want)
	}
	for _, words := range []string{"minor units", "KWD", "VAT-inclusive"} {
		if !strings.Contains(info.Description, words) {
			t.Errorf("info.description does not mention %q", words)
		}
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("new validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("document is not valid OpenAPI 3.1: %v", e)
		}
	}
	// Every $ref must resolve; the index collects the ones that do not.
	for _, err := range model.Index.GetReferenceIndexErrors() {
		t.Errorf("reference: %v", err)
	}
	for _, err := range model.Index.GetResolver().GetResolvingErrors() {
		t.Errorf("resolving: %v", err)
	}
}

// TestOpenAPIRoutes checks the document and routes.go describe the same
// operations: every /api/ route is documented, and every documented
// operation is served.
func TestOpenAPIRoutes(t *testing.T) {
	_, model := openAPIModel(t)
	documented := map[string]bool{}
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	s := &server{Deps: Deps{Registry: prometheus.NewRegistry(), Catalog: &catalog.Service{}}}
	patterns := []string{}
	for _, rt := range s.routes() {
		patterns = append(patterns, rt.pattern)
	}
	// The dashboard serves on the same server (cmd/souq mounts it).
	dash := dashboard.New(dashboard.Deps{Source: noSnapshots{}, Login: dashboard.NewTokenAuth("x")})
	defer dash.Close()
	for _, rt := range dash.Routes() {
		patterns = append(patterns, rt.Pattern)
	}
	served := map[string]bool{}
	for _, pattern := range patterns {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok || !strings.HasPrefix(path, "/") {
			t.Fatalf("route %q: want a \"METHOD /path\" pattern", pattern)
		}
		served[method+" "+strings.TrimSuffix(path, "{$}")] = true
	}
	var missing, extra []string
	for op := range served {
		_, path, _ := strings.Cut(op, " ")
		if strings.HasPrefix(path, "/api/") && !documented[op] {
			missing = append(missing, op)
		}
	}
	for op := range documented {
		if !served[op] {
			extra = append(extra, op)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("routes not in openapi.json: got %d undocumented routes %v, want none", len(missing), missing)
	}
	if len(extra) > 0 {
		t.Errorf("openapi.json operations that are not routes: got %v, want none", extra)
	}
}

// TestOpenAPIConventions checks rules the whole document follows: admin
// operations need the admin token and nothing else does; every error
// response is a Problem document; request bodies are closed objects, as the
// server rejects unknown fields.
func TestOpenAPIConventions(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("decode openapi.json: %v", err)
	}
	paths := doc["paths"].(map[string]any)
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		item := paths[path].(map[string]any)
		for _, method := range slices.Sorted(maps.Keys(item)) {
			if method == "parameters" {
				continue
			}
			op := item[method].(map[string]any)
			name := strings.ToUpper(method) + " " + path
			t.Run(name, func(t *testing.T) {
				schemes := securitySchemeNames(op)
				admin := strings.HasPrefix(path, "/api/v1/admin/")
				switch {
				case admin && !slices.Equal(schemes, []string{"adminBearer"}):
					t.Errorf("security: got %v, want [adminBearer]", schemes)
				case !admin && slices.Contains(schemes, "adminBearer"):
					t.Errorf("security: got %v, want no adminBearer outside /api/v1/admin", schemes)
				}
				if admin && !hasResponseCode(op, "401") {
					t.Errorf("responses: got none for 401, want one on an admin operation")
				}
				if strings.HasPrefix(path, "/api/v1/") && !hasResponseCode(op, "500") {
					t.Errorf("responses: got none for 500, want one")
				}
				for code, r := range op["responses"].(map[string]any) {
					if code < "400" || strings.HasPrefix(path, "/dashboard") { // pages answer errors in HTML
						continue
					}
					content, _ := resolveRef(doc, r)["content"].(map[string]any)
					var types []string
					for ct := range content {
						types = append(types, ct)
					}
					if len(types) != 1 || types[0] != "application/problem+json" {
						t.Errorf("response %s: got content types %v, want [application/problem+json]", code, types)
						continue
					}
					schema := content["application/problem+json"].(map[string]any)["schema"].(map[string]any)
					if got := schema["$ref"]; got != "#/components/schemas/Problem" {
						t.Errorf("response %s: got schema %v, want the Problem schema", code, got)
					}
				}
				body, ok := op["requestBody"].(map[string]any)
				if !ok {
					return
				}
				content := resolveRef(doc, body)["content"].(map[string]any)
				if _, jpeg := content["image/jpeg"]; jpeg && len(content) == 2 && content["image/png"] != nil {
					return // a photo upload: the body is the image itself
				}
				mt, ok := content["application/json"].(map[string]any)
				if !ok || len(content) != 1 {
					t.Errorf("request body: got content %v, want application/json only", content)
					return
				}
				for _, where := range openRequestObjects(doc, mt["schema"], "body", map[string]bool{}) {
					t.Errorf("request body: got an object without additionalProperties: false at %s, want every request object closed", where)
				}
			})
		}
	}
}

// securitySchemeNames lists the schemes an operation's security names.
func securitySchemeNames(op map[string]any) []string {
	var out []string
	reqs, _ := op["security"].([]any)
	for _, r := range reqs {
		for name := range r.(map[string]any) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// hasResponseCode reports whether an operation documents a status code.
func hasResponseCode(op map[string]any, code string) bool {
	_, ok := op["responses"].(map[string]any)[code]
	return ok
}

// resolveRef follows a local $ref.
func resolveRef(doc map[string]any, v any) map[string]any {
	m, _ := v.(map[string]any)
	ref, ok := m["$ref"].(string)
	if !ok {
		return m
	}
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		cur = cur.(map[string]any)[part]
	}
	return resolveRef(doc, cur)
}

// openRequestObjects lists where an object schema with named properties does not
// set additionalProperties to false. Maps (schemas with propertyNames or an
// additionalProperties schema) are fine.
func openRequestObjects(doc map[string]any, v any, where string, seen map[string]bool) []string {
	m, _ := v.(map[string]any)
	if m == nil {
		return nil
	}
	if ref, ok := m["$ref"].(string); ok {
		if seen[ref] {
			return nil
		}
		seen[ref] = true
		return openRequestObjects(doc, resolveRef(doc, m), where, seen)
	}
	var out []string
	if props, ok := m["properties"].(map[string]any); ok {
		if m["additionalProperties"] != false {
			out = append(out, where)
		}
		for name, p := range props {
			out = append(out, openRequestObjects(doc, p, where+"."+name, seen)...)
		}
	}
	if _, ok := m["propertyNames"]; ok {
		out = append(out, openRequestObjects(doc, m["additionalProperties"], where+".*", seen)...)
	}
	out = append(out, openRequestObjects(doc, m["items"], where+"[]", seen)...)
	for _, kw := range []string{"allOf", "oneOf", "anyOf"} {
		list, _ := m[kw].([]any)
		for _, s := range list {
			out = append(out, openRequestObjects(doc, s, where, seen)...)
		}
	}
	return out
}

// openAPICheck sends requests to a fixture and validates each exchange against
// the document.
type openAPICheck struct {
	t *testing.T
	f *fixture
	v validator.Validator
}

// openAPICall is one request of TestOpenAPIResponses.
type openAPICall struct {
	method, path string
	body         any // marshalled to JSON; a string or []byte is sent as is
	header       []string
	admin        bool
	want         int
	// outside marks a request that breaks the document on purpose (an
	// error case): only the response is validated.
	outside bool
}

// do sends c, checks its status and validates the response (and, unless
// c.outside, the request) against the document. It returns the body and
// headers.
func (a *openAPICheck) do(c openAPICall) ([]byte, http.Header) {
	a.t.Helper()
	var reqBody []byte
	switch b := c.body.(type) {
	case nil:
	case string:
		reqBody = []byte(b)
	case []byte:
		reqBody = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.t.Fatalf("marshal: %v", err)
		}
		reqBody = j
	}
	newRequest := func() *http.Request {
		var r io.Reader
		if c.body != nil {
			r = bytes.NewReader(reqBody)
		}
		req, err := http.NewRequest(c.method, a.f.url+c.path, r)
		if err != nil {
			a.t.Fatalf("new request: %v", err)
		}
		if c.body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.admin {
			req.Header.Set("Authorization", "Bearer "+testAdminToken)
		}
		for i := 0; i+1 < len(c.header); i += 2 {
			req.Header.Set(c.header[i], c.header[i+1])
		}
		return req
	}
	resp, err := a.f.client.Do(newRequest())
	if err != nil {
		a.t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		a.t.Fatalf("read body: %v", err)
	}
	name := c.method + " " + c.path
	if resp.StatusCode != c.want {
		a.t.Errorf("%s: got status %d, want %d (body %s)", name, resp.StatusCode, c.want, body)
		return body, resp.Header
	}
	req := newRequest()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.Request = req
	var (
		ok   bool
		errs []*openAPIValidationError
	)
	if c.outside {
		ok, errs = a.v.ValidateHttpResponse(req, resp)
	} else {
		ok, errs = a.v.ValidateHttpRequestResponse(req, resp)
	}
	if !ok || len(errs) > 0 {
		for _, e := range errs {
			a.t.Errorf("%s (%d): got %s, want an exchange that matches openapi.json (response body %s)", name, resp.StatusCode, describeValidation(e), body)
		}
		if len(errs) == 0 {
			a.t.Errorf("%s: validation failed without errors", name)
		}
	}
	return body, resp.Header
}

// describeValidation renders a validation error with its schema failures.
func describeValidation(e *openAPIValidationError) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.Message, e.Reason)
	for _, s := range e.SchemaValidationErrors {
		fmt.Fprintf(&b, " [%s at %s]", s.Reason, s.FieldPath)
	}
	return b.String()
}

// newOpenAPIValidator returns a validator for the document that also checks
// formats (date-time, email, uri-reference).
func newOpenAPIValidator(t *testing.T) validator.Validator {
	t.Helper()
	doc, _ := openAPIModel(t)
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		t.Fatalf("new validator: %v", errs)
	}
	return v
}

// TestOpenAPIResponses sends a representative request to every kind of
// endpoint of a real server and validates each response (status, content
// type, headers and body) against the document.
func TestOpenAPIResponses(t *testing.T) {
	f := newFixture(t)
	a := &openAPICheck{t: t, f: f, v: newOpenAPIValidator(t)}
	p := f.product(10, 12350)
	scarce := f.product(1, 5000)
	esc := url.QueryEscape

	// Catalogue.
	a.do(openAPICall{method: "GET", path: "/api/v1/markets", want: 200})
	a.do(openAPICall{method: "GET", path: "/api/v1/products?market=AE&sort=price_asc&page=1&page_size=10", want: 200})
	a.do(openAPICall{method: "GET", path: "/api/v1/products?market=KW&q=snail&category=skincare&brand=COSRX", want: 200})
	a.do(openAPICall{method: "GET", path: "/api/v1/products/" + string(p.ID) + "?market=SA", want: 200})
	a.do(openAPICall{method: "GET", path: "/api/v1/products/" + p.Slug + "?market=BH", want: 200})
	a.do(openAPICall{method: "GET", path: "/api/v1/facets", want: 200})

	// Carts.
	a.do(openAPICall{method: "POST", path: "/api/v1/carts", want: 201})
	body, header := a.do(openAPICall{method: "POST", path: "/api/v1/carts", body: map[string]any{"market": "AE"}, want: 201})
	cart := decodeJSON[struct{ ID string }](t, body).ID
	if cart == "" || header.Get("Location") != "/api/v1/carts/"+cart {
		t.Fatalf("create cart: got id %q and Location %q, want an id and its path", cart, header.Get("Location"))
	}
	a.do(openAPICall{method: "POST", path: "/api/v1/carts/" + cart + "/items", body: item(p.ID, 2), want: 200})
	a.do(openAPICall{method: "PUT", path: "/api/v1/carts/" + cart + "/items/" + string(scarce.ID), body: map[string]any{"quantity": 1}, want: 200})
	a.do(openAPICall{method: "GET", path: "/api/v1/carts/" + cart, want: 200})
	a.do(openAPICall{method: "PATCH", path: "/api/v1/carts/" + cart, body: map[string]any{"market": "KW"}, want: 200})
	a.do(openAPICall{method: "PATCH", path: "/api/v1/carts/" + cart, body: map[string]any{"market": "AE"}, want: 200})
	a.do(openAPICall{method: "DELETE", path: "/api/v1/carts/" + cart + "/items/" + string(scarce.ID), want: 200})

	// Orders: items with an idempotency key, its replay and misuse.
	body, _ = a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: orderBody(item(p.ID, 1)), header: []string{"Idempotency-Key", "k-1"}, want: 201})
	created := decodeJSON[struct {
		ID          string `json:"id"`
		AccessToken string `json:"access_token"`
	}](t, body)
	_, header = a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: orderBody(item(p.ID, 1)), header: []string{"Idempotency-Key", "k-1"}, want: 201})
	if got := header.Get("Idempotent-Replayed"); got != "true" {
		t.Errorf("replay: got Idempotent-Replayed %q, want true", got)
	}
	a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: orderBody(item(p.ID, 2)), header: []string{"Idempotency-Key", "k-1"}, want: 422})
	// A card order of the cart.
	fromCart := orderBody()
	delete(fromCart, "items")
	fromCart["cart_id"] = cart
	fromCart["payment"] = map[string]any{"method": "card", "token": payment.TokenOK}
	body, _ = a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: fromCart, want: 201})
	paid := decodeJSON[struct {
		ID          string
		Number      string
		Status      string
		AccessToken string `json:"access_token"`
	}](t, body)
	if paid.Status != "paid" {
		t.Errorf("card order: got status %q, want paid", paid.Status)
	}
	declined := orderBody(item(p.ID, 1))
	declined["payment"] = map[string]any{"method": "card", "token": payment.TokenDeclined}
	a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: declined, want: 402})

	order := "/api/v1/orders/" + created.ID
	a.do(openAPICall{method: "GET", path: order + "?token=" + esc(created.AccessToken), want: 200})
	a.do(openAPICall{method: "GET", path: order, header: []string{"Authorization", "Bearer " + created.AccessToken}, want: 200})
	a.do(openAPICall{method: "POST", path: order + "/cancel?token=" + esc(created.AccessToken), want: 200})
	a.do(openAPICall{method: "POST", path: order + "/cancel?token=" + esc(created.AccessToken), want: 409})
	// Card payments: paying an order that is paid answers it as it is;
	// the test provider sends no webhooks, so every one is refused.
	a.do(openAPICall{method: "POST", path: "/api/v1/orders/" + paid.ID + "/payment?token=" + esc(paid.AccessToken), want: 200})
	a.do(openAPICall{method: "POST", path: "/api/v1/orders/" + paid.ID + "/payment?token=" + esc(paid.AccessToken),
		body: map[string]any{"method": "card", "return_url": "ftp://shop.example/back"}, want: 422})
	a.do(openAPICall{method: "POST", path: "/api/v1/orders/" + paid.ID + "/payment", want: 404, outside: true})
	a.do(openAPICall{method: "POST", path: "/api/v1/payments/webhook", body: map[string]any{"id": "evt_1"}, want: 401})

	// Errors.
	a.do(openAPICall{method: "GET", path: order, want: 404, outside: true})
	a.do(openAPICall{method: "GET", path: "/api/v1/products/prd_aaaaaaaaaaaaaaaaaaaa", want: 404})
	a.do(openAPICall{method: "GET", path: "/api/v1/products?page=two", want: 400, outside: true})
	a.do(openAPICall{method: "GET", path: "/api/v1/products?market=XX", want: 400, outside: true})
	a.do(openAPICall{method: "POST", path: "/api/v1/carts/" + cart + "/items", body: `{"product_id":`, want: 400, outside: true})
	withPrice := orderBody(item(p.ID, 1))
	withPrice["total"] = 1
	a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: withPrice, want: 400, outside: true})
	a.do(openAPICall{method: "POST", path: "/api/v1/carts/" + cart + "/items", body: item(scarce.ID, 5), want: 409})
	a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: orderBody(item(scarce.ID, 3)), want: 409})
	noEmail := orderBody(item(p.ID, 1))
	delete(noEmail["customer"].(map[string]any), "email")
	a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: noEmail, want: 201})
	badEmail := orderBody(item(p.ID, 1))
	badEmail["customer"].(map[string]any)["email"] = "not-an-email"
	a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: badEmail, want: 422, outside: true})
	a.do(openAPICall{method: "POST", path: "/api/v1/carts/" + cart + "/items", body: item(p.ID, 0), want: 422, outside: true})
	a.do(openAPICall{method: "POST", path: "/api/v1/carts", body: "market=AE", header: []string{"Content-Type", "text/plain"}, want: 415, outside: true})
	a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: `{"market":"` + strings.Repeat("A", maxBody) + `"}`, want: 413, outside: true})
	a.do(openAPICall{method: "GET", path: "/api/v1/admin/orders", want: 401, outside: true})

	// Admin.
	stock := 5
	input := map[string]any{
		"sku": "GLOW-1", "slug": "glow-serum", "brand": "Beauty of Joseon", "category": "skincare",
		"name":        map[string]any{"en": "Glow Serum", "ar": "سيروم التوهج"},
		"description": map[string]any{"en": "Propolis and niacinamide."},
		"image":       "/img/glow.jpg", "prices": map[string]any{"AE": 8900, "KW": 7250}, "stock": stock,
	}
	body, header = a.do(openAPICall{method: "POST", path: "/api/v1/admin/products", body: input, admin: true, want: 201})
	glow := decodeJSON[struct{ ID string }](t, body).ID
	if header.Get("Location") != "/api/v1/products/"+glow {
		t.Errorf("create product: got Location %q, want /api/v1/products/%s", header.Get("Location"), glow)
	}
	a.do(openAPICall{method: "POST", path: "/api/v1/admin/products", body: input, admin: true, want: 409})
	delete(input, "stock")
	input["prices"] = map[string]any{"AE": 9900, "SA": 9900, "OM": 990}
	a.do(openAPICall{method: "PUT", path: "/api/v1/admin/products/" + glow, body: input, admin: true, want: 200})
	a.do(openAPICall{method: "PUT", path: "/api/v1/admin/products/" + glow + "/stock", body: map[string]any{"quantity": 7}, admin: true, want: 200})
	a.do(openAPICall{method: "PUT", path: "/api/v1/admin/products/prd_aaaaaaaaaaaaaaaaaaaa/stock", body: map[string]any{"quantity": 7}, admin: true, want: 404})
	a.do(openAPICall{method: "GET", path: "/api/v1/admin/orders?page=1&page_size=10", admin: true, want: 200})
	a.do(openAPICall{method: "GET", path: "/api/v1/admin/orders/" + paid.ID, admin: true, want: 200})
	body, _ = a.do(openAPICall{method: "GET", path: "/api/v1/admin/orders/" + strings.ToLower(paid.Number), admin: true, want: 200})
	if got := decodeJSON[struct{ ID string }](t, body).ID; paid.Number == "" || got != paid.ID {
		t.Errorf("admin order by number %q: got %q, want %s", paid.Number, got, paid.ID)
	}
	a.do(openAPICall{method: "GET", path: "/api/v1/admin/orders/SQ-000000", admin: true, want: 404})
	a.do(openAPICall{method: "POST", path: "/api/v1/admin/orders/" + paid.ID + "/capture", admin: true, want: 200})
	a.do(openAPICall{method: "POST", path: "/api/v1/admin/orders/" + created.ID + "/capture", admin: true, want: 409})
	a.do(openAPICall{method: "POST", path: "/api/v1/admin/orders/ord_aaaaaaaaaaaaaaaaaaaa/capture", admin: true, want: 404})
	a.do(openAPICall{method: "POST", path: "/api/v1/admin/orders/" + paid.ID + "/cancel", admin: true, want: 200})

	// Sales.
	a.do(openAPICall{method: "GET", path: "/api/v1/sales/current", want: 404})
	now := f.clock()
	sale := map[string]any{
		"name":      map[string]any{"en": "White Friday", "ar": "الجمعة البيضاء"},
		"starts_at": now.Add(-time.Hour).Format(time.RFC3339), "ends_at": now.Add(6 * time.Hour).Format(time.RFC3339),
		"items": []any{
			map[string]any{"product_id": p.ID, "discount_percent": 20},
			map[string]any{"product_id": glow, "prices": map[string]any{"AE": 5000, "OM": 500}},
		},
	}
	body, _ = a.do(openAPICall{method: "POST", path: "/api/v1/admin/sales", body: sale, admin: true, want: 201})
	saleID := decodeJSON[struct{ ID string }](t, body).ID
	a.do(openAPICall{method: "POST", path: "/api/v1/admin/sales", body: sale, admin: true, want: 409})
	a.do(openAPICall{method: "GET", path: "/api/v1/admin/sales", admin: true, want: 200})
	a.do(openAPICall{method: "GET", path: "/api/v1/sales/current", want: 200})
	body, _ = a.do(openAPICall{method: "GET", path: "/api/v1/products/" + string(p.ID) + "?market=OM", want: 200})
	if onSale := decodeJSON[struct {
		OnSale bool `json:"on_sale"`
	}](t, body); !onSale.OnSale {
		t.Errorf("product during the sale: got on_sale false, want true (body %s)", body)
	}
	a.do(openAPICall{method: "GET", path: "/api/v1/products?market=AE&sort=price_desc", want: 200})
	a.do(openAPICall{method: "DELETE", path: "/api/v1/admin/sales/" + saleID, admin: true, want: 204})
	a.do(openAPICall{method: "DELETE", path: "/api/v1/admin/sales/" + saleID, admin: true, want: 404})

	// Operations.
	a.do(openAPICall{method: "GET", path: "/livez", want: 200})
	a.do(openAPICall{method: "GET", path: "/readyz", want: 200})
	a.do(openAPICall{method: "GET", path: "/api/openapi.json", want: 200})
}

// TestOpenAPIResponsesCanFail checks the validation has teeth: responses
// that drift from the document are reported, for the right reason.
func TestOpenAPIResponsesCanFail(t *testing.T) {
	v := newOpenAPIValidator(t)
	money := `{"amount":100,"currency":"AED","exponent":2,"display":{"en":"AED 1.00","ar":"١٫٠٠ د.إ."}}`
	market := `{"code":"AE","name":{"en":"UAE","ar":"الإمارات"},"currency":"AED","vat_basis_points":500,"phone_prefix":"+971","phone_digits":9,"cities":["Dubai"]}`
	cart := `{"id":"cart_` + strings.Repeat("a", 43) + `","market":"KW","currency":"KWD","vat_basis_points":0,"lines":[],"items":0,` +
		`"total":` + strings.Replace(money, "AED", "KWD", 1) + `,"vat":` + money + `,"created_at":"2026-11-27T18:00:00Z","updated_at":"2026-11-27T18:00:00Z"}`
	tests := []struct {
		name, path        string
		status            int
		contentType, body string
		want              string // in the validation error; empty for a valid response
	}{
		{"valid", "/api/v1/markets", 200, "application/json", `{"items":[` + market + `]}`, ""},
		{"extra field", "/api/v1/markets", 200, "application/json", `{"items":[` + market + `],"total":1}`, "'total' not allowed"},
		{"missing field", "/api/v1/markets", 200, "application/json",
			`{"items":[` + strings.Replace(market, `"vat_basis_points":500,`, "", 1) + `]}`, "missing property 'vat_basis_points'"},
		{"exponent of the currency", "/api/v1/carts/x", 200, "application/json", cart, "value must be 3 at $.total.exponent"},
		{"problem as JSON", "/api/v1/facets", 500, "application/json",
			`{"type":"about:blank","title":"Internal Server Error","status":500}`, "content type 'application/json'"},
		{"undocumented status", "/api/v1/markets", 404, "application/problem+json",
			`{"type":"about:blank","title":"Not Found","status":404}`, "'404'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", "http://souq.test"+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{"Content-Type": {tt.contentType}},
				Body: io.NopCloser(strings.NewReader(tt.body)), Request: req}
			ok, errs := v.ValidateHttpResponse(req, resp)
			var got []string
			for _, e := range errs {
				got = append(got, describeValidation(e))
			}
			switch {
			case tt.want == "" && (!ok || len(errs) > 0):
				t.Errorf("GET %s %d: got errors %q, want a valid response", tt.path, tt.status, got)
			case tt.want != "" && (ok || !strings.Contains(strings.Join(got, "\n"), tt.want)):
				t.Errorf("GET %s %d: got valid=%t errors %q, want an error about %s", tt.path, tt.status, ok, got, tt.want)
			}
		})
	}
}

// openAPIValidationError is the validator's error type.
type openAPIValidationError = verrors.ValidationError

// noSnapshots is a dashboard source for listing routes; it is never asked.
type noSnapshots struct{}

func (noSnapshots) Snapshot(context.Context, time.Time) (analytics.Snapshot, error) {
	return analytics.Snapshot{}, errors.New("no snapshots here")
}

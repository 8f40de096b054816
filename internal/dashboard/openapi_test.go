package dashboard

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
)

type openAPIError = verrors.ValidationError

// TestResponsesMatchOpenAPI sends each analytics request (good and bad)
// to a dashboard over the war room's fixture and validates the exchange
// against the API's OpenAPI document, as the API's own tests do for
// theirs (the API's test server does not mount the dashboard).
func TestResponsesMatchOpenAPI(t *testing.T) {
	spec, err := os.ReadFile("../httpapi/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		t.Fatalf("new validator: %v", errs)
	}
	_, _, _, h := newWarTest(t, func(d *Deps) { d.Authorize = NewTokenAuth("secret").Authorize })
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, c := range []struct {
		path   string
		want   int
		accept string
	}{
		{"/api/v1/analytics/audience", 200, ""},
		{"/api/v1/analytics/audience?format=csv", 200, ""},
		{"/api/v1/analytics/compare", 200, ""},
		{"/api/v1/analytics/compare", 200, "text/csv"},
		{"/api/v1/analytics/sale", 200, ""},
		{"/api/v1/analytics/sale?format=csv&lang=ar", 200, ""},
		{"/api/v1/analytics/stock", 200, ""},
		{"/api/v1/analytics/stock?list=out&format=csv", 200, ""},
		{"/api/v1/analytics/stock?list=low", 200, ""},
		{"/api/v1/analytics/products", 200, ""},
		{"/api/v1/analytics/products?market=KW&window=today&sort=name&order=asc&limit=10&lang=ar", 200, ""},
		{"/api/v1/analytics/products?format=csv", 200, ""},
		{"/api/v1/analytics/products?sort=brand&brand=Dove", 200, ""},
		{"/api/v1/analytics/alerts", 200, ""},
		{"/api/v1/analytics/alerts?since=2026-03-14T09:00:00Z&format=csv", 200, ""},
		{"/api/v1/analytics/trending?window=15m", 200, ""},
		{"/api/v1/analytics/trending?format=csv&lang=ar", 200, ""},
		{"/api/v1/analytics/markets", 200, ""},
		{"/api/v1/analytics/markets?format=csv", 200, ""},
		{"/api/v1/analytics/products?limit=0", 400, ""},
		{"/api/v1/analytics/stock?list=all", 400, ""},
		{"/api/v1/analytics/alerts?since=now", 400, ""},
	} {
		t.Run(c.path+" "+c.accept, func(t *testing.T) {
			newReq := func() *http.Request {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+c.path, nil)
				req.Header.Set("Authorization", "Bearer secret")
				if c.accept != "" {
					req.Header.Set("Accept", c.accept)
				}
				return req
			}
			res, err := srv.Client().Do(newReq())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != c.want {
				t.Fatalf("got %d, want %d: %s", res.StatusCode, c.want, b)
			}
			res.Body = io.NopCloser(bytes.NewReader(b))
			res.Request = newReq()
			var ok bool
			var verrs []*openAPIError
			if c.want < 400 {
				ok, verrs = v.ValidateHttpRequestResponse(res.Request, res)
			} else {
				ok, verrs = v.ValidateHttpResponse(res.Request, res)
			}
			if !ok || len(verrs) > 0 {
				for _, e := range verrs {
					var sb strings.Builder
					fmt.Fprintf(&sb, "%s: %s", e.Message, e.Reason)
					for _, s := range e.SchemaValidationErrors {
						fmt.Fprintf(&sb, " [%s at %s]", s.Reason, s.FieldPath)
					}
					t.Errorf("got %s, want an exchange that matches openapi.json (body %.300s)", sb.String(), b)
				}
			}
		})
	}
}

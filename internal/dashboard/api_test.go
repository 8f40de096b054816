package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/souq"
)

func decodeAs[T any](t *testing.T, res *http.Response) T {
	t.Helper()
	var v T
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatalf("decode %T: %v", v, err)
	}
	return v
}

func wantJSON(t *testing.T, res *http.Response, status int, contentType string) {
	t.Helper()
	if res.StatusCode != status || res.Header.Get("Content-Type") != contentType {
		t.Fatalf("got %d %q, want %d %q", res.StatusCode, res.Header.Get("Content-Type"), status, contentType)
	}
}

func TestJSONEndpoints(t *testing.T) {
	_, _, h := newTest(t, nil)
	want := sampleSnapshot()

	t.Run("snapshot", func(t *testing.T) {
		res := get(t, h, "/api/v1/analytics/snapshot")
		wantJSON(t, res, http.StatusOK, "application/json")
		if diff := cmp.Diff(want, decodeAs[analytics.Snapshot](t, res)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("health", func(t *testing.T) {
		res := get(t, h, "/api/v1/analytics/health")
		wantJSON(t, res, http.StatusOK, "application/json")
		raw := decodeAs[map[string]any](t, res)
		if raw["processing_delay_seconds"] != 2.5 || raw["dead_letters"] != 2.0 || raw["stream_lag"] != 12.0 {
			t.Errorf("got %v", raw)
		}
	})
	t.Run("markets", func(t *testing.T) {
		res := get(t, h, "/api/v1/analytics/markets")
		wantJSON(t, res, http.StatusOK, "application/json")
		got := decodeAs[MarketsResponse](t, res)
		if diff := cmp.Diff(MarketsResponse{At: want.At, Watermark: want.Watermark, TodayFrom: want.TodayFrom, Markets: want.Markets}, got,
			cmpopts.IgnoreFields(MarketsResponse{}, "Query")); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if got.Query == nil || !strings.Contains(got.Query.DuckDB, "'today'") || !strings.Contains(got.Query.Athena, "souq_events") {
			t.Errorf("query: got %+v, want the totals per span and market", got.Query)
		}
	})
	t.Run("funnel", func(t *testing.T) {
		res := get(t, h, "/api/v1/analytics/funnel")
		wantJSON(t, res, http.StatusOK, "application/json")
		got := decodeAs[FunnelResponse](t, res)
		wantF := FunnelResponse{At: want.At, Watermark: want.Watermark, From: want.Minutes[0].Start,
			To: t0.Truncate(time.Minute).Add(time.Minute), Funnel: want.Funnel}
		if diff := cmp.Diff(wantF, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if got.Funnel.Orders != 42 || got.Funnel.Views != 1234 {
			t.Errorf("funnel %+v, want 1234 views and 42 orders", got.Funnel)
		}
	})
	for _, tc := range []struct {
		query, window string
		ids           []string
		named         []bool
	}{
		{"", "5m", []string{"prd_oud", "prd_nameless"}, []bool{true, false}},
		{"?window=5m", "5m", []string{"prd_oud", "prd_nameless"}, []bool{true, false}},
		{"?window=15m", "15m", []string{"prd_cream"}, []bool{true}},
		{"?window=60m", "60m", []string{}, []bool{}},
	} {
		t.Run("trending"+tc.query, func(t *testing.T) {
			res := get(t, h, "/api/v1/analytics/trending"+tc.query)
			wantJSON(t, res, http.StatusOK, "application/json")
			got := decodeAs[TrendingResponse](t, res)
			if got.Window != tc.window || !got.At.Equal(t0) {
				t.Errorf("window %q at %v, want %q at %v", got.Window, got.At, tc.window, t0)
			}
			ids, named := []string{}, []bool{}
			for _, p := range got.Products {
				ids, named = append(ids, p.ProductID), append(named, p.Name != nil)
				if p.Name != nil && *p.Name != sampleNames[p.ProductID] {
					t.Errorf("%s: name %+v, want %+v", p.ProductID, *p.Name, sampleNames[p.ProductID])
				}
			}
			if diff := cmp.Diff(tc.ids, ids); diff != "" {
				t.Errorf("products (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.named, named); diff != "" {
				t.Errorf("named (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("trending names in JSON", func(t *testing.T) {
		b := body(t, get(t, h, "/api/v1/analytics/trending?window=5m"))
		if !strings.Contains(b, `"name":{"en":"Royal Oud Perfume","ar":"عطر العود الملكي"}`) || !strings.Contains(b, `"views":40`) {
			t.Errorf("body %s", b)
		}
	})
}

type problemDoc struct {
	Type, Title, Detail, Instance string
	Status                        int
}

func TestJSONErrors(t *testing.T) {
	for _, tc := range []struct {
		name, target string
		edit         func(*Deps)
		fail         bool
		status       int
		typ          string
	}{
		{"bad window", "/api/v1/analytics/trending?window=10m", nil, false, 400, "urn:souq:problem:bad-request"},
		{"window without unit", "/api/v1/analytics/trending?window=5", nil, false, 400, "urn:souq:problem:bad-request"},
		{"store down: snapshot", "/api/v1/analytics/snapshot", nil, true, 503, "about:blank"},
		{"store down: markets", "/api/v1/analytics/markets", nil, true, 503, "about:blank"},
		{"store down: funnel", "/api/v1/analytics/funnel", nil, true, 503, "about:blank"},
		{"store down: trending", "/api/v1/analytics/trending", nil, true, 503, "about:blank"},
		{"no health here", "/api/v1/analytics/health", func(d *Deps) { d.Health = nil }, false, 503, "about:blank"},
		{"health failing", "/api/v1/analytics/health", func(d *Deps) { d.Health = fakeHealth{err: errStore} }, false, 503, "about:blank"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, src, h := newTest(t, tc.edit)
			if tc.fail {
				src.fail(errStore)
			}
			res := get(t, h, tc.target)
			wantJSON(t, res, tc.status, "application/problem+json")
			p := decodeAs[problemDoc](t, res)
			if p.Status != tc.status || p.Type != tc.typ || p.Title != http.StatusText(tc.status) || p.Detail == "" {
				t.Errorf("problem %+v, want status %d type %s with a title and detail", p, tc.status, tc.typ)
			}
			if strings.Contains(p.Detail, errStore.Error()) {
				t.Errorf("the detail shows the internal error: %q", p.Detail)
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	allow := false
	_, _, h := newTest(t, func(d *Deps) { d.Authorize = func(*http.Request) bool { return allow } })
	guarded := []string{
		"/dashboard/events",
		"/api/v1/analytics/snapshot", "/api/v1/analytics/health", "/api/v1/analytics/trending?window=5m",
		"/api/v1/analytics/markets", "/api/v1/analytics/funnel",
	}
	for _, target := range guarded {
		res := get(t, h, target)
		wantJSON(t, res, http.StatusUnauthorized, "application/problem+json")
		if got := res.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q", target, got)
		}
		if p := decodeAs[problemDoc](t, res); p.Status != 401 || p.Type != "urn:souq:problem:unauthorized" {
			t.Errorf("%s: problem %+v", target, p)
		}
	}
	res := get(t, h, "/dashboard")
	if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
		!strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("page: %d %q %q, want a 401 HTML page with WWW-Authenticate", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("WWW-Authenticate"))
	}
	if b := body(t, res); strings.Contains(b, "12,345.67") || strings.Contains(b, "<form") {
		t.Error("the 401 page shows figures, or a sign-in form without Login")
	}
	if res := get(t, h, "/dashboard/static/dashboard.css"); res.StatusCode != http.StatusOK {
		t.Errorf("static file: %d, want 200 (they hold no data)", res.StatusCode)
	}

	allow = true
	for _, target := range append(guarded[1:], "/dashboard") {
		if res := get(t, h, target); res.StatusCode != http.StatusOK {
			t.Errorf("%s authorized: %d, want 200", target, res.StatusCode)
		}
	}
}

func TestTokenAuth(t *testing.T) {
	auth := NewTokenAuth("s3cret")
	_, _, h := newTest(t, func(d *Deps) { d.Authorize, d.Login = auth.Authorize, auth })

	for _, tc := range []struct {
		header string
		status int
	}{
		{"", 401},
		{"Bearer wrong", 401},
		{"Basic s3cret", 401},
		{"Bearer s3cret", 200},
		{"bearer s3cret", 200},
	} {
		if res := get(t, h, "/api/v1/analytics/snapshot", "Authorization", tc.header); res.StatusCode != tc.status {
			t.Errorf("Authorization %q: %d, want %d", tc.header, res.StatusCode, tc.status)
		}
	}

	page := body(t, get(t, h, "/dashboard"))
	if !strings.Contains(page, `action="/dashboard/login"`) {
		t.Error("the 401 page has no sign-in form")
	}

	login := func(token string) *http.Response {
		req := httptest.NewRequest(http.MethodPost, "/dashboard/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}
	if res := login("wrong"); res.StatusCode != http.StatusUnauthorized || len(res.Cookies()) != 0 {
		t.Errorf("wrong token: %d with %d cookies, want 401 and none", res.StatusCode, len(res.Cookies()))
	}
	res := login("s3cret")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/dashboard" {
		t.Fatalf("sign-in: %d to %q, want 303 to /dashboard", res.StatusCode, res.Header.Get("Location"))
	}
	cookies := res.Cookies()
	if len(cookies) != 1 || cookies[0].Name != SessionCookie || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookies %+v, want one HttpOnly SameSite=Strict %s", cookies, SessionCookie)
	}
	if strings.Contains(cookies[0].Value, "s3cret") {
		t.Error("the cookie holds the token")
	}
	for _, target := range []string{"/dashboard", "/api/v1/analytics/funnel"} {
		if res := get(t, h, target, "Cookie", SessionCookie+"="+cookies[0].Value); res.StatusCode != http.StatusOK {
			t.Errorf("%s with the session cookie: %d, want 200", target, res.StatusCode)
		}
	}
	if res := get(t, h, "/dashboard", "Cookie", SessionCookie+"=forged"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged cookie: %d, want 401", res.StatusCode)
	}
	// Another token's cookie does not open this dashboard.
	other := NewTokenAuth("other")
	if other.session == auth.session {
		t.Error("two tokens give the same session")
	}

	nobody := NewTokenAuth("")
	req := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
	req.Header.Set("Authorization", "Bearer ")
	if nobody.Authorize(req) {
		t.Error("an empty token admits a request")
	}
}

func TestPipelineHealthJSON(t *testing.T) {
	b, err := json.Marshal(sampleHealth)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ingest_per_second":1234.5,"stream_messages":100000,"stream_lag":12,"archive_lag":345,"archive_missing":0,` +
		`"status":"ok","archive_files":7,"dead_letters":2,"last_archived_seq":99655,"processing_delay_seconds":2.5}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back PipelineHealth
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sampleHealth, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestUpdateLooksUpEachNameOnce(t *testing.T) {
	counting := &countingNames{names: sampleNames, calls: map[string]int{}}
	d, _, _ := newTest(t, func(d *Deps) { d.Products = counting })
	snap := sampleSnapshot()
	snap.Trending[2].Products = snap.Trending[0].Products // the same products in two windows
	got := d.names(t.Context(), snap.Trending)
	if diff := cmp.Diff(map[string]souq.Localized{"prd_oud": sampleNames["prd_oud"], "prd_cream": sampleNames["prd_cream"]}, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	for id, n := range counting.calls {
		if n != 1 {
			t.Errorf("%s looked up %d times", id, n)
		}
	}
}

type countingNames struct {
	names map[string]souq.Localized
	calls map[string]int
}

func (c *countingNames) ProductName(_ context.Context, id string) (souq.Localized, bool) {
	c.calls[id]++
	n, ok := c.names[id]
	return n, ok
}

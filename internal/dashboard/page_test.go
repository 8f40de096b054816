package dashboard

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func get(t *testing.T, h http.Handler, target string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPageShowsFirstSnapshot(t *testing.T) {
	_, _, h := newTest(t, nil)
	res := get(t, h, "/dashboard")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	doc := parseHTML(t, body(t, res))

	for _, tc := range []struct{ id, want string }{
		{"at", "14:00:30"},
		{"watermark", "14:00:28"},
		{"behind", "2 s behind"},
		{"lh-orders", "42"},
		{"td-orders", "987"},
		{"lh-revenue", "12,345.67"},
		{"td-revenue", "987,654.32"},
		{"lh-net", "12,335.67"},
		{"lh-views", "1,234"},
		{"td-views", "98,765"},
		{"lh-adds", "345"},
		{"td-adds", "4,321"},
		{"lh-conv", "3.4%"},
		{"td-conv", "1.0%"},
		{"c-views-peak", "59"},
		{"c-revenue-peak", "590.00"},
		{"c-orders-latest", "2"},
		{"m-AE-td-local", "AED 9,876.54"},
		{"m-AE-td-aed", "9,876.54"},
		{"m-KW-td-local", "KWD 1,234.500"},
		{"m-KW-td-aed", "14,736.00"},
		{"m-KW-lh-local", "KWD 125.000"},
		{"m-KW-lh-orders", "3"},
		{"f-view-n", "1,234"},
		{"f-cart-n", "300"},
		{"f-cart-step", "24.3%"},
		{"f-checkout-step", "40.0%"},
		{"f-order-step", "35.0%"},
		{"f-order-of", "3.4%"},
		{"f-overall", "3.4%"},
		{"f-searches", "2,345"},
		{"f-zero-searches", "117"},
		{"cat-count", "2"},
		{"city-shown", "2"},
		{"h-state", "reporting"},
		{"h-ingest", "1,234.5/s"},
		{"h-stream", "100,000"},
		{"h-lag", "12"},
		{"h-archive-lag", "345"},
		{"h-files", "7"},
		{"h-dead", "2"},
		{"h-seq", "99,655"},
		{"h-delay", "2 s"},
		{"max-seq", "4,242"},
	} {
		n := byID(doc, tc.id)
		if n == nil {
			t.Errorf("no element #%s", tc.id)
			continue
		}
		if got := text(n); got != tc.want {
			t.Errorf("#%s: got %q, want %q", tc.id, got, tc.want)
		}
	}

	for _, tc := range []struct{ id, attr, want string }{
		{"at", "datetime", "2026-03-14T10:00:30Z"},
		{"f-view-bar", "width", "100.0"},
		{"f-order-bar", "width", "3.4"},
		{"h-dead", "class", "warn"},
		{"c-views", "aria-label", "Product views per minute over the last 60 minutes: 1,770 in all, peak 59, this minute so far 59."},
		{"m-unknown", "hidden", ""},
	} {
		n := byID(doc, tc.id)
		if n == nil {
			t.Errorf("no element #%s", tc.id)
			continue
		}
		if got, ok := attr(n, tc.attr); !ok || got != tc.want {
			t.Errorf("#%s %s: got %q (present %v), want %q", tc.id, tc.attr, got, ok, tc.want)
		}
	}
	if _, hidden := attr(byID(doc, "m-AE"), "hidden"); hidden {
		t.Error("the AE row is hidden")
	}
	if _, hidden := attr(byID(doc, "notice"), "hidden"); !hidden {
		t.Error("the unavailable notice shows although the figures are there")
	}

	line, _ := attr(byID(doc, "c-views-line"), "points")
	pts := strings.Fields(line)
	// The peak, 59, is drawn against an axis topped at 100: 59% of the
	// plot's 156 units above its base at 190.
	if len(pts) != 60 || pts[0] != "56.0,190.0" || pts[59] != "468.0,98.0" {
		t.Errorf("views line: %d points from %q to %q, want 60 from 56.0,190.0 to 468.0,98.0", len(pts), pts[0], pts[len(pts)-1])
	}
	for id, want := range map[string]string{"c-views-y0": "0", "c-views-y1": "50", "c-views-y2": "100",
		"c-revenue-y2": "1k", "c-views-x0": "13:01", "c-views-x4": "14:00"} {
		if got := text(byID(doc, id)); got != want {
			t.Errorf("axis label #%s: got %q, want %q", id, got, want)
		}
	}

	minutes := elements(byID(doc, "minutes-body"), "tr")
	if want := "14:00 | 59 | 2 | 590.00"; len(minutes) != 60 || cells(minutes[0]) != want {
		t.Errorf("minutes table: %d rows, first %q; want 60, first %q", len(minutes), cells(minutes[0]), want)
	}

	rows := elements(byID(doc, "tr-5m"), "tr")
	if len(rows) != 2 {
		t.Fatalf("5-minute trending: %d rows, want 2", len(rows))
	}
	// One name column, in the page's language: the English page shows
	// the English name only.
	if got, want := cells(rows[0]), "1 | Royal Oud Perfume | 40 | 7 | 3 | 447.60"; got != want {
		t.Errorf("trending row 1: got %q, want %q", got, want)
	}
	if code := elements(rows[1], "code"); len(code) != 1 || text(code[0]) != "prd_nameless" {
		t.Errorf("a product without a name should show its id in <code>; row 2 is %q", text(rows[1]))
	}
	if got := text(byID(doc, "tr-60m")); got != "No activity in this window." {
		t.Errorf("empty window: got %q", got)
	}
	if got := cells(elements(byID(doc, "cat-body"), "tr")[0]); got != "fragrance | 700 | 90 | 30 | 35 | 9,000.00" {
		t.Errorf("first category row: got %q", got)
	}
}

func TestPageIsAccessible(t *testing.T) {
	_, _, h := newTest(t, nil)
	doc := parseHTML(t, body(t, get(t, h, "/dashboard")))
	htmlEl := elements(doc, "html")[0]
	if lang, _ := attr(htmlEl, "lang"); lang != "en" {
		t.Errorf("<html lang=%q>, want en", lang)
	}
	if len(elements(doc, "h1")) != 1 || len(elements(doc, "h2")) < 6 {
		t.Errorf("want one h1 and a h2 per section; got %d and %d", len(elements(doc, "h1")), len(elements(doc, "h2")))
	}
	for _, s := range elements(doc, "section") {
		if id, ok := attr(s, "aria-labelledby"); !ok || byID(doc, id) == nil {
			t.Errorf("a section is not labelled by a heading (aria-labelledby=%q)", id)
		}
	}
	for _, tbl := range elements(doc, "table") {
		if len(elements(tbl, "thead")) != 1 || len(elements(tbl, "th")) == 0 {
			t.Errorf("a table has no header row: %q", text(tbl)[:min(60, len(text(tbl)))])
		}
	}
	for _, svg := range elements(doc, "svg") {
		role, _ := attr(svg, "role")
		label, _ := attr(svg, "aria-label")
		_, hidden := attr(svg, "aria-hidden")
		if !hidden && (role != "img" || label == "") {
			t.Errorf("an SVG is neither hidden from assistive technology nor an image with a label")
		}
	}
	if len(elements(doc, "details")) == 0 {
		t.Error("the charts have no table fallback")
	}
}

// noInline fails for anything the Content-Security-Policy would block:
// inline scripts, style elements and attributes, event handler
// attributes, and script or style from elsewhere.
func noInline(t *testing.T, page string) {
	t.Helper()
	doc := parseHTML(t, page)
	scripts := 0
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		for _, a := range n.Attr {
			if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s %s=%q>: inline style or handler", n.Data, a.Key, a.Val)
			}
			if (a.Key == "href" || a.Key == "src") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
				t.Errorf("<%s %s=%q>: javascript: URL", n.Data, a.Key, a.Val)
			}
		}
		switch n.Data {
		case "style":
			t.Error("<style> element")
		case "script":
			scripts++
			src, ok := attr(n, "src")
			if !ok || n.FirstChild != nil {
				t.Errorf("inline <script>: %q", text(n))
			} else if !strings.HasPrefix(src, "/dashboard/static/") {
				t.Errorf("script from %q", src)
			}
		case "link":
			if rel, _ := attr(n, "rel"); rel == "stylesheet" {
				if href, _ := attr(n, "href"); !strings.HasPrefix(href, "/dashboard/static/") {
					t.Errorf("style sheet from %q", href)
				}
			}
		}
	})
	if strings.Contains(page, "<head>") && scripts > 1 {
		t.Errorf("%d scripts, want at most 1", scripts)
	}
}

func TestPagesHaveNoInlineScriptOrStyle(t *testing.T) {
	_, _, open := newTest(t, nil)
	noInline(t, body(t, get(t, open, "/dashboard")))

	_, _, closed := newTest(t, func(d *Deps) {
		d.Authorize = func(*http.Request) bool { return false }
		d.Login = NewTokenAuth("secret")
	})
	noInline(t, body(t, get(t, closed, "/dashboard")))
}

func TestPageWhenFiguresUnavailable(t *testing.T) {
	_, src, h := newTest(t, func(d *Deps) { d.Health = nil })
	src.fail(errStore)
	res := get(t, h, "/dashboard")
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", res.StatusCode)
	}
	page := body(t, res)
	noInline(t, page)
	doc := parseHTML(t, page)
	if _, hidden := attr(byID(doc, "notice"), "hidden"); hidden {
		t.Error("the unavailable notice is hidden")
	}
	for id, want := range map[string]string{"status": "figures unavailable", "h-state": "unavailable", "h-dead": "–", "max-seq": "–", "h-missing": "–"} {
		if got := text(byID(doc, id)); got != want {
			t.Errorf("#%s: got %q, want %q", id, got, want)
		}
	}
	for _, id := range []string{"h-missing", "h-state"} {
		if got, _ := attr(byID(doc, id), "class"); got == "warn" {
			t.Errorf("#%s is marked as a warning while the figures are unavailable", id)
		}
	}
	if strings.Contains(page, errStore.Error()) {
		t.Error("the page shows the internal error")
	}
}

func TestStaticFiles(t *testing.T) {
	_, _, h := newTest(t, nil)
	for _, tc := range []struct{ file, contentType, contains string }{
		{"dashboard.css", "text/css; charset=utf-8", ".tiles"},
		{"dashboard.js", "text/javascript; charset=utf-8", "new EventSource('/dashboard/events')"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			res := get(t, h, "/dashboard/static/"+tc.file)
			b := body(t, res)
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != tc.contentType {
				t.Fatalf("got %d %q, want 200 %q", res.StatusCode, res.Header.Get("Content-Type"), tc.contentType)
			}
			if !strings.Contains(b, tc.contains) {
				t.Errorf("body does not contain %q", tc.contains)
			}
			if len(b) > 40<<10 {
				t.Errorf("%d bytes, want under 40 KB", len(b))
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("unversioned Cache-Control %q, want no-cache", cc)
			}
			etag := res.Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			versioned := get(t, h, staticURL(tc.file))
			if cc := versioned.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
				t.Errorf("versioned Cache-Control %q", cc)
			}
			if res := get(t, h, "/dashboard/static/"+tc.file, "If-None-Match", etag); res.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match: status %d, want 304", res.StatusCode)
			}
		})
	}
	res := get(t, h, "/dashboard/static/nope.js")
	if res.StatusCode != http.StatusNotFound || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("missing file: %d %q, want 404 problem", res.StatusCode, res.Header.Get("Content-Type"))
	}
	// The page links to the current versions.
	doc := parseHTML(t, body(t, get(t, h, "/dashboard")))
	var links []string
	walk(doc, func(n *html.Node) {
		if v, ok := attr(n, "src"); ok {
			links = append(links, v)
		}
		if v, ok := attr(n, "href"); ok && strings.HasPrefix(v, "/dashboard/static/") {
			links = append(links, v)
		}
	})
	for _, want := range []string{staticURL("dashboard.css"), staticURL("dashboard.js")} {
		found := false
		for _, l := range links {
			found = found || l == want
		}
		if !found {
			t.Errorf("the page does not link %s (links: %v)", want, links)
		}
	}
}

// failingHealth reports events missing from the archive.
type failingHealth struct{}

func (failingHealth) Health(context.Context) (PipelineHealth, error) {
	h := sampleHealth
	h.ArchiveMissing, h.Status = 194, "error"
	h.Errors = []string{"194 events are missing from the archive (batch 1–1500 holds 1,306 of 1,500)"}
	return h, nil
}

// TestPageShowsArchiveErrors: events missing from the archive show as an
// error on the page, not only as a figure.
func TestPageShowsArchiveErrors(t *testing.T) {
	_, _, h := newTest(t, func(d *Deps) { d.Health = failingHealth{} })
	doc := parseHTML(t, body(t, get(t, h, "/dashboard")))
	for id, want := range map[string]string{"h-state": "error", "h-missing": "194",
		"h-errors": "194 events are missing from the archive (batch 1–1500 holds 1,306 of 1,500)"} {
		if got := text(byID(doc, id)); got != want {
			t.Errorf("#%s: got %q, want %q", id, got, want)
		}
	}
	for _, id := range []string{"h-state", "h-missing"} {
		if got, _ := attr(byID(doc, id), "class"); got != "warn" {
			t.Errorf("#%s class: got %q, want warn", id, got)
		}
	}
}

package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/souq-commerce/souq/internal/browsertest"
	"github.com/souq-commerce/souq/internal/souq"
)

// The page in headless Chromium, over the fixture's figures: the page the
// server renders and the script's redraw from a pushed Update, at a
// phone's and a laptop's width, in both languages (see internal/browsertest
// for when it skips). cmd/souq/browser_dashboard_test.go drives the real
// server.

// securityPolicy is the policy the shop's server sends with every answer
// (internal/httpapi): the page must work under it.
const securityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// fixtureServer serves the page over sampleUpdate, a stream that pushes
// it and then, once, a third alert with the checkout errors' warning
// escalated to critical (a new message), a product endpoint that filters the
// fixture's rows by brand, and the archive queries.
func fixtureServer(t *testing.T) *httptest.Server {
	t.Helper()
	d, _, _ := newTest(t, nil)
	mux := http.NewServeMux()
	mux.Handle("GET /dashboard/static/{file}", handleStatic())
	mux.HandleFunc("GET /dashboard", func(w http.ResponseWriter, r *http.Request) {
		d.writePage(w, r, sampleUpdate(), false)
	})
	mux.HandleFunc("GET /dashboard/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		send := func(u Update) {
			b, _ := json.Marshal(u)
			fmt.Fprintf(w, "event: snapshot\ndata: %s\n\n", b)
			w.(http.Flusher).Flush()
		}
		u := sampleUpdate()
		send(u)
		select {
		case <-time.After(1500 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		u.Alerts[0].Severity, u.Alerts[0].Value, u.Alerts[0].Threshold = "critical", 0.12, 0.10
		u.Alerts[0].Message = escalatedMessage
		u.Alerts = append(u.Alerts, Alert{ID: "pipeline_lag", Kind: "pipeline_lag", Severity: "warning",
			Since: t0, Message: souq.Localized{EN: "The pipeline is 75 s behind", AR: "خط البيانات متأخر 75 ث"}})
		send(u)
		<-r.Context().Done()
	})
	mux.HandleFunc("GET /api/v1/analytics/products", func(w http.ResponseWriter, r *http.Request) {
		var rows []ProductTableRow
		for _, p := range sampleUpdate().Products {
			if b := r.URL.Query().Get("brand"); b == "" || b == p.Brand {
				rows = append(rows, p)
			}
		}
		encode(w, map[string]any{"total": len(rows), "rows": rows,
			"query": map[string]string{"duckdb": "SELECT product_id FROM events -- duckdb", "athena": "SELECT product_id FROM events -- athena"}})
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", securityPolicy)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// escalatedMessage is the checkout errors' message once the fixture's
// second push escalates them to critical.
var escalatedMessage = souq.Localized{EN: "Checkout errors at 12.0% (over 10.0%)", AR: "أخطاء الدفع 12.0% (أكثر من 10.0%)"}

// evalJS runs a JavaScript expression in the tab.
func evalJS[T any](ctx context.Context, t *testing.T, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS polls expr until it is true, for at most 10 s.
func waitJS(ctx context.Context, t *testing.T, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s (%s): not true after 10 s (last error %v)", what, expr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// axeSource is axe-core's script from the repository's node_modules
// (npm ci); without it, the accessibility check is skipped, saying so,
// unless SOUQ_TEST_CHROMIUM is set (CI), where it fails.
func axeSource(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "axe-core", "axe.min.js"))
	if errors.Is(err, os.ErrNotExist) {
		if os.Getenv("SOUQ_TEST_CHROMIUM") != "" {
			t.Fatal("node_modules/axe-core is missing: run `npm ci` at the repository's root")
		}
		t.Log("node_modules/axe-core is missing: skipping the accessibility check; run `npm ci` at the repository's root")
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// axeRules is what the accessibility check runs: the WCAG 2.0 and 2.1 A
// and AA rules, colour contrast and focusable scroll regions named
// explicitly. No rule is disabled.
const axeRules = `{runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
	rules: {'color-contrast': {enabled: true}, 'scrollable-region-focusable': {enabled: true}}}`

// axeCheck runs axe-core on the tab's page and fails t with each
// violation.
func axeCheck(ctx context.Context, t *testing.T, src, where string) {
	t.Helper()
	if src == "" {
		return // no axe-core: said once by axeSource
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](src+"\n;true")); err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`axe.run(document, `+axeRules+`).then(r =>
		r.violations.map(v => v.id + ' (' + v.help + '): ' + v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' ' +
			(n.failureSummary || '').replace(/\s+/g, ' ')).join(' | ')))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core: %v", err)
	}
	for _, v := range violations {
		t.Errorf("%s: axe: %s", where, v)
	}
}

// phoneChecks are the layout checks at a phone's width: no sideways
// scroll, and every element that scrolls can take the focus.
func layoutChecks(ctx context.Context, t *testing.T, where string, width int) {
	t.Helper()
	w := evalJS[int](ctx, t, `Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)`)
	if w > width {
		t.Errorf("%s: the page is %d px wide on a %d px screen", where, w, width)
	}
	t.Logf("%s: the page is %d px wide", where, w)
	unfocusable := evalJS[[]string](ctx, t, `[...document.querySelectorAll('body *')].filter(e => {
		const s = getComputedStyle(e);
		const scrolls = (e.scrollWidth > e.clientWidth + 1 && ['auto', 'scroll'].includes(s.overflowX)) ||
			(e.scrollHeight > e.clientHeight + 1 && ['auto', 'scroll'].includes(s.overflowY));
		return scrolls && e.tabIndex < 0;
	}).map(e => e.tagName + '#' + e.id + '.' + e.className)`)
	for _, e := range unfocusable {
		t.Errorf("%s: %s scrolls but cannot take the focus", where, e)
	}
}

// productOrder is the product ids of the product table's rows.
func productOrder(ctx context.Context, t *testing.T) string {
	t.Helper()
	return evalJS[string](ctx, t, `[...document.querySelectorAll('#products-body tr')].map(r => r.dataset.id).join(',')`)
}

// TestBrowserDashboardFixture: the page over the fixture, in Arabic and
// English at 390 × 844 and 1366 × 900: the script takes over from the
// server's render without an error, the page never scrolls sideways,
// scroll regions take the focus, the product table keeps one name per
// row, sorts by a clicked header and filters through the endpoint, a
// newly raised alert alone is announced, the archive SQL loads when
// asked, and axe-core finds no WCAG 2 A/AA violation.
func TestBrowserDashboardFixture(t *testing.T) {
	browsertest.Chromium(t)
	axe := axeSource(t)
	srv := fixtureServer(t)
	tab := browsertest.Start(t)
	ctx, cancel := context.WithTimeout(tab, 3*time.Minute)
	defer cancel()
	watchPolicy(ctx, t)
	for _, lang := range []string{"ar", "en"} {
		for _, size := range []struct{ w, h int64 }{{390, 844}, {1366, 900}} {
			where := fmt.Sprintf("%s at %d px", lang, size.w)
			if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
				Width: size.w, Height: size.h, DeviceScaleFactor: 1, Mobile: size.w < 700}); err != nil {
				t.Fatalf("viewport: %v", err)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/dashboard?lang="+lang)); err != nil {
				t.Fatalf("open: %v", err)
			}
			live := map[string]string{"en": "live", "ar": "مباشر"}[lang]
			waitJS(ctx, t, where+": the first push drawn", `document.getElementById('status').textContent === `+jsonString(live))
			if got := evalJS[string](ctx, t, `document.documentElement.dir`); got != map[string]string{"en": "ltr", "ar": "rtl"}[lang] {
				t.Errorf("%s: dir %q", where, got)
			}
			if _, err := browsertest.SaveScreenshot(ctx, t, fmt.Sprintf("%s-%d", lang, size.w)); err != nil {
				t.Log(err)
			}
			layoutChecks(ctx, t, where, int(size.w))
			policyViolations(ctx, t, where)
			if size.w == 390 {
				for _, panel := range []string{"alerts-panel", "sale-panel", "compare-panel", "products-panel", "charts-panel"} {
					elementShot(ctx, t, "#"+panel, fmt.Sprintf("%s-%d-%s", lang, size.w, panel))
				}
			}

			// The script's redraw from the push reads as the server's
			// render of the same Update.
			redrawMatchesRender(ctx, t, lang, where)

			// The script redrew the product table from the push: one name
			// per row, in the page's language.
			names := evalJS[[]string](ctx, t, `[...document.querySelectorAll('#products-body tr')].map(r =>
				r.querySelectorAll('th').length + ':' + r.querySelector('th').textContent)`)
			want := map[string]string{"en": "1:Night Cream,1:Royal Oud Perfume,1:مسك أبيض", "ar": "1:Night Cream,1:عطر العود الملكي,1:مسك أبيض"}[lang]
			if strings.Join(names, ",") != want {
				t.Errorf("%s: product names %q, want %q", where, names, want)
			}

			// The second push raises a third alert and escalates the
			// checkout errors to critical: those two alone are live alerts,
			// and the escalated one reads as critical, with its new message.
			waitJS(ctx, t, where+": the third alert", `document.querySelectorAll('#alerts li').length === 3`)
			roles := evalJS[string](ctx, t, `[...document.querySelectorAll('#alerts li')].map(li => li.dataset.id + '=' + (li.querySelector('[role=alert]') ? 'alert' : '')).join(',')`)
			if roles != "sold_out:prd_oud=,checkout_errors=alert,pipeline_lag=alert" {
				t.Errorf("%s: alert roles %q, want the new and the escalated one as alerts", where, roles)
			}
			escalated := evalJS[string](ctx, t, `(li => li.className + '|' + li.querySelector('.sev').textContent + '|' +
				li.querySelector('.msg').textContent)(document.querySelector('#alerts li[data-id="checkout_errors"]'))`)
			if want := "alert critical|" + map[string]string{"en": "Critical", "ar": "حرج"}[lang] + "|" + escalatedMessage.In(souq.Lang(lang)); escalated != want {
				t.Errorf("%s: the escalated alert reads %q, want %q", where, escalated, want)
			}

			if size.w == 390 {
				if n := evalJS[int](ctx, t, `document.querySelectorAll('#stock-panel table').length`); n != 3 {
					t.Errorf("%s: %d stock tables", where, n)
				}
				axeCheck(ctx, t, axe, where)
				continue
			}
			// Sorting: views, most first; then fewest first.
			if err := chromedp.Do(ctx, chromedp.Click(`#products th[data-key="views"] button`, chromedp.NodeVisible)); err != nil {
				t.Fatalf("click views: %v", err)
			}
			if got := productOrder(ctx, t); got != "prd_musk,prd_cream,prd_oud" {
				t.Errorf("%s: sorted by views: %s", where, got)
			}
			if err := chromedp.Do(ctx, chromedp.Click(`#products th[data-key="views"] button`, chromedp.NodeVisible)); err != nil {
				t.Fatalf("click views: %v", err)
			}
			if got := productOrder(ctx, t); got != "prd_oud,prd_cream,prd_musk" {
				t.Errorf("%s: sorted by views, fewest first: %s", where, got)
			}
			if got := evalJS[string](ctx, t, `document.querySelector('#products th[data-key="views"]').getAttribute('aria-sort')`); got != "ascending" {
				t.Errorf("%s: aria-sort %q, want ascending", where, got)
			}
			// Filtering by brand asks the endpoint; the CSV link follows.
			if err := chromedp.Do(ctx, chromedp.SetValue(`#pf select[name="brand"]`, "Lumi"),
				chromedp.Evaluate[chromedp.Void](`document.querySelector('#pf select[name="brand"]').dispatchEvent(new Event('change'))`)); err != nil {
				t.Fatalf("filter: %v", err)
			}
			waitJS(ctx, t, where+": the filtered rows", `[...document.querySelectorAll('#products-body tr')].map(r => r.dataset.id).join(',') === 'prd_cream'`)
			if href := evalJS[string](ctx, t, `document.getElementById('csv-products').getAttribute('href')`); !strings.Contains(href, "brand=Lumi") || !strings.Contains(href, "format=csv") || !strings.Contains(href, "lang="+lang) {
				t.Errorf("%s: CSV link %q does not carry the filter and the language", where, href)
			}
			// The archive SQL, fetched when the disclosure opens.
			if err := chromedp.Do(ctx, chromedp.Click(`#q-products summary`, chromedp.NodeVisible)); err != nil {
				t.Fatalf("open the query: %v", err)
			}
			waitJS(ctx, t, where+": the archive query", `document.querySelector('#q-products pre[data-engine="duckdb"]').textContent === 'SELECT product_id FROM events -- duckdb'`)
			axeCheck(ctx, t, axe, where)
		}
	}
}

// redrawn are the tables and elements the script redraws from a push.
var redrawn = struct{ bodies, elements []string }{
	bodies: []string{"sale-body", "audience-body", "audience-markets-body", "stock-watch-body", "stock-low-body",
		"stock-out-body", "products-body", "brand-body", "cat-body", "city-body", "tr-5m", "tr-15m", "tr-60m"},
	elements: []string{"sale-state", "sale-revenue", "sale-units", "cmp-revenue_aed", "cmp-orders", "cmp-conversion",
		"h-ingest", "h-delay", "behind", "c-views-y2", "c-revenue-y2", "c-views-x0"},
}

// redrawMatchesRender compares the tab's redrawn tables and elements,
// cell by cell, with the server's render of sampleUpdate.
func redrawMatchesRender(ctx context.Context, t *testing.T, lang, where string) {
	t.Helper()
	_, doc := renderUpdate(t, sampleUpdate(), "/dashboard?lang="+lang)
	for _, id := range redrawn.bodies {
		want := strings.Join(rowsOf(t, doc, id), "\n")
		got := evalJS[string](ctx, t, `[...document.getElementById(`+jsonString(id)+`).querySelectorAll('tr')].map(tr =>
			[...tr.children].map(c => c.textContent.replace(/\s+/g, ' ').trim()).join(' | ')).join('\n')`)
		if got != want {
			t.Errorf("%s: #%s redrawn:\n%s\nrendered:\n%s", where, id, got, want)
		}
	}
	for _, id := range redrawn.elements {
		want := text(byID(doc, id))
		if n := byID(doc, id); n != nil && n.Data == "tr" {
			want = cells(n)
		}
		got := evalJS[string](ctx, t, `(e => e.tagName === 'TR' ? [...e.children].map(c => c.textContent.replace(/\s+/g, ' ').trim()).join(' | ')
			: e.textContent.replace(/\s+/g, ' ').trim())(document.getElementById(`+jsonString(id)+`))`)
		if got != want {
			t.Errorf("%s: #%s redrawn %q, rendered %q", where, id, got, want)
		}
	}
}

// watchPolicy records, in every document the tab loads, what the
// Content-Security-Policy blocks (window.cspViolations).
func watchPolicy(ctx context.Context, t *testing.T) {
	t.Helper()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.cspViolations = []; document.addEventListener('securitypolicyviolation',
			e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));`}); err != nil {
		t.Fatalf("watch the security policy: %v", err)
	}
}

// policyViolations fails t with what the policy blocked on the page.
func policyViolations(ctx context.Context, t *testing.T, where string) {
	t.Helper()
	for _, v := range evalJS[[]string](ctx, t, `window.cspViolations || ['the policy watcher did not run']`) {
		t.Errorf("%s: the Content-Security-Policy blocked %s", where, v)
	}
}

// elementShot saves a screenshot of the element sel in the artefacts.
func elementShot(ctx context.Context, t *testing.T, sel, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	if err != nil {
		t.Logf("screenshot %s: %v", sel, err)
		return
	}
	path := filepath.Join(browsertest.ArtifactDir(t), t.Name()+"-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", sel, err)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

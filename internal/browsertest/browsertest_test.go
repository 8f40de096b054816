package browsertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

func TestFind(t *testing.T) {
	tests := []struct {
		name    string
		env     string
		onPath  map[string]string // name → path that lookPath finds
		want    string
		wantErr error // nil: no error; ErrNotFound: skip; errAny: any other error
	}{
		{"env names a binary", "/opt/chromium/chrome", map[string]string{"/opt/chromium/chrome": "/opt/chromium/chrome", "chromium": "/usr/bin/chromium"}, "/opt/chromium/chrome", nil},
		{"env names a missing binary: fail, not skip", "/nowhere/chromium", map[string]string{"chromium": "/usr/bin/chromium"}, "", errAny},
		{"env unset, chromium on PATH", "", map[string]string{"chromium": "/usr/bin/chromium", "google-chrome": "/usr/bin/google-chrome"}, "/usr/bin/chromium", nil},
		{"env unset, only Chrome on PATH", "", map[string]string{"google-chrome": "/usr/bin/google-chrome"}, "/usr/bin/google-chrome", nil},
		{"env unset, nothing on PATH: skip", "", nil, "", ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == EnvChromium {
					return tc.env
				}
				return ""
			}
			lookPath := func(name string) (string, error) {
				if p, ok := tc.onPath[name]; ok {
					return p, nil
				}
				return "", exec.ErrNotFound
			}
			got, err := Find(getenv, lookPath)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("got error %v, want %q", err, tc.want)
			case tc.wantErr == ErrNotFound && !errors.Is(err, ErrNotFound):
				t.Fatalf("got %q, %v; want ErrNotFound (skip)", got, err)
			case tc.wantErr == errAny && (err == nil || errors.Is(err, ErrNotFound)):
				t.Fatalf("got %q, %v; want an error other than ErrNotFound (fail)", got, err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

var errAny = errors.New("any error but ErrNotFound")

// TestFindNotExecutable uses the real exec.LookPath: a file that cannot be
// run is an error when SOUQ_TEST_CHROMIUM names it.
func TestFindNotExecutable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chromium")
	if err := os.WriteFile(path, []byte("not a browser"), 0o644); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == EnvChromium {
			return path
		}
		return ""
	}
	got, err := Find(getenv, exec.LookPath)
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("got %q, %v; want an error other than ErrNotFound", got, err)
	}
}

// testPage is a right-to-left page whose script sets the title, with a
// search form answered by /done.
const testPage = `<!doctype html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>no script</title>
<script>document.title = "script ran"</script></head>
<body><form id="search" action="/done"><input id="q" name="q"><button id="go">بحث</button></form></body></html>`

func testServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, testPage)
	})
	mux.HandleFunc("GET /done", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><meta charset="utf-8"><h1 id="result">%s</h1>`, html.EscapeString(r.URL.Query().Get("q")))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestStart proves the harness: Chromium starts, loads a local page, runs
// its script, types Arabic into a form, follows the submission and takes a
// screenshot; with scripts disabled the page's script does not run.
func TestStart(t *testing.T) {
	srv := testServer(t)
	browser := Start(t)
	ctx, cancel := context.WithTimeout(browser, 30*time.Second)
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil || title != "script ran" {
		t.Fatalf("title: got %q, %v; want %q", title, err, "script ran")
	}
	dir, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.dir`))
	if err != nil || dir != "rtl" {
		t.Errorf("dir: got %q, %v; want rtl", dir, err)
	}

	const query = "سيروم الحلزون"
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#q"), query),
		chromedp.Click(chromedp.CSS("#go")),
		chromedp.WaitVisible(chromedp.CSS("#result")),
	); err != nil {
		t.Fatal(err)
	}
	if got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#result"))); err != nil || got != query {
		t.Errorf("submitted query: got %q, %v; want %q", got, err, query)
	}

	path, err := SaveScreenshot(ctx, t, "result")
	if err != nil {
		t.Fatal(err)
	}
	png, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sig := []byte("\x89PNG\r\n\x1a\n"); !bytes.HasPrefix(png, sig) || len(png) < 1000 {
		t.Errorf("screenshot: got %d bytes starting %q, want a PNG", len(png), png[:min(8, len(png))])
	}

	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	if title, err := chromedp.Run(ctx, chromedp.Title()); err != nil || title != "no script" {
		t.Errorf("title with scripts disabled: got %q, %v; want %q", title, err, "no script")
	}
}

package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// dirs holds each running test's artefact directory, so that a test without
// SOUQ_TEST_ARTIFACTS keeps one temporary directory for all its files.
var dirs sync.Map // testing.TB → string

// ArtifactDir returns the directory for t's screenshots and pages:
// $SOUQ_TEST_ARTIFACTS (created if missing), or else a temporary directory
// of t, removed when t ends.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	if d, ok := dirs.Load(t); ok {
		return d.(string)
	}
	dir := os.Getenv(EnvArtifacts)
	if dir == "" {
		dir = t.TempDir()
		t.Logf("artefacts in %s (removed when the test ends; set %s to keep them)", dir, EnvArtifacts)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artefact directory: %v", err)
	}
	dirs.Store(t, dir)
	t.Cleanup(func() { dirs.Delete(t) })
	return dir
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// artifactPath is the path of t's artefact called name: the test's name and
// name, made safe for a file name.
func artifactPath(t testing.TB, name string) string {
	return filepath.Join(ArtifactDir(t), unsafeChars.ReplaceAllString(t.Name()+"-"+name, "_"))
}

// SaveScreenshot saves a full-page PNG screenshot of the tab of ctx as
// <test>-<name>.png in ArtifactDir, logs its path and returns it.
func SaveScreenshot(ctx context.Context, t testing.TB, name string) (string, error) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", fmt.Errorf("screenshot %s: %w", name, err)
	}
	path := artifactPath(t, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return "", fmt.Errorf("screenshot %s: %w", name, err)
	}
	t.Logf("screenshot: %s", path)
	return path, nil
}

// SavePage saves the HTML of the tab of ctx, as the browser holds it now,
// as <test>-<name>.html in ArtifactDir, logs its path and returns it.
func SavePage(ctx context.Context, t testing.TB, name string) (string, error) {
	t.Helper()
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement ? document.documentElement.outerHTML : ""`))
	if err != nil {
		return "", fmt.Errorf("page %s: %w", name, err)
	}
	url, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "", fmt.Errorf("page %s: %w", name, err)
	}
	path := artifactPath(t, name+".html")
	if err := os.WriteFile(path, []byte("<!-- "+url+" -->\n"+html), 0o644); err != nil {
		return "", fmt.Errorf("page %s: %w", name, err)
	}
	t.Logf("page %s: %s", url, path)
	return path, nil
}

// SaveFailure saves what the tab of ctx shows (screenshot and HTML) and
// the console messages, as <test>-failure.*, for a failed test. Start calls
// it when the test has failed; it runs with its own short timeout, so it
// works after the test's own deadline passed.
func SaveFailure(ctx context.Context, t testing.TB, console string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := SaveScreenshot(ctx, t, "failure"); err != nil {
		t.Logf("on failure: %v", err)
	}
	if _, err := SavePage(ctx, t, "failure"); err != nil {
		t.Logf("on failure: %v", err)
	}
	if console != "" {
		t.Logf("console messages:\n%s", console)
		path := artifactPath(t, "failure-console.txt")
		if err := os.WriteFile(path, []byte(console+"\n"), 0o644); err != nil {
			t.Logf("on failure: %v", err)
		} else {
			t.Logf("console: %s", path)
		}
	}
}

// Package browsertest runs headless Chromium for tests that drive souq's web
// pages in a real browser: it finds the Chromium binary (or decides that the
// test skips), starts it with the flags that keep it off the network, and
// saves screenshots and the page's HTML where CI keeps them.
//
// SOUQ_TEST_CHROMIUM names the binary. When it is set (CI sets it), a
// missing or broken binary fails the test; when it is unset, a Chromium found
// on PATH is used, and without one the test skips, saying how to enable it.
// SOUQ_TEST_ARTIFACTS names the directory for screenshots and pages
// (default: the test's temporary directory).
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Environment variables read by this package.
const (
	EnvChromium  = "SOUQ_TEST_CHROMIUM"
	EnvArtifacts = "SOUQ_TEST_ARTIFACTS"
)

// ErrNotFound means that SOUQ_TEST_CHROMIUM is unset and no Chromium is on
// PATH: browser tests skip.
var ErrNotFound = errors.New("no Chromium found")

// candidates are the program names looked up on PATH, in order.
var candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell"}

// Find returns the Chromium binary to use. With SOUQ_TEST_CHROMIUM set, it is
// that binary, and an error if it is not an executable file; otherwise the
// first candidate lookPath finds on PATH, or ErrNotFound.
func Find(getenv func(string) string, lookPath func(string) (string, error)) (string, error) {
	if p := getenv(EnvChromium); p != "" {
		found, err := lookPath(p)
		if err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvChromium, p, err)
		}
		return found, nil
	}
	for _, name := range candidates {
		if found, err := lookPath(name); err == nil {
			return found, nil
		}
	}
	return "", ErrNotFound
}

// Chromium returns the Chromium binary for t: it skips t when none is
// configured or found, and fails it when SOUQ_TEST_CHROMIUM names a binary
// that cannot run.
func Chromium(t testing.TB) string {
	t.Helper()
	path, err := Find(os.Getenv, exec.LookPath)
	switch {
	case errors.Is(err, ErrNotFound):
		t.Skipf("browser test skipped: no Chromium on PATH (tried %s); install Chromium (Debian: apt-get install chromium) or set %s=/path/to/chromium to run it",
			strings.Join(candidates, ", "), EnvChromium)
	case err != nil:
		t.Fatalf("browser test: %v (unset %s to skip browser tests where no Chromium is installed)", err, EnvChromium)
	}
	return path
}

// AllocatorOptions are the options Start runs Chromium with: headless, no
// sandbox and no GPU (containers), and no background traffic (the test
// machines have no internet, and Chromium waits on refused connections
// otherwise), with the profile in userDataDir.
func AllocatorOptions(execPath, userDataDir string) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(userDataDir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1280, 900),
	)
}

// startTimeout bounds how long Chromium may take to start.
const startTimeout = 30 * time.Second

// Start starts headless Chromium for t, with a fresh profile, and returns
// the context of its first tab for chromedp actions. The browser stops when t
// ends. The context has no deadline: derive one with context.WithTimeout for
// the test's steps (the browser outlives it, so a failing test can still be
// captured). If t fails, a screenshot, the page's HTML and the console
// messages are saved under ArtifactDir.
func Start(t testing.TB) context.Context {
	t.Helper()
	execPath := Chromium(t)
	profile := t.TempDir() // registered first, so removed after the browser stopped

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), AllocatorOptions(execPath, profile)...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})

	// The first action starts the browser and binds it to ctx, so it cannot
	// carry a deadline itself: wait for it here instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start Chromium %s: %v", execPath, err)
		}
	case <-time.After(startTimeout):
		cancelTab()
		t.Fatalf("start Chromium %s: no answer within %s", execPath, startTimeout)
	}

	ArtifactDir(t) // before the failure capture below, so it is still there when that runs
	console := &consoleLog{}
	go console.collect(ctx)
	t.Cleanup(func() {
		if t.Failed() {
			SaveFailure(ctx, t, console.String())
		}
	})
	return ctx
}

// consoleLog keeps the console messages and uncaught exceptions of a tab.
type consoleLog struct {
	mu    sync.Mutex
	lines []string
}

// collect appends the tab's console messages until ctx ends.
func (c *consoleLog) collect(ctx context.Context) {
	for msg, err := range chromedp.Console(ctx) {
		if err != nil {
			return
		}
		line := fmt.Sprintf("%s %s", msg.Type, msg.Text)
		if msg.URL != "" {
			line += fmt.Sprintf(" (%s:%d)", msg.URL, msg.Line+1)
		}
		c.mu.Lock()
		c.lines = append(c.lines, line)
		c.mu.Unlock()
	}
}

func (c *consoleLog) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "\n")
}

//go:build chaos

package chaos

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/audit"
)

// Settings every scenario's server gets: small archive batches, so that
// many files are written while the faults happen, and a collector rate
// limit the load never reaches.
const (
	archiveMaxAge  = "1s"
	archiveMaxRows = "300"
	adminToken     = "chaos-admin"
	writeKey       = "chaos-write-key"
	drainTimeout   = 2 * time.Minute
)

// harness is one scenario's world: its directory, its random source, its
// ledger and the settings its servers share.
type harness struct {
	t       *testing.T
	name    string
	bin     string
	dir     string // holds data/, the logs and the audit reports
	data    string // souq's --data
	archive string // souq's --archive; "" for <data>/archive
	rng     *rand.Rand
	seed    int64
	began   time.Time
	led     *ledger
	audits  int
}

func newHarness(t *testing.T, bin, name string, seed int64) *harness {
	dir := t.TempDir()
	if *flagKeep {
		var err error
		if dir, err = os.MkdirTemp("", "souq-chaos-"+name+"-"); err != nil {
			t.Fatal(err)
		}
		t.Logf("scenario directory (kept): %s", dir)
	}
	h := &harness{t: t, name: name, bin: bin, dir: dir, data: filepath.Join(dir, "data"),
		rng: rand.New(rand.NewPCG(uint64(seed), 0x50b9)), seed: seed, began: time.Now(), led: newLedger()}
	t.Logf("seed %d", seed)
	return h
}

// between returns a random duration in [lo, hi).
func (h *harness) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(h.rng.Int64N(int64(hi-lo)))
}

// souqServer is `souq serve` from the built binary on a fixed loopback
// port, so that clients keep their URL across restarts, as they would
// behind a load balancer.
type souqServer struct {
	h      *harness
	args   []string
	env    []string
	base   string
	logf   *os.File
	p      *proc
	starts int
}

// newSouq prepares a server with the scenario's settings plus extra flags
// and environment; start runs it.
func (h *harness) newSouq(extraArgs []string, extraEnv ...string) *souqServer {
	port := freePort(h.t)
	args := []string{"--addr", fmt.Sprintf("127.0.0.1:%d", port), "--data", h.data, "--demo", "--shoppers", "0",
		"--admin-token", adminToken, "--write-key", writeKey, "--archive-max-age", archiveMaxAge,
		"--archive-max-rows", archiveMaxRows, "--collector-rate", "1000000", "--shutdown-timeout", "20s"}
	if h.archive != "" {
		args = append(args, "--archive", h.archive)
	}
	logf, err := os.OpenFile(filepath.Join(h.dir, "souq.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { logf.Close() })
	return &souqServer{h: h, args: append(args, extraArgs...), env: childEnv(extraEnv...),
		base: fmt.Sprintf("http://127.0.0.1:%d", port), logf: logf}
}

// start runs the server and waits until /readyz answers 200.
func (s *souqServer) start() {
	t := s.h.t
	t.Helper()
	s.starts++
	fmt.Fprintf(s.logf, "=== chaos: start %d at %s\n", s.starts, time.Now().UTC().Format(time.RFC3339Nano))
	s.p = startProc(t, "souq serve", s.logf, s.env, s.h.bin, append([]string{"serve"}, s.args...)...)
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(time.Minute)
	for {
		if s.p.exited() {
			t.Fatalf("souq serve (start %d) exited: %v\n%s", s.starts, s.p.err, s.h.logTail("souq.log", 30))
		}
		resp, err := client.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("souq serve (start %d) not ready after a minute: %v\n%s", s.starts, err, s.h.logTail("souq.log", 30))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// kill9 kills the server at once, as a crash or the OOM killer would.
func (s *souqServer) kill9() {
	fmt.Fprintf(s.logf, "=== chaos: kill -9 at %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	s.p.kill()
}

// stop shuts the server down gracefully (SIGTERM).
func (s *souqServer) stop() error {
	fmt.Fprintf(s.logf, "=== chaos: SIGTERM at %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	return s.p.stop(45 * time.Second)
}

// logTail returns the last n lines of a log in the scenario directory.
func (h *harness) logTail(name string, n int) string {
	data, err := os.ReadFile(filepath.Join(h.dir, name))
	if err != nil {
		return fmt.Sprintf("(no %s: %v)", name, err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "last lines of " + name + ":\n" + strings.Join(lines, "\n")
}

// pending is the number of events an audit found still on their way.
func pending(rep audit.Report) int {
	n := 0
	for _, h := range rep.Hops {
		n += h.Pending.Total
	}
	return n
}

// summary lists each hop's differences, with the first few ids.
func summary(rep audit.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d differences", rep.Differences())
	for _, h := range rep.Hops {
		for _, l := range []struct {
			what string
			ids  audit.IDs
		}{{"missing", h.Missing}, {"duplicated", h.Duplicated}, {"extra", h.Extra}, {"stalled", h.Stalled},
			{"mismatched", h.Mismatched}, {"pending", h.Pending}} {
			if l.ids.Total == 0 {
				continue
			}
			fmt.Fprintf(&b, "\n  %s: %s %d", h.Name, l.what, l.ids.Total)
			for i, id := range l.ids.IDs {
				if i == 3 {
					b.WriteString(", …")
					break
				}
				if len(id) > 160 {
					id = id[:160] + "…"
				}
				b.WriteString(map[bool]string{true: " (", false: ", "}[i == 0] + id)
			}
			if len(l.ids.IDs) > 0 {
				b.WriteString(")")
			}
		}
	}
	return b.String()
}

// audit runs `souq audit --format json` over a range wide enough for every
// event of the scenario (clock jumps included). natsURL is the stream to
// read ("" for the embedded one, which needs the server stopped); liveURL,
// when set, is the running server whose live aggregates are compared. The
// report is saved in the scenario directory.
func (h *harness) audit(natsURL, liveURL string) (audit.Report, int, error) {
	args := []string{"audit", "--data", h.data, "--format", "json",
		"--from", h.began.Add(-72 * time.Hour).UTC().Format(time.RFC3339),
		"--to", time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)}
	if h.archive != "" {
		args = append(args, "--archive", h.archive)
	}
	if natsURL != "" {
		args = append(args, "--nats-url", natsURL)
	}
	if liveURL != "" {
		args = append(args, "--url", liveURL, "--admin-token", adminToken)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, args...)
	cmd.Env = childEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	exit := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		exit = ee.ExitCode()
	case err != nil:
		return audit.Report{}, -1, fmt.Errorf("souq audit: %w", err)
	}
	h.audits++
	_ = os.WriteFile(filepath.Join(h.dir, fmt.Sprintf("audit-%02d.json", h.audits)), stdout.Bytes(), 0o644)
	var rep audit.Report
	if derr := json.Unmarshal(stdout.Bytes(), &rep); derr != nil {
		return audit.Report{}, exit, fmt.Errorf("souq audit exited %d without a JSON report: %s", exit, firstLines(stderr.String(), 5))
	}
	return rep, exit, nil
}

func firstLines(s string, n int) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	var out []string
	for sc.Scan() && len(out) < n {
		out = append(out, sc.Text())
	}
	return strings.Join(out, "\n")
}

// drain waits until the running pipeline has carried everything through:
// an audit of the running server finds nothing pending, and finds the same
// differences twice in a row (none, on a healthy server). It polls, with
// a deadline; nothing here is a fixed sleep.
func (h *harness) drain(natsURL, liveURL string) error {
	deadline := time.Now().Add(drainTimeout)
	last := -1
	for {
		rep, _, err := h.audit(natsURL, liveURL)
		switch {
		case err != nil:
			last = -1
		case pending(rep) == 0 && (rep.Clean() || rep.Differences() == last):
			return nil
		default:
			last = rep.Differences()
			if pending(rep) > 0 {
				last = -1
			}
		}
		if time.Now().After(deadline) {
			if err != nil {
				return err
			}
			return fmt.Errorf("not drained after %s: %d pending; %s", drainTimeout, pending(rep), summary(rep))
		}
		time.Sleep(time.Second)
	}
}

// finish ends a scenario: it stops the load (clients finish their
// retries), lets the pipeline drain, stops the server gracefully, audits
// the data it left and checks the ledger against it. liveNATS is the
// stream URL an audit of the running server reads; finalNATS the one for
// the final audit ("" for the embedded stream).
func (h *harness) finish(r *result, l *load, srv *souqServer, liveNATS, finalNATS string) {
	t := h.t
	t.Helper()
	l.stop()
	h.led.fill(r)
	h.led.add(func(g *ledger) {
		t.Logf("load stopped: %d/%d events and %d/%d orders acknowledged, %d out of stock, %d idempotent replays, %d requests retried; gave up on %d orders and %d events",
			r.eventsAck, r.eventsSent, r.ordersAck, r.ordersSent, r.outOfStock, g.replays, g.retries, r.gaveUpOrders, r.gaveUpEvents)
	})
	if n := h.led.rejected(); n > 0 {
		t.Errorf("the server rejected %d well-formed requests (4xx other than out of stock): %s", n, h.led.firstRejection())
	}
	if err := h.drain(liveNATS, srv.base); err != nil {
		t.Errorf("drain: %v", err)
	}
	if err := srv.stop(); err != nil {
		t.Errorf("graceful stop of souq serve: %v\n%s", err, h.logTail("souq.log", 20))
	}
	rep, exit, err := h.audit(finalNATS, "")
	r.auditExit, r.auditDiffs = exit, rep.Differences()
	switch {
	case err != nil:
		t.Errorf("final audit: %v", err)
	case exit != 0:
		t.Errorf("souq audit exited %d: %s", exit, summary(rep))
	case pending(rep) > 0:
		t.Errorf("souq audit after the drain: %d events still pending: %s", pending(rep), summary(rep))
	}
	f, err := h.led.check(context.Background(), h, finalNATS, rep)
	if err != nil {
		t.Fatalf("ledger check: %v", err)
	}
	r.lost, r.duplicated, r.oversold = f.lost, f.duplicated, f.oversold
	f.report(t)
}

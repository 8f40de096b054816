package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLoadFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "--url must be"},
		{[]string{"--url", "ftp://shop.example"}, "--url must be"},
		{[]string{"--url", "http://127.0.0.1:1", "--arrival-rate", "0"}, "must be positive"},
		{[]string{"--url", "http://127.0.0.1:1", "--slo", "checkout.p99>1s"}, "--slo"},
		{[]string{"--url", "http://127.0.0.1:1", "--think-min", "2s", "--think-max", "1s"}, "--think-min"},
		{[]string{"--url", "http://127.0.0.1:1", "--profile", "tsunami"}, "unknown profile"},
		{[]string{"--url", "http://127.0.0.1:1", "--profile", filepath.Join(t.TempDir(), "missing.json")}, "--profile"},
		{[]string{"--url", "http://127.0.0.1:1", "--metrics-addr", "9465"}, "--metrics-addr"},
		{[]string{"--url", "http://127.0.0.1:1", "--metrics-addr", "127.0.0.1:no-such-service"}, "--metrics-addr"},
		{[]string{"--url", "http://127.0.0.1:1", "--metrics-addr", "127.0.0.1:70000"}, "--metrics-addr"},
	} {
		err := run(t.Context(), append([]string{"load"}, tt.args...), func(string) string { return "" }, &strings.Builder{}, &strings.Builder{})
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("load %q: got %v, want a usage error mentioning %q", tt.args, err, tt.want)
		}
	}
}

// TestLoadServe runs `souq load` against `souq serve --demo`: it reports
// per step, audits the shop after the run (the admin token from the
// environment), writes its JSON report, and its exit depends on --slo.
func TestLoadServe(t *testing.T) {
	base, _, _ := startServe(t, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo", "--shoppers", "0", "--admin-token", "adm"}, nil)
	dir := t.TempDir()
	load := func(slo, report string) (string, error) {
		var out strings.Builder
		err := run(t.Context(), []string{"load", "--url", base, "--duration", "2s", "--arrival-rate", "20", "--seed", "11",
			"--think-min", "1ms", "--think-max", "5ms", "--slo", slo, "--report", report, "--html", report + ".html"},
			func(k string) string { return map[string]string{"SOUQ_ADMIN_TOKEN": "adm"}[k] }, &out, &strings.Builder{})
		return out.String(), err
	}
	out, err := load("errors<1%,checkout.p99<10s", filepath.Join(dir, "ok.json"))
	if err != nil {
		t.Fatalf("load within its thresholds: %v\n%s", err, out)
	}
	for _, want := range []string{"seed 11", "checkout", "slo errors<1%", "met", "report: ", "audit passed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "ok.json"))
	var rep struct {
		Seed     uint64 `json:"seed"`
		Sessions struct {
			Arrived int64 `json:"arrived"`
		} `json:"sessions"`
		SLO []struct {
			Met bool `json:"met"`
		} `json:"slo"`
	}
	if err != nil || json.Unmarshal(b, &rep) != nil || rep.Seed != 11 || rep.Sessions.Arrived == 0 || len(rep.SLO) != 2 {
		t.Errorf("report file: %v %+v\n%s", err, rep, b)
	}
	if page, err := os.ReadFile(filepath.Join(dir, "ok.json.html")); err != nil || !strings.Contains(string(page), "<svg") {
		t.Errorf("HTML report: %v", err)
	}
	if out, err := load("p99<1ns", filepath.Join(dir, "fail.json")); !errors.Is(err, errSLO) || !strings.Contains(out, "NOT MET") {
		t.Errorf("load missing its threshold: got %v, want errSLO\n%s", err, out)
	}
}

// TestLoadMetrics runs `souq load --metrics-addr 127.0.0.1:0` against a
// shop double answering every listing empty (each session one request):
// it prints where it serves /metrics, which answers OpenMetrics with the
// run's figures while it runs; stopped, it writes its report and then
// stops serving. An address already in use is a usage error, found before
// anything is sent to the shop.
func TestLoadMetrics(t *testing.T) {
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"items": [], "total": 0}`)
	}))
	defer shop.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"load", "--url", shop.URL, "--duration", "10m", "--arrival-rate", "50", "--seed", "3",
			"--think-min", "1ms", "--think-max", "1ms", "--metrics-addr", "127.0.0.1:0"}, func(string) string { return "" }, stdout, stderr)
	}()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	wait := func(what string) {
		t.Helper()
		select {
		case <-tick.C:
		case err := <-done:
			t.Fatalf("souq load ended (%v) before %s\nstdout:\n%s\nstderr:\n%s", err, what, stdout, stderr)
		case <-deadline:
			t.Fatalf("no %s within 30 s\nstdout:\n%s\nstderr:\n%s", what, stdout, stderr)
		}
	}

	var url string
	metricsAt := regexp.MustCompile(`metrics at (http://\S+/metrics)`)
	for url == "" {
		if m := metricsAt.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
			break
		}
		wait("metrics address on stderr")
	}
	if strings.HasSuffix(url, ":0/metrics") {
		t.Fatalf("printed %s: want the port listened on, not 0", url)
	}
	sample := func(body, series string) float64 {
		var sum float64
		for _, m := range regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(series)+`(?:\{[^}]*\})? (\S+)$`).FindAllStringSubmatch(body, -1) {
			v, _ := strconv.ParseFloat(m[1], 64)
			sum += v
		}
		return sum
	}
	var body, contentType string
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body, contentType = string(b), resp.Header.Get("Content-Type")
			if resp.StatusCode == http.StatusOK && sample(body, "souq_load_sessions_arrived_total") > 0 && sample(body, "souq_load_requests_total") > 0 {
				break
			}
		}
		wait("scrape with sessions and requests")
	}
	if !strings.HasPrefix(contentType, "application/openmetrics-text") || !strings.HasSuffix(body, "# EOF\n") {
		t.Errorf("scrape: Content-Type %q, want OpenMetrics text ending in # EOF:\n%s", contentType, body)
	}
	for _, want := range []string{"# TYPE souq_load_request_duration_seconds histogram", `souq_load_target_arrival_rate 50`,
		"souq_load_sessions_in_progress", `souq_load_sessions_ended_total{outcome="completed"}`, "go_goroutines"} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q:\n%s", want, body)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("souq load stopped: %v\nstderr:\n%s", err, stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("souq load did not stop within 30 s of its context ending")
	}
	if out := stdout.String(); !strings.Contains(out, "interrupted") || (!strings.Contains(out, "browse") && !strings.Contains(out, "search")) {
		t.Errorf("report after the stop lacks the interruption or the steps:\n%s", out)
	}
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Errorf("GET %s after souq load returned: %s, want no server", url, resp.Status)
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	err = run(t.Context(), []string{"load", "--url", "http://127.0.0.1:1", "--metrics-addr", busy.Addr().String()},
		func(string) string { return "" }, &strings.Builder{}, &strings.Builder{})
	if !errors.Is(err, errUsage) || exitCode(err) != 2 || !strings.Contains(err.Error(), "--metrics-addr") {
		t.Errorf("--metrics-addr in use: got %v, want a usage error (exit 2) naming --metrics-addr", err)
	}
}

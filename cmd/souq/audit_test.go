package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/audit"
	"github.com/souq-commerce/souq/internal/fileblob"
	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/souq"
)

// auditJSON is the part of the JSON report the tests read.
type auditJSON struct {
	Clean       bool `json:"clean"`
	Differences int  `json:"differences"`
	Hops        []struct {
		Name    string         `json:"name"`
		Skipped string         `json:"skipped"`
		Counts  map[string]int `json:"counts"`
		Missing struct {
			Total int      `json:"total"`
			IDs   []string `json:"ids"`
		} `json:"missing"`
		Mismatched struct {
			Total int      `json:"total"`
			IDs   []string `json:"ids"`
		} `json:"mismatched"`
	} `json:"hops"`
}

func (a auditJSON) hop(t *testing.T, name string) int {
	t.Helper()
	for i, h := range a.Hops {
		if h.Name == name {
			return i
		}
	}
	t.Fatalf("the JSON report has no hop %q", name)
	return -1
}

// runAuditJSON runs souq audit with --format json and decodes its report.
func runAuditJSON(t *testing.T, args []string, env map[string]string) (auditJSON, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := runAudit(t.Context(), append(args, "--format", "json"), func(k string) string { return env[k] }, &out, &errOut)
	var rep auditJSON
	if derr := json.Unmarshal(out.Bytes(), &rep); derr != nil {
		t.Fatalf("audit (err %v) wrote no JSON report: %v\nstdout:\n%s\nstderr:\n%s", err, derr, out.String(), errOut.String())
	}
	return rep, err
}

// placeOrderAndTrack places one order through the API and sends two
// behaviour events through the collector, as TestServeDemoEndToEnd does,
// and waits until the archive holds all three.
func placeOrderAndTrack(t *testing.T, base, stdout, data string) {
	t.Helper()
	var list productList
	getJSON(t, base+"/api/v1/products?market=AE&page_size=50", &list)
	product := list.inStock(t)
	order := fmt.Sprintf(`{"market":"AE","items":[{"product_id":%q,"quantity":1}],
		"customer":{"name":"Mariam","email":"mariam@example.ae","phone":"+971501234567"},
		"shipping_address":{"line1":"Villa 12, Street 5","area":"Jumeirah","city":"Dubai","country":"AE"},
		"payment":{"method":"cod"}}`, product)
	resp, err := http.Post(base+"/api/v1/orders", "application/json", strings.NewReader(order))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("order: got %d %s", resp.StatusCode, body)
	}
	wk := regexp.MustCompile(`HTTP Basic user (\S+)`).FindStringSubmatch(stdout)
	if wk == nil {
		t.Fatalf("no write key printed:\n%s", stdout)
	}
	batch := fmt.Sprintf(`{"batch":[
		{"type":"track","event":"Product Viewed","messageId":"audit-e2e-1","anonymousId":"a1","properties":{"product_id":%q},"context":{"market":"AE"}},
		{"type":"track","event":"Product Added","messageId":"audit-e2e-2","anonymousId":"a1","properties":{"product_id":%q,"quantity":1},"context":{"market":"AE"}}]}`,
		product, product)
	req, _ := http.NewRequest("POST", base+"/v1/batch", strings.NewReader(batch))
	req.SetBasicAuth(wk[1], "")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("collector batch: got %d", resp.StatusCode)
	}
	waitArchived(t, filepath.Join(data, "archive"), "audit-e2e-1", "audit-e2e-2", souq.EventOrderCompleted)
}

// TestAuditServeData audits the data directory of a real `souq serve`:
// refused while the server holds the embedded stream, clean once it has
// stopped, and reporting by id the events of an archive file that went
// missing.
func TestAuditServeData(t *testing.T) {
	data := t.TempDir()
	base, stdout, stop := startServe(t, []string{"--addr", "127.0.0.1:0", "--data", data, "--demo", "--shoppers", "0", "--archive-max-age", "100ms"}, nil)
	placeOrderAndTrack(t, base, stdout.String(), data)

	var out, errOut bytes.Buffer
	err := runAudit(t.Context(), []string{"--data", data}, func(string) string { return "" }, &out, &errOut)
	if !errors.Is(err, natsstream.ErrStoreDirInUse) || !strings.Contains(err.Error(), "--nats-listen") || !strings.Contains(err.Error(), "stop the server") {
		t.Errorf("audit while serve holds the stream: got %v, want ErrStoreDirInUse telling to stop the server or use --nats-listen", err)
	}
	if err := stop(); err != nil {
		t.Fatalf("stop serve: %v", err)
	}

	// Clean, with the data directory and the format from the environment.
	var text bytes.Buffer
	env := map[string]string{"SOUQ_DATA": data}
	if err := runAudit(t.Context(), nil, func(k string) string { return env[k] }, &text, &errOut); err != nil {
		t.Fatalf("audit of a clean data directory: %v\n%s", err, text.String())
	}
	if !strings.Contains(text.String(), "Result: clean") {
		t.Errorf("text report lacks the verdict:\n%s", text.String())
	}
	rep, err := runAuditJSON(t, nil, env)
	if err != nil || !rep.Clean || rep.Differences != 0 {
		t.Fatalf("JSON audit: got %v, clean %v, %d differences; want nil, true, 0", err, rep.Clean, rep.Differences)
	}
	if got := rep.Hops[rep.hop(t, audit.HopOrdersOutbox)].Counts["orders"]; got != 1 {
		t.Errorf("orders counted: got %d, want 1", got)
	}
	if got := rep.Hops[rep.hop(t, audit.HopStreamArchive)].Counts["archive records"]; got != 3 {
		t.Errorf("archive records counted: got %d, want 3", got)
	}

	// Lose the archive file holding the behaviour events.
	bucket, err := fileblob.Open(filepath.Join(data, "archive"))
	if err != nil {
		t.Fatal(err)
	}
	batches, err := archive.Manifests(t.Context(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	var lost string
	for _, b := range batches {
		for _, f := range b.Files {
			blob, err := bucket.Get(t.Context(), f.Key)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := archive.ReadFile(blob)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.Event.MessageID == "audit-e2e-1" {
					lost = f.Key
				}
			}
		}
	}
	if err := bucket.Delete(t.Context(), lost); err != nil {
		t.Fatal(err)
	}
	rep, err = runAuditJSON(t, []string{"--data", data}, nil)
	if !errors.Is(err, errAuditDifferences) || exitCode(err) != 1 {
		t.Errorf("audit with a lost file: got %v (exit %d), want errAuditDifferences (exit 1)", err, exitCode(err))
	}
	h := rep.Hops[rep.hop(t, audit.HopStreamArchive)]
	if rep.Clean || h.Missing.Total < 1 || !strings.HasPrefix(strings.Join(h.Missing.IDs, ","), "audit-e2e-1 ") {
		t.Errorf("stream → archive missing: got %+v, want audit-e2e-1 first", h.Missing)
	}
	if h.Mismatched.Total != 1 || !strings.HasPrefix(h.Mismatched.IDs[0], lost) {
		t.Errorf("stream → archive mismatched: got %+v, want %s", h.Mismatched, lost)
	}
}

// TestAuditRunningServer audits a running server through the port its
// embedded NATS listens on, and asks it for its live aggregates.
func TestAuditRunningServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	natsAddr := ln.Addr().String()
	ln.Close()
	data := t.TempDir()
	base, stdout, _ := startServe(t, []string{"--addr", "127.0.0.1:0", "--data", data, "--demo", "--shoppers", "0", "--admin-token", "tok",
		"--archive-max-age", "100ms", "--nats-listen", natsAddr}, nil)
	placeOrderAndTrack(t, base, stdout.String(), data)

	rep, err := runAuditJSON(t, []string{"--data", data, "--nats-url", "nats://" + natsAddr, "--url", base, "--admin-token", "tok"}, nil)
	if err != nil || !rep.Clean {
		t.Fatalf("audit of a running server: got %v, clean %v; want nil, true (%+v)", err, rep.Clean, rep)
	}
	live := rep.Hops[rep.hop(t, audit.HopLive)]
	compared := live.Skipped == "" && live.Counts["live max_seq"] > 0
	if !compared && !strings.Contains(live.Skipped, "live aggregates not compared") {
		t.Errorf("live hop: got %+v, want it compared, or not compared with the reason", live)
	}
}

func TestAuditUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad format", []string{"--format", "xml"}, nil, "--format"},
		{"bad from", []string{"--from", "yesterday"}, nil, "--from"},
		{"bad to from env", nil, map[string]string{"SOUQ_TO": "2026-13-01"}, "--to"},
		{"empty range", []string{"--from", "2026-11-28T20:00:00+04:00", "--to", "2026-11-28T16:00:00Z"}, nil, "after --from"},
		{"url without scheme", []string{"--url", "localhost:8080"}, nil, "--url"},
		{"negative grace", []string{"--grace", "-1s"}, nil, "--grace"},
		{"unsupported database", []string{"--database", "mysql://x"}, nil, "unsupported scheme"},
		{"arguments", []string{"now"}, nil, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := runAudit(t.Context(), tt.args, func(k string) string { return tt.env[k] }, &out, &errOut)
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.want) || exitCode(err) != 2 {
				t.Fatalf("got %v (exit %d), want a usage error mentioning %q", err, exitCode(err), tt.want)
			}
		})
	}

	// A data directory without a database is not a usage error, and
	// nothing is created in it.
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	err := runAudit(t.Context(), []string{"--data", dir}, func(string) string { return "" }, &out, &errOut)
	if err == nil || errors.Is(err, errUsage) || !strings.Contains(err.Error(), "no database at") {
		t.Errorf("empty data directory: got %v, want \"no database at …\"", err)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*")); len(matches) != 0 {
		t.Errorf("audit created %q in the data directory", matches)
	}

	// Help goes to stderr and is not an error.
	errOut.Reset()
	if err := runAudit(t.Context(), []string{"-h"}, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Errorf("audit -h: %v", err)
	}
	for _, want := range []string{"Usage: souq audit", "SOUQ_FROM", "--nats-url", "--grace"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("audit help lacks %q", want)
		}
	}
}

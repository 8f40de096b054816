package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const planReport = "../../internal/plan/testdata/ramp-report.json"

func TestPlanFlags(t *testing.T) {
	dir := t.TempDir()
	notReport := filepath.Join(dir, "not-a-report.json")
	if err := os.WriteFile(notReport, []byte(`{"items": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"--shoppers", "400000", "--peak-minutes", "15", "--from-report", planReport}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "--from-report is required"},
		{[]string{"--shoppers", "-1", "--peak-minutes", "15", "--from-report", planReport}, "shoppers must be positive"},
		{append(base, "--conversion", "1.5"), "conversion"},
		{append(base, "--peak-minutes", "-3"), "peak minutes"},
		{append(base, "--format", "yaml"), "--format"},
		{append(base, "--sale-start", "tomorrow"), "--sale-start"},
		{append(base, "--region", "us-east-1"), "price table is for me-central-1"},
		{[]string{"--shoppers", "1", "--peak-minutes", "1", "--from-report", filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"--shoppers", "1", "--peak-minutes", "1", "--from-report", notReport}, "not a souq load report"},
		{[]string{"--shoppers", "1", "--peak-minutes", "1", "--from-report", planReport, "--prices", notReport}, "price table"},
	} {
		err := run(t.Context(), append([]string{"plan"}, tt.args...), func(string) string { return "" }, &strings.Builder{}, &strings.Builder{})
		if !errors.Is(err, errUsage) || exitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("plan %q: got %v, want a usage error (exit 2) mentioning %q", tt.args, err, tt.want)
		}
	}
}

// TestPlanRun plans from the real report, the sale's numbers from the
// environment twins, as JSON into a file; and as text on stdout.
func TestPlanRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "plan.json")
	env := map[string]string{"SOUQ_SHOPPERS": "400000", "SOUQ_PEAK_MINUTES": "15", "SOUQ_CONVERSION": "0.03"}
	var stdout, stderr strings.Builder
	err := run(t.Context(), []string{"plan", "--from-report", planReport, "--sale-start", "2026-12-12T20:00", "--format", "json", "-o", out},
		func(k string) string { return env[k] }, &stdout, &stderr)
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	var pl struct {
		Roles []struct {
			Name string `json:"name"`
			Pods int    `json:"pods"`
		} `json:"roles"`
		Window struct {
			CronStart string `json:"cron_start"`
		} `json:"sale_window"`
		Cost struct {
			USDPerHour *float64 `json:"usd_per_hour"`
			Unknown    []string `json:"price_unknown"`
		} `json:"cost"`
	}
	if err != nil || json.Unmarshal(b, &pl) != nil {
		t.Fatalf("plan file: %v\n%s", err, b)
	}
	if len(pl.Roles) == 0 || pl.Roles[0].Name != "api" || pl.Roles[0].Pods < 2 || pl.Window.CronStart != "45 19 12 12 *" {
		t.Errorf("got %+v", pl)
	}
	if pl.Cost.USDPerHour != nil || len(pl.Cost.Unknown) == 0 {
		t.Errorf("the embedded table lacks me-central-1 prices, yet a total was given: %+v", pl.Cost)
	}
	stdout.Reset()
	if err := run(t.Context(), []string{"plan", "--from-report", planReport}, func(k string) string { return env[k] }, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"role", "api", "price unknown", "no --sale-start"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, stdout.String())
		}
	}
}

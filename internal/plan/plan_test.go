package plan

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/souq-commerce/souq/internal/loadgen"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update once)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (go test -run %s -update rewrites it):\n%s", path, t.Name(), got)
	}
}

func saleInputs() Inputs {
	in := DefaultInputs()
	in.Shoppers, in.PeakMinutes, in.Conversion = 400000, 15, 0.03
	in.SaleStart = time.Date(2026, 12, 12, 16, 0, 0, 0, time.UTC) // 20:00 in Dubai
	return in
}

// TestGoldenRamp plans the README's sale from a real report of souq load
// (a 60 s ramp to 120 sessions/s against souq serve --demo), as text and
// JSON, with the embedded prices and with a table that knows them all.
func TestGoldenRamp(t *testing.T) {
	rep, err := ReadReport(filepath.Join("testdata", "ramp-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, warn, err := Derive(rep, Options{ReportPods: 1, SLOErrors: -1, Window: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		prices Prices
	}{{"ramp", DefaultPrices()}, {"ramp-priced", testPrices(t)}} {
		pl, err := Compute(saleInputs(), m, tc.prices, warn)
		if err != nil {
			t.Fatal(err)
		}
		var text, js bytes.Buffer
		pl.WriteText(&text)
		if err := pl.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		golden(t, tc.name+".txt", text.Bytes())
		golden(t, tc.name+".json", js.Bytes())
	}
}

// testPrices is a table with every price known (made-up round figures,
// for the arithmetic only).
func testPrices(t *testing.T) Prices {
	p, err := ReadPrices(filepath.Join("testdata", "prices-complete.json"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEmbeddedPrices: the table has a date, its region, a source for every
// price, and no me-central-1 figure is filled from another region.
func TestEmbeddedPrices(t *testing.T) {
	p := DefaultPrices()
	if p.Region != "me-central-1" || p.Date == "" {
		t.Fatalf("region %q date %q", p.Region, p.Date)
	}
	for _, list := range [][]Instance{p.Instances, p.Databases, p.Caches} {
		for _, in := range list {
			if in.Source == "" {
				t.Errorf("%s has no source", in.Type)
			}
			if in.Estimate != nil && (in.EstimateRegion == "" || in.EstimateRegion == p.Region) {
				t.Errorf("%s: an estimate needs the other region it comes from", in.Type)
			}
		}
	}
	for _, s := range p.Services {
		if s.Source == "" {
			t.Errorf("%s has no source", s.Name)
		}
	}
}

func measured() Measured {
	return Measured{APIRPSPerPod: 100, PerSession: map[string]float64{"browse": 2, "product": 3, "checkout": 0.5, "events": 4},
		CheckoutPerOrder: 1, Conversion: 0.5}
}

// TestFormulas checks the plan against figures worked by hand.
func TestFormulas(t *testing.T) {
	in := DefaultInputs()
	in.Shoppers, in.PeakMinutes, in.Conversion, in.Headroom, in.SpotShare = 60000, 10, 0.1, 0.5, 0.5
	pl, err := Compute(in, measured(), testPrices(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	// 60,000 over 600 s = 100 sessions/s; 10 orders/s.
	// api: browse 2 + product 3 + checkout 1 × 0.1 = 5.1 per session → 510 req/s;
	// × 1.5 ÷ 100 per pod = 7.65 → 8 pods, floor 2, spot round(6 × 0.5) = 3.
	// events: browse 2 + product 3 + checkout 0.5 = 5.5 per session → 550 + 10 orders = 560/s.
	d := pl.Demand
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"sessions/s", d.SessionsPerSecond, 100}, {"orders/s", d.OrdersPerSecond, 10}, {"api req/s", d.APIRequestsPerSecond, 510},
		{"events/session", d.EventsPerSession, 5.5}, {"events/s", d.EventsPerSecond, 560},
		{"api pods", float64(pl.Roles[0].Pods), 8}, {"api spot", float64(pl.Roles[0].Spot), 3}, {"api on-demand", float64(pl.Roles[0].OnDemand), 5},
		{"collector pods", float64(pl.Roles[1].Pods), 2},
		// stream: 560 × 1024 B for 600 s, then 56/s for 7 d − 600 s.
		{"stream GiB", pl.Stream.StoragePerReplicaGiB, (560*1024*600 + 56*1024*(7*86400-600)) / float64(1<<30)},
	} {
		if math.Abs(c.got-c.want) > 1e-6 {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	// Database: 10 × 1.5 / 150 = 0.1 vCPU; (8 api + 2 relay) × 10 = 100 connections: the smallest class.
	if pl.Database.Class != "db.m5.large" || pl.Database.Connections != 100 || pl.Database.MaxConnections != 901 {
		t.Errorf("database: got %+v", pl.Database)
	}
	if pl.Cost.USDPerHour == nil || pl.Cost.SaleUSD == nil || len(pl.Cost.Unknown) != 0 {
		t.Fatalf("complete table: got cost %+v", pl.Cost)
	}
	// The sale's hours: 15 min lead + 10 min + 15 min cooldown.
	if got, want := pl.Cost.SaleHours, 40.0/60; math.Abs(got-want) > 1e-9 {
		t.Errorf("sale hours: got %v, want %v", got, want)
	}
	// OpenCost: roles plus idle add up to the nodes' cost.
	nodes := 0.0
	for _, it := range pl.Cost.Items[:2] {
		nodes += *it.USDPerHour
	}
	sum := *pl.Cost.IdleUSDPerHour
	for _, a := range pl.Cost.Allocation {
		sum += *a.USDPerHour
	}
	if math.Abs(sum-nodes) > 1e-9 || *pl.Cost.IdleUSDPerHour < 0 {
		t.Errorf("allocation %v + idle %v ≠ nodes %v", sum-*pl.Cost.IdleUSDPerHour, *pl.Cost.IdleUSDPerHour, nodes)
	}
}

// TestRates: a node's price splits between CPU and RAM at OpenCost's
// ratio and adds back up to the price.
func TestRates(t *testing.T) {
	r := Ratio{CPUPerVCPUHour: 0.03, RAMPerGiBHour: 0.005}
	cpu, ram := rates(Instance{VCPU: 4, MemoryGiB: 16}, 0.4, r)
	// base 4×0.03 + 16×0.005 = 0.2; scale 2: 0.06 per vCPU, 0.01 per GiB.
	if math.Abs(cpu-0.06) > 1e-12 || math.Abs(ram-0.01) > 1e-12 {
		t.Errorf("got %v per vCPU, %v per GiB; want 0.06 and 0.01", cpu, ram)
	}
}

// TestUnknownPrice: without a price the total is not given, the line says
// so, and no estimate is used unless asked, then labelled.
func TestUnknownPrice(t *testing.T) {
	in := saleInputs()
	pl, err := Compute(in, measured(), DefaultPrices(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if pl.Cost.USDPerHour != nil || pl.Cost.SaleUSD != nil || len(pl.Cost.Unknown) == 0 || pl.Nodes[0].Price.Status != "unknown" {
		t.Errorf("unknown prices: got %+v", pl.Cost)
	}
	in.Estimates = true
	pl, err = Compute(in, measured(), DefaultPrices(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st := pl.Nodes[0].Price.Status; st != "estimate from us-east-1" {
		t.Errorf("estimate: got status %q", st)
	}
	var text bytes.Buffer
	pl.WriteText(&text)
	if !strings.Contains(text.String(), "estimated from another region") || !strings.Contains(text.String(), "price unknown") {
		t.Errorf("text does not label the estimates and the unknowns:\n%s", text.String())
	}
}

// TestScaledObject decodes the YAML strictly into KEDA's fields.
func TestScaledObject(t *testing.T) {
	pl, err := Compute(saleInputs(), measured(), DefaultPrices(), nil)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(pl.ScaledObject))
	dec.KnownFields(true)
	var o ScaledObject
	if err := dec.Decode(&o); err != nil {
		t.Fatalf("strict decode: %v\n%s", err, pl.ScaledObject)
	}
	tr := o.Spec.Triggers
	if o.APIVersion != "keda.sh/v1alpha1" || o.Kind != "ScaledObject" || o.Metadata.Namespace != "souq" ||
		o.Spec.ScaleTargetRef != (ScaleTarget{"argoproj.io/v1alpha1", "Rollout", "souq-api"}) || len(tr) != 1 || tr[0].Type != "cron" {
		t.Fatalf("got %+v", o)
	}
	// 20:00 Dubai: 15 min before, and 15 min peak + 15 min after;
	// 400,000 / 900 s × (2 + 3 + 0.03) req × 1.3 / 100 per pod = 29.06 → 30.
	want := map[string]string{"timezone": "Asia/Dubai", "start": "45 19 12 12 *", "end": "30 20 12 12 *", "desiredReplicas": "30"}
	for k, v := range want {
		if tr[0].Metadata[k] != v {
			t.Errorf("%s: got %q, want %q", k, tr[0].Metadata[k], v)
		}
	}
	if o.Spec.MaxReplicaCount < pl.Roles[0].Pods {
		t.Errorf("maxReplicaCount %d below the peak's %d", o.Spec.MaxReplicaCount, pl.Roles[0].Pods)
	}
}

func TestBadInputs(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*Inputs)
		want string
	}{
		{"no shoppers", func(in *Inputs) { in.Shoppers = 0 }, "shoppers"},
		{"negative shoppers", func(in *Inputs) { in.Shoppers = -5 }, "shoppers"},
		{"conversion over 1", func(in *Inputs) { in.Conversion = 3 }, "conversion"},
		{"negative headroom", func(in *Inputs) { in.Headroom = -0.1 }, "headroom"},
		{"spot share over 1", func(in *Inputs) { in.SpotShare = 1.5 }, "spot share"},
		{"other region", func(in *Inputs) { in.Region = "us-east-1" }, "price table is for me-central-1"},
		{"unknown instance", func(in *Inputs) { in.InstanceType = "x9.huge" }, "not in the price table"},
	} {
		in := saleInputs()
		c.edit(&in)
		_, err := Compute(in, measured(), DefaultPrices(), nil)
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want ErrInput mentioning %q", c.name, err, c.want)
		}
	}
}

// report is a small report: n seconds of rps requests at p99 ms.
func report(n int, rps int64, p99 float64) *loadgen.Report {
	r := &loadgen.Report{Started: time.Unix(0, 0), Sessions: loadgen.SessionCounts{Started: 100, Orders: 10},
		Steps: []loadgen.StepReport{{Step: "browse", Requests: 800}, {Step: "checkout", Requests: 10}, {Step: "events", Requests: 190}},
		All:   loadgen.StepReport{Step: "all", Requests: 1000},
		SLO:   []loadgen.Outcome{{Threshold: loadgen.Threshold{Step: "checkout", Percentile: 99, Latency: 200 * time.Millisecond}, Met: true}}}
	b := `[`
	for i := range n {
		if i > 0 {
			b += ","
		}
		b += `{"requests":` + itoa(rps) + `,"failed":0,"p99_ms":` + ftoa(p99) + `}`
	}
	if err := jsonUnmarshal(b+`]`, &r.PerSecond); err != nil {
		panic(err)
	}
	return r
}

func TestDerive(t *testing.T) {
	m, warn, err := Derive(report(20, 100, 50), Options{ReportPods: 2, SLOErrors: -1, Window: 10})
	if err != nil {
		t.Fatal(err)
	}
	// 100 req/s, 19% events, two pods: 40.5 api req/s a pod.
	if math.Abs(m.APIRPSPerPod-40.5) > 1e-9 || m.SLOP99Ms != 200 || m.CheckoutPerOrder != 1 {
		t.Errorf("got %+v", m)
	}
	if len(warn) == 0 {
		t.Error("no warning that the SLO held throughout (a lower bound)")
	}
	for _, c := range []struct {
		name string
		r    *loadgen.Report
		o    Options
		want error
	}{
		{"empty", &loadgen.Report{Started: time.Unix(0, 0)}, Options{ReportPods: 1, SLOErrors: -1, Window: 10}, ErrEmpty},
		{"too short", report(5, 100, 50), Options{ReportPods: 1, SLOErrors: -1, Window: 10}, ErrEmpty},
		{"slo missed every second", report(20, 100, 900), Options{ReportPods: 1, SLOErrors: -1, Window: 10}, ErrEmpty},
		{"no p99 threshold", func() *loadgen.Report { r := report(20, 100, 50); r.SLO = nil; return r }(), Options{ReportPods: 1, SLOErrors: -1, Window: 10}, ErrNoSLO},
	} {
		if _, _, err := Derive(c.r, c.o); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	// Missed overall but some windows held: a warning, not a silent number.
	r := report(30, 100, 50)
	r.SLO[0].Met = false
	r.Interrupted = true
	_, warn, err = Derive(r, Options{ReportPods: 1, SLOErrors: -1, Window: 10})
	if err != nil || !strings.Contains(strings.Join(warn, "\n"), "missed") || !strings.Contains(strings.Join(warn, "\n"), "interrupted") {
		t.Errorf("got %v, warnings %q", err, warn)
	}
}

func TestReadReport(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadReport(filepath.Join(dir, "missing.json")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v", err)
	}
	for name, body := range map[string]string{"prices.json": `{"date": "2026-01-01"}`, "garbage.json": `not json`} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadReport(path); !errors.Is(err, ErrNotReport) {
			t.Errorf("%s: got %v, want ErrNotReport", name, err)
		}
	}
}

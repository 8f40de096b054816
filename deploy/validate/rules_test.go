package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	rollouts "github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	keda "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
)

// souqRules is the PrometheusRule the prod overlay ships.
func souqRules(t *testing.T) *monv1.PrometheusRule {
	t.Helper()
	o := find(renderAll(t)["overlays/prod-me-central-1"], "PrometheusRule/souq")
	if o == nil {
		t.Fatal("no PrometheusRule/souq in prod")
	}
	v, err := decodeStrict(o)
	if err != nil {
		t.Fatal(err)
	}
	return v.(*monv1.PrometheusRule)
}

// alertsFiring evaluates the rules the way Prometheus does, every minute
// from the start of the series: each recording rule's result is written
// back to the storage before the alerts read it, and an alert fires at at
// when its expression held at every evaluation of its for duration. It
// returns the names of the alerts firing at at.
func alertsFiring(t *testing.T, pr *monv1.PrometheusRule, series string, at time.Duration) map[string]bool {
	t.Helper()
	storage := promqltest.LoadedStorage(t, "load 1m\n"+series)
	engine := promqltest.NewTestEngine(t, false, 5*time.Minute, promqltest.DefaultMaxSamplesPerQuery)
	ctx := context.Background()
	start := time.Unix(0, 0).UTC()
	eval := func(expr string, ts time.Time) promql.Vector {
		q, err := engine.NewInstantQuery(ctx, storage, nil, expr, ts)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		defer q.Close()
		res := q.Exec(ctx)
		if res.Err != nil {
			t.Fatalf("%s: %v", expr, res.Err)
		}
		v, err := res.Vector()
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}
	held := map[string]time.Duration{} // alert → how long it has held
	firing := map[string]bool{}
	for step := time.Duration(0); step <= at; step += time.Minute {
		ts := start.Add(step)
		for _, g := range pr.Spec.Groups {
			for _, r := range g.Rules {
				if r.Record == "" {
					continue
				}
				app := storage.Appender(ctx)
				for _, s := range eval(r.Expr.String(), ts) {
					b := labels.NewBuilder(s.Metric)
					b.Set(labels.MetricName, r.Record)
					if _, err := app.Append(0, b.Labels(), ts.UnixMilli(), s.F); err != nil {
						t.Fatal(err)
					}
				}
				if err := app.Commit(); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, g := range pr.Spec.Groups {
			for _, r := range g.Rules {
				if r.Alert == "" {
					continue
				}
				var forDur time.Duration
				if r.For != nil {
					d, err := time.ParseDuration(string(*r.For))
					if err != nil {
						t.Fatalf("%s: for: %v", r.Alert, err)
					}
					forDur = d
				}
				if len(eval(r.Expr.String(), ts)) > 0 {
					if _, ok := held[r.Alert]; !ok {
						held[r.Alert] = 0
					} else {
						held[r.Alert] += time.Minute
					}
				} else {
					delete(held, r.Alert)
				}
				firing[r.Alert] = false
				if d, ok := held[r.Alert]; ok && d >= forDur {
					firing[r.Alert] = true
				}
			}
		}
	}
	out := map[string]bool{}
	for a, f := range firing {
		if f {
			out[a] = true
		}
	}
	return out
}

const (
	orders     = `souq_http_request_duration_seconds_count{namespace="souq",service="souq-api",route="POST /api/v1/orders",method="POST",code="%s"}`
	ordersFast = `souq_http_request_duration_seconds_bucket{namespace="souq",service="souq-api",route="POST /api/v1/orders",method="POST",code="201",le="0.5"}`
	ordersAll  = `souq_http_request_duration_seconds_bucket{namespace="souq",service="souq-api",route="POST /api/v1/orders",method="POST",code="201",le="+Inf"}`
)

func TestAlertRules(t *testing.T) {
	pr := souqRules(t)
	cases := []struct {
		name   string
		series string
		at     time.Duration
		want   []string // exactly these fire
	}{
		{"healthy checkout", fmt.Sprintf(orders, "201") + " 0+6000x120\n" + fmt.Sprintf(orders, "500") + " 0+1x120\n" +
			ordersFast + " 0+6000x120\n" + ordersAll + " 0+6000x120\n", 100 * time.Minute, nil},
		{"5% of checkouts fail", fmt.Sprintf(orders, "201") + " 0+5700x120\n" + fmt.Sprintf(orders, "500") + " 0+300x120\n" +
			ordersFast + " 0+6000x120\n" + ordersAll + " 0+6000x120\n", 100 * time.Minute,
			// The long windows hold only these 100 minutes: the slow burn fires too.
			[]string{"SouqCheckoutAvailabilityBurnFast", "SouqCheckoutAvailabilityBurnSlow"}},
		{"a three-minute blip of errors", fmt.Sprintf(orders, "201") + " 0+6000x120\n" + fmt.Sprintf(orders, "500") + " 0+1x96 396+300x2 996+0x20\n" +
			ordersFast + " 0+6000x120\n" + ordersAll + " 0+6000x120\n", 100 * time.Minute, nil},
		{"one in five checkouts slower than 500ms", fmt.Sprintf(orders, "201") + " 0+6000x120\n" +
			ordersFast + " 0+4800x120\n" + ordersAll + " 0+6000x120\n", 100 * time.Minute, []string{"SouqCheckoutLatencyBurnFast", "SouqCheckoutLatencyBurnSlow"}},
		{"outbox relay stalled", `souq_outbox_oldest_pending_age_seconds{namespace="souq",service="souq-relay",pod="a"} 0+60x60` + "\n" +
			`souq_outbox_oldest_pending_age_seconds{namespace="souq",service="souq-relay",pod="b"} 0x60` + "\n", 40 * time.Minute, []string{"SouqOutboxStalled"}},
		{"outbox kept up with", `souq_outbox_oldest_pending_age_seconds{namespace="souq",service="souq-relay",pod="a"} 0x20 1x20 0x20` + "\n", 40 * time.Minute, nil},
		{"outbox relay publishing", `souq_orders_created_total{namespace="souq",service="souq-api",market="ae",payment="cod"} 0+10x60` + "\n" +
			`souq_relay_published_total{namespace="souq",service="souq-relay"} 0+10x60` + "\n", 40 * time.Minute, nil},
		{"archive stalled", `souq_archive_lag_sequences{namespace="souq",service="souq-archiver"} 0+100x60` + "\n" +
			`souq_archive_last_sequence{namespace="souq",service="souq-archiver"} 5000x60` + "\n" +
			`souq_archive_missing_sequences{namespace="souq",service="souq-archiver"} 0x60` + "\n", 45 * time.Minute, []string{"SouqArchiveStalled"}},
		{"archive advancing", `souq_archive_lag_sequences{namespace="souq",service="souq-archiver"} 10x60` + "\n" +
			`souq_archive_last_sequence{namespace="souq",service="souq-archiver"} 0+100x60` + "\n" +
			`souq_archive_missing_sequences{namespace="souq",service="souq-archiver"} 0x60` + "\n", 45 * time.Minute, nil},
		{"archive lost sequences", `souq_archive_missing_sequences{namespace="souq",service="souq-archiver"} 0x10 3x30` + "\n", 30 * time.Minute, []string{"SouqArchiveMissing"}},
		{"processor behind", `souq_pipeline_consumer_lag{namespace="souq",service="souq-processor",consumer="processor"} 0+5000x30` + "\n", 30 * time.Minute, []string{"SouqConsumerLag"}},
		{"processor keeping up", `souq_pipeline_consumer_lag{namespace="souq",service="souq-processor",consumer="processor"} 200x30` + "\n", 30 * time.Minute, nil},
		{"webhook endpoint down", `souq_webhook_oldest_pending_age_seconds{namespace="souq",service="souq-webhooks",pod="a"} 0+60x90` + "\n" +
			`souq_webhook_oldest_pending_age_seconds{namespace="souq",service="souq-webhooks",pod="b"} 0+60x90` + "\n", 85 * time.Minute, []string{"SouqWebhooksBacklog"}},
		{"webhooks retried and delivered", `souq_webhook_oldest_pending_age_seconds{namespace="souq",service="souq-webhooks",pod="a"} 0+60x30 0x60` + "\n", 85 * time.Minute, nil},
		{"collector rejects a tenth", `souq_collector_events_total{namespace="souq",service="souq-collector",result="accepted",reason="none"} 0+900x40` + "\n" +
			`souq_collector_events_total{namespace="souq",service="souq-collector",result="rejected",reason="schema"} 0+100x40` + "\n", 35 * time.Minute, []string{"SouqCollectorRejects"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := alertsFiring(t, pr, c.series, c.at)
			want := map[string]bool{}
			for _, w := range c.want {
				want[w] = true
			}
			for a := range got {
				if !want[a] {
					t.Errorf("%s fires, want only %v", a, c.want)
				}
			}
			for a := range want {
				if !got[a] {
					t.Errorf("%s does not fire, want it to", a)
				}
			}
		})
	}
}

// TestRulesUseSouqMetrics checks every metric the rules, the analysis,
// the autoscalers and the dashboards query is one Souq exports (its name
// is in the source under cmd/ or internal/), or a recording rule.
func TestRulesUseSouqMetrics(t *testing.T) {
	exported := map[string]bool{}
	nameRe := regexp.MustCompile(`"(souq_[a-z0-9_]+)"`)
	for _, dir := range []string{"cmd", "internal"} {
		err := filepath.Walk(filepath.Join(repoRoot, dir), func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			b, err := os.ReadFile(p)
			for _, m := range nameRe.FindAllSubmatch(b, -1) {
				exported[string(m[1])] = true
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	base := func(name string) string {
		for _, suf := range []string{"_bucket", "_count", "_sum"} {
			if n, ok := strings.CutSuffix(name, suf); ok && exported[n] {
				return n
			}
		}
		return name
	}
	recorded := map[string]bool{}
	for _, g := range souqRules(t).Spec.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded[r.Record] = true
			}
		}
	}
	var exprs []string
	for _, g := range souqRules(t).Spec.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr.String())
		}
	}
	for _, o := range renderAll(t)["overlays/prod-me-central-1"] {
		v, err := decodeStrict(o)
		if err != nil {
			t.Fatal(err)
		}
		switch x := v.(type) {
		case *rollouts.AnalysisTemplate:
			for _, m := range x.Spec.Metrics {
				if m.Provider.Prometheus != nil {
					exprs = append(exprs, m.Provider.Prometheus.Query)
				}
			}
		case *keda.ScaledObject:
			for _, tr := range x.Spec.Triggers {
				if q := tr.Metadata["query"]; q != "" {
					exprs = append(exprs, q)
				}
			}
		}
	}
	for _, f := range []string{"shop.json", "pipeline.json", "sale-rush.json"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, "deploy/kubernetes/base/dashboards", f))
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Panels []struct {
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				exprs = append(exprs, tg.Expr)
			}
		}
	}
	p := parser.NewParser(parser.Options{})
	checked := 0
	for _, e := range exprs {
		e = strings.ReplaceAll(e, "{{args.service}}", "souq-api-preview")
		expr, err := p.ParseExpr(e)
		if err != nil {
			t.Errorf("%q: %v", e, err)
			continue
		}
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			checked++
			if !exported[base(vs.Name)] && !recorded[vs.Name] {
				t.Errorf("%q queries %s, which Souq does not export", e, vs.Name)
			}
			return nil
		})
	}
	if checked < 30 {
		t.Errorf("checked %d selectors, want every query's", checked)
	}
	if exported["souq_outbox_age_seconds"] {
		t.Log("souq_outbox_age_seconds exists now: SouqOutboxStalled could use it")
	}
}

// TestRunbookLinks checks every alert has a runbook_url whose anchor is a
// heading of docs/deploy.md.
func TestRunbookLinks(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs/deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "#"); ok {
			anchors[slug(strings.TrimLeft(h, "# "))] = true
		}
	}
	const prefix = "https://github.com/souq-commerce/souq/blob/main/docs/deploy.md#"
	n := 0
	for _, g := range souqRules(t).Spec.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			n++
			u := r.Annotations["runbook_url"]
			a, ok := strings.CutPrefix(u, prefix)
			if !ok || !anchors[a] {
				t.Errorf("%s: runbook_url %q is not a heading of docs/deploy.md", r.Alert, u)
			}
		}
	}
	if n == 0 {
		t.Fatal("no alert found")
	}
}

// slug is GitHub's anchor for a heading: lower case, spaces to hyphens,
// punctuation other than hyphens and underscores dropped.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}

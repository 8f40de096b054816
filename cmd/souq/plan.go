package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/plan"
)

const planUsage = `Usage: souq plan --shoppers N --peak-minutes M --from-report load-report.json [flags]

Plans a sale's capacity and cost on EKS from a measured souq load report:
pods per role, nodes (on-demand and spot), the RDS PostgreSQL class, the
ElastiCache Redis nodes, NATS JetStream sizing, the KEDA cron pre-scale
trigger for the sale window (Asia/Dubai), and $/hour and $/sale from the
price table kept in the repository (a price it does not know is printed as
"price unknown", never guessed). The api's throughput per pod is the
report's best --window seconds in which p99 and failures met the objectives,
divided by --report-pods. See docs/plan.md.

Flags:
`

func runPlan(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	in := plan.DefaultInputs()
	var (
		report, format, out, saleStart, pricesPath string
		reportPods, window                         int
		sloP99                                     time.Duration
		sloErrors                                  float64
	)
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.Int64Var(&in.Shoppers, "shoppers", 0, "shoppers (sessions) arriving during the peak (required)")
	fs.Float64Var(&in.PeakMinutes, "peak-minutes", 0, "length of the peak they arrive in, minutes (required)")
	fs.Float64Var(&in.Conversion, "conversion", in.Conversion, "share of sessions that place an order, 0 to 1")
	fs.StringVar(&report, "from-report", "", "the souq load --report `file` (required)")
	fs.IntVar(&reportPods, "report-pods", 1, "api pods (of the api's request size) that served the report")
	fs.IntVar(&window, "window", 10, "consecutive seconds at the objectives the report's throughput is averaged over")
	fs.DurationVar(&sloP99, "slo-p99", 0, "p99 latency a second must meet (default: the report's tightest p99 threshold)")
	fs.Float64Var(&sloErrors, "slo-errors", -1, "share of failed requests a second may have, 0 to 1 (default: the report's errors threshold, else 0.005)")
	fs.StringVar(&in.Region, "region", in.Region, "AWS region of the price table")
	fs.StringVar(&in.InstanceType, "instance-type", in.InstanceType, "EC2 instance type of the nodes")
	fs.Float64Var(&in.SpotShare, "spot-share", in.SpotShare, "share of the pods above each role's floor placed on spot nodes, 0 to 1")
	fs.Float64Var(&in.Headroom, "headroom", in.Headroom, "capacity above the demand, 0.3 for 30%")
	fs.IntVar(&in.MinReplicas, "min-replicas", in.MinReplicas, "each role's floor, on on-demand nodes")
	fs.StringVar(&saleStart, "sale-start", "", "the sale's start, RFC 3339 or `2006-01-02T15:04` in Asia/Dubai (default: no pre-scale window)")
	fs.DurationVar(&in.PrescaleLead, "prescale-lead", in.PrescaleLead, "hold the peak's api replicas from this long before the start")
	fs.DurationVar(&in.Cooldown, "cooldown", in.Cooldown, "and this long after the peak")
	fs.Float64Var(&in.EventsPerSession, "events-per-session", 0, "behaviour events per session (default: one per shopper page step of the report)")
	fs.IntVar(&in.EventBytes, "event-bytes", in.EventBytes, "bytes an event takes in the stream")
	fs.DurationVar(&in.Retention, "retention", in.Retention, "the stream's retention (MaxAge)")
	fs.IntVar(&in.StreamReplicas, "stream-replicas", in.StreamReplicas, "JetStream replicas")
	fs.Float64Var(&in.CollectorEPS, "collector-eps", in.CollectorEPS, "events/s one collector pod takes")
	fs.Float64Var(&in.ProcessorEPS, "processor-eps", in.ProcessorEPS, "events/s one processor pod takes")
	fs.Float64Var(&in.ArchiverEPS, "archiver-eps", in.ArchiverEPS, "events/s the archiver (one at a time) takes")
	fs.Float64Var(&in.RedisEPS, "redis-eps", in.RedisEPS, "events/s one Redis primary takes")
	fs.Float64Var(&in.DBOrdersPerVCPU, "db-orders-per-vcpu", in.DBOrdersPerVCPU, "orders/s PostgreSQL commits per vCPU")
	fs.IntVar(&in.DBPool, "db-pool", in.DBPool, "database connections per api and relay pod")
	fs.Float64Var(&in.DBStorageGB, "db-storage-gb", in.DBStorageGB, "RDS storage, GB")
	fs.Float64Var(&in.RedisMemoryGiB, "redis-memory-gib", in.RedisMemoryGiB, "memory Redis needs, GiB")
	fs.StringVar(&pricesPath, "prices", "", "a price table `file` of the embedded table's format (default: the embedded one)")
	fs.BoolVar(&in.Estimates, "estimates", false, "price what the table does not know for the region with its labelled figures of another region")
	fs.StringVar(&format, "format", "text", "output: text or json")
	fs.StringVar(&out, "o", "", "write the plan to `file` instead of stdout")
	if err := parseFlags(fs, args, getenv, stderr, planUsage); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	var problems []string
	if report == "" {
		problems = append(problems, "--from-report is required")
	}
	if format != "text" && format != "json" {
		problems = append(problems, "--format is text or json")
	}
	if reportPods < 1 || window < 1 || sloP99 < 0 || sloErrors > 1 {
		problems = append(problems, "--report-pods and --window must be positive, --slo-p99 not negative, --slo-errors at most 1")
	}
	if saleStart != "" {
		t, err := parseSaleStart(saleStart)
		if err != nil {
			problems = append(problems, err.Error())
		}
		in.SaleStart = t
	}
	if err := in.Validate(); err != nil {
		problems = append(problems, strings.TrimPrefix(err.Error(), plan.ErrInput.Error()+": "))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", errUsage, strings.Join(problems, "; "))
	}
	prices := plan.DefaultPrices()
	if pricesPath != "" {
		p, err := plan.ReadPrices(pricesPath)
		if err != nil {
			return fmt.Errorf("%w: --prices: %v", errUsage, err)
		}
		prices = p
	}
	rep, err := plan.ReadReport(report)
	if err != nil {
		return fmt.Errorf("%w: --from-report: %v", errUsage, err)
	}
	m, warnings, err := plan.Derive(rep, plan.Options{ReportPods: reportPods, SLOP99: sloP99, SLOErrors: sloErrors, Window: window})
	if err != nil {
		return fmt.Errorf("the load report gives no throughput at the objectives: %w", err)
	}
	pl, err := plan.Compute(in, m, prices, warnings)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	var w io.Writer = stdout
	var f *os.File
	if out != "" {
		if f, err = os.Create(out); err != nil {
			return fmt.Errorf("write the plan: %w", err)
		}
		w = f
	}
	if format == "json" {
		err = pl.WriteJSON(w)
	} else {
		pl.WriteText(w)
	}
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			fmt.Fprintf(stdout, "plan: %s\n", out)
		}
	}
	if format == "json" || out != "" {
		for _, x := range pl.Warnings {
			fmt.Fprintf(stderr, "souq plan: warning: %s\n", x)
		}
	}
	return err
}

// parseSaleStart reads an RFC 3339 time, or a local time in Asia/Dubai.
func parseSaleStart(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	loc, err := time.LoadLocation(plan.SaleZone)
	if err != nil {
		loc = time.FixedZone("+04", 4*3600)
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", s, loc)
	if err != nil {
		return t, fmt.Errorf("--sale-start %q: write 2026-12-12T20:00 (Asia/Dubai) or an RFC 3339 time", s)
	}
	return t, nil
}

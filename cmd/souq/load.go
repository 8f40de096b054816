package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/souq-commerce/souq/internal/loadgen"
)

const loadUsage = `Usage: souq load --url URL [flags]

Rehearses a sale's rush: simulated Gulf shoppers (browse, search, product
pages, carts, checkout, behaviour events) arrive on a schedule whatever the
shop does, and the run reports per-step latency percentiles (HDR), status
counts and sessions not started. It sends requests to --url only, stops at
the end of the profile or on Ctrl+C (with a partial report), and exits 1
when a --slo threshold is not met or, with --admin-token, when the audit
after the run finds an order lost or doubled, or stock oversold. With
--metrics-addr it serves its figures so far at /metrics while it runs, for
Prometheus to scrape beside the shop's.

Flags:
`

type loadConfig struct {
	target      string
	profile     string
	rate        float64
	duration    time.Duration
	users       int
	workers     int
	seed        uint64
	writeKey    string
	cashOnly    bool
	thinkMin    time.Duration
	thinkMax    time.Duration
	timeout     time.Duration
	slo         string
	reportPath  string
	htmlPath    string
	adminToken  string
	metricsAddr string
}

func parseLoad(args []string, getenv func(string) string, stderr io.Writer) (loadConfig, []loadgen.Threshold, error) {
	var c loadConfig
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.StringVar(&c.target, "url", "", "the shop's base `URL`, e.g. http://127.0.0.1:8080 (required; nothing else is ever sent to)")
	fs.StringVar(&c.profile, "profile", loadgen.ProfileSteady, "arrival `profile`: "+strings.Join(loadgen.ProfileNames, ", ")+", or a JSON file of stages ({\"stages\": [{\"duration\": \"30s\", \"from\": 0, \"to\": 500}]})")
	fs.Float64Var(&c.rate, "arrival-rate", 10, "sessions starting per second at the profile's peak")
	fs.DurationVar(&c.duration, "duration", time.Minute, "length of a named profile")
	fs.IntVar(&c.users, "users", 10000, "most sessions in progress at once; arrivals beyond are counted as not started")
	fs.IntVar(&c.workers, "workers", loadgen.DefaultWorkers, "most steps played at once, and so requests in flight; a step that waits for a worker counts the wait in its latency")
	fs.Uint64Var(&c.seed, "seed", 0, "seed of the arrivals and the shoppers' choices (0: a random one, printed)")
	fs.StringVar(&c.writeKey, "write-key", "", "the collector's write `key`: sessions send their behaviour events (default: API traffic only)")
	fs.BoolVar(&c.cashOnly, "cash-only", false, "every shopper pays cash on delivery (for a shop without the test payment provider)")
	fs.DurationVar(&c.thinkMin, "think-min", 500*time.Millisecond, "shortest pause before a step of a session")
	fs.DurationVar(&c.thinkMax, "think-max", 3*time.Second, "longest pause before a step of a session")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "longest wait for one request")
	fs.StringVar(&c.slo, "slo", "", "thresholds deciding the exit code, comma-separated: `checkout.p99<200ms,errors<0.5%`")
	fs.StringVar(&c.reportPath, "report", "", "write the JSON report to `file`")
	fs.StringVar(&c.htmlPath, "html", "", "write the report as a self-contained HTML page with charts to `file` (opens from disk)")
	fs.StringVar(&c.adminToken, "admin-token", "", "the shop's admin `token`: after the run, audit it (orders answered 201 = orders created, no key with two orders, no stock below zero, no product oversold); set it through the environment")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "serve the run's figures so far as Prometheus metrics (OpenMetrics) at http://`ADDR`/metrics while it runs, e.g. 127.0.0.1:9465 (default: none)")
	if err := parseFlags(fs, args, getenv, stderr, loadUsage); err != nil {
		return c, nil, err
	}
	var problems []string
	if u, err := url.Parse(c.target); c.target == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems = append(problems, "--url must be the shop's http:// or https:// base URL")
	}
	if c.rate <= 0 || c.duration <= 0 || c.users < 1 || c.workers < 1 {
		problems = append(problems, "--arrival-rate, --duration, --users and --workers must be positive")
	}
	if c.thinkMin < 0 || c.thinkMax < c.thinkMin || c.timeout <= 0 {
		problems = append(problems, "--think-min must be at most --think-max, and --timeout positive")
	}
	if c.metricsAddr != "" {
		if p := addrProblem("--metrics-addr", c.metricsAddr, "127.0.0.1:9465"); p != "" {
			problems = append(problems, p)
		}
	}
	slo, err := loadgen.ParseThresholds(c.slo)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return c, nil, fmt.Errorf("%w: %s", errUsage, strings.Join(problems, "; "))
	}
	if c.seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		c.seed = binary.LittleEndian.Uint64(b[:]) | 1
	}
	return c, slo, nil
}

// errSLO is a run that did not meet its --slo thresholds.
var errSLO = errors.New("service-level objectives not met")

func runLoad(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, slo, err := parseLoad(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	var metrics prometheus.Registerer // nil: no metrics
	if c.metricsAddr != "" {
		reg := prometheus.NewRegistry()
		stop, err := serveMetrics(c.metricsAddr, reg, stderr)
		if err != nil {
			return err
		}
		defer stop() // after the report is written, whatever the outcome
		metrics = reg
	}
	base := strings.TrimSuffix(c.target, "/")
	profile, err := loadProfile(ctx, c, base)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "souq load: %s, profile %s (%s, peak %.1f sessions/s, about %.0f sessions), at most %d in progress, seed %d\n",
		base, profile.Name, profile.Duration(), profile.Peak(), profile.Expected(), c.users, c.seed)
	rep, err := loadgen.Run(ctx, loadgen.Config{
		BaseURL: base, WriteKey: c.writeKey, Profile: profile, Users: c.users, Workers: c.workers, Seed: c.seed, CashOnly: c.cashOnly,
		ThinkMin: c.thinkMin, ThinkMax: c.thinkMax, RequestTimeout: c.timeout, AdminToken: c.adminToken,
		Progress: progressLine(stdout), Registry: metrics,
	})
	if err != nil {
		return err
	}
	rep.SLO = loadgen.Judge(slo, rep)
	fmt.Fprintln(stdout)
	rep.WriteText(stdout)
	if c.reportPath != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(c.reportPath, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write the report: %w", err)
		}
		fmt.Fprintf(stdout, "report: %s\n", c.reportPath)
	}
	if c.htmlPath != "" {
		var b strings.Builder
		if err := rep.WriteHTML(&b); err != nil {
			return fmt.Errorf("render the HTML report: %w", err)
		}
		if err := os.WriteFile(c.htmlPath, []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("write the HTML report: %w", err)
		}
		fmt.Fprintf(stdout, "html report: %s\n", c.htmlPath)
	}
	if a := rep.Audit; a != nil && a.Problems() > 0 {
		return errAudit
	}
	if !rep.Met() {
		return errSLO
	}
	return nil
}

// metricsShutdownTimeout bounds the wait for scrapes in progress when
// `souq load` ends.
const metricsShutdownTimeout = 5 * time.Second

// serveMetrics serves reg, with the generator's own Go runtime and process
// metrics, at http://addr/metrics, OpenMetrics when the scraper asks for
// it, and prints the URL to stderr. It returns once it listens; stop shuts
// the server down, waiting for scrapes in progress, and returns once its
// goroutine has ended. An address it cannot listen on is a usage error.
func serveMetrics(addr string, reg *prometheus.Registry, stderr io.Writer) (stop func(), err error) {
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: --metrics-addr: %v", errUsage, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stderr, "souq load: metrics at http://%s/metrics\n", ln.Addr())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), metricsShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			fmt.Fprintf(stderr, "souq load: stop serving metrics: %v\n", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(stderr, "souq load: serve metrics: %v\n", err)
		}
	}, nil
}

// errAudit is a run after which the shop's orders or stock were wrong.
var errAudit = errors.New("the audit after the run found differences")

// loadProfile is the named profile, or the file's. sale-start reads when
// the sale starts from the shop.
func loadProfile(ctx context.Context, c loadConfig, base string) (loadgen.Profile, error) {
	if strings.HasSuffix(c.profile, ".json") || strings.ContainsRune(c.profile, os.PathSeparator) {
		p, err := loadgen.ReadProfile(c.profile)
		if err != nil {
			return p, fmt.Errorf("%w: --profile: %v", errUsage, err)
		}
		return p, nil
	}
	var saleIn time.Duration
	if c.profile == loadgen.ProfileSaleStart {
		start, err := saleStart(ctx, base)
		if err != nil {
			return loadgen.Profile{}, fmt.Errorf("--profile sale-start: %w", err)
		}
		saleIn = time.Until(start)
	}
	p, err := loadgen.Named(c.profile, c.rate, c.duration, saleIn)
	if err != nil {
		return p, fmt.Errorf("%w: --profile: %v", errUsage, err)
	}
	return p, nil
}

// saleStart reads the running or next sale's start from the shop.
func saleStart(ctx context.Context, base string) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/sales/current", nil)
	if err != nil {
		return time.Time{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("GET /api/v1/sales/current answered %s: the shop has no sale running or scheduled", resp.Status)
	}
	var sale struct {
		StartsAt time.Time `json:"starts_at"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&sale); err != nil {
		return time.Time{}, fmt.Errorf("read the current sale: %w", err)
	}
	return sale.StartsAt, nil
}

// progressLine prints the run's figures every second: rewriting one line
// on a terminal, a plain line every 10 seconds otherwise.
func progressLine(w io.Writer) func(loadgen.Snapshot) {
	terminal := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			terminal = true
		}
	}
	var last time.Duration = -time.Hour
	return func(s loadgen.Snapshot) {
		line := fmt.Sprintf("%s/%s  rate %.1f/s  arrived %d (not started %d)  in progress %d  requests %d  failed %d  orders %d  checkout p99 %s",
			s.Elapsed.Round(time.Second), s.Length, s.Rate, s.Arrived, s.NotStarted, s.Active, s.Requests, s.Failures, s.Orders, s.CheckoutP99)
		switch {
		case terminal:
			fmt.Fprintf(w, "\r\033[K%s", line)
		case s.Elapsed-last >= 10*time.Second:
			last = s.Elapsed
			fmt.Fprintln(w, line)
		}
	}
}

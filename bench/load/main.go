// Command load compares `souq load`, the project's load generator, with
// Locust and wrk on the same machine: what each costs the machine it runs
// on, and what rate it reaches.
//
// Sessions, against Locust. souq load plays -rate shopper sessions a
// second (steady profile, --cash-only, think times -think-min to
// -think-max, no behaviour events); bench/load/locustfile.py plays the
// same visit (internal/shopper/session.go, step for step: a listing or a
// search, product pages, sometimes a cart, items and the cart's view,
// sometimes a cash-on-delivery order with an Idempotency-Key, the same
// probabilities and think times) in one Locust process, headless. Locust
// is a closed model: it gets as many users as souq load had sessions in
// progress (Little's law: the same session rate when the shop keeps up),
// read from souq load's progress lines or set with -locust-users, spawned
// at -rate a second. Each generator runs for -duration against its own
// fresh `souq serve --demo --shoppers 0`, so that none inherits another's
// orders, stock or nearer flash sale; souq load is stopped with SIGINT at
// -duration (its sessions in progress cancelled), Locust by its -t (its
// users stopped at once). -locust chooses Locust's clients: fast
// (FastHttpUser, geventhttpclient) and requests (HttpUser, its default).
//
// Every generator is a child process of this one and measured from
// outside the same way: its CPU time (user + system) over its whole life
// from its rusage, and over a steady window, from -warmup to -duration
// after its start, from /proc/PID/stat. Requests are counted by the
// generator and by the shop (its souq_http_request_duration_seconds), the
// same observer for all. For each: the requests it completed, its errors,
// its request rate (the window's), its CPU seconds, its requests per
// CPU-second over the whole run and over the window (the shop's count
// over the generator's CPU time), its peak resident memory, the request
// mix by step, and the CPU the shop and every other process used in the
// window (/proc/stat; the machine may be shared); then souq load's
// requests per CPU-second over each Locust's (the goal: at least 10×),
// and whether each kept up.
//
// A single GET, against wrk. souq load plays sessions only, so the
// comparison is with a client in this program (run as `load get-client`,
// a child process too): an open loop at a fixed rate with
// internal/loadgen's default transport settings, its latency recorded in
// an HDR histogram as loadgen records it, at most -connections requests
// in flight. wrk (-wrk-threads threads, -connections connections) asks
// for one cheap page of the API (-get-path, by default a product's) as
// fast as it can for -get-duration, after a 2 s warm-up; the client is
// then offered wrk's rate (or -get-rate) for as long. Reported: requests/s
// of each and the ratio (the goal: at least 0.5×), with errors, p50, p99,
// CPU seconds and requests per CPU-second. The shop shares the machine
// with the generator, so a generator's CPU is the shop's loss.
//
// It needs locust (Debian: python3-locust) and wrk on PATH; run as root,
// it installs them with apt-get when they are missing. Run from the
// repository root:
//
//	go run ./bench/load [-rate 200] [-duration 30s] [-locust fast,requests] …
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/souq-commerce/souq/bench/internal/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	rate               float64
	duration, warmup   time.Duration
	thinkMin, thinkMax time.Duration
	seed               uint64
	locust             []string // keys of locustClasses, in order
	locustUsers        int      // 0: souq load's sessions in progress
	locustfile         string
	getPath            string
	getDuration        time.Duration
	getRate            float64 // 0: wrk's
	connections        int
	wrkThreads         int
}

func parse(args []string) (config, error) {
	var c config
	var locust string
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.Float64Var(&c.rate, "rate", 200, "sessions starting per second (souq load's arrival rate; Locust's spawn rate)")
	fs.DurationVar(&c.duration, "duration", 30*time.Second, "how long each session generator runs")
	fs.DurationVar(&c.warmup, "warmup", 10*time.Second, "start of the steady window, after a generator's start (the window ends at -duration)")
	fs.DurationVar(&c.thinkMin, "think-min", 500*time.Millisecond, "shortest pause before a session's step")
	fs.DurationVar(&c.thinkMax, "think-max", 3*time.Second, "longest pause before a session's step")
	fs.Uint64Var(&c.seed, "seed", 1, "souq load's seed")
	fs.StringVar(&locust, "locust", "fast,requests", "Locust's HTTP clients to measure, comma-separated: fast (FastHttpUser), requests (HttpUser); empty: none")
	fs.IntVar(&c.locustUsers, "locust-users", 0, "Locust's users (0: as many as souq load had sessions in progress)")
	fs.StringVar(&c.locustfile, "locustfile", "bench/load/locustfile.py", "the `file` of Locust's shopper")
	fs.StringVar(&c.getPath, "get-path", "", "the single GET's `path` (default: a product of the demo catalogue, /api/v1/products/{id}?market=AE)")
	fs.DurationVar(&c.getDuration, "get-duration", 10*time.Second, "how long each single-GET generator runs")
	fs.Float64Var(&c.getRate, "get-rate", 0, "requests per second offered by the single-GET client (0: the rate wrk reached)")
	fs.IntVar(&c.connections, "connections", 64, "single GET: wrk's connections, and the most requests the client has in flight")
	fs.IntVar(&c.wrkThreads, "wrk-threads", 2, "wrk's threads")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	for s := range strings.SplitSeq(locust, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if _, ok := locustClasses[s]; !ok {
			return c, fmt.Errorf("-locust %q: want fast, requests or both", locust)
		}
		if !slices.Contains(c.locust, s) {
			c.locust = append(c.locust, s)
		}
	}
	switch {
	case c.rate <= 0 || c.duration <= 0 || c.getDuration <= 0:
		return c, errors.New("-rate, -duration and -get-duration must be positive")
	case c.warmup < 0 || c.warmup >= c.duration:
		return c, errors.New("-warmup must be at least 0 and less than -duration")
	case c.thinkMin < 0 || c.thinkMax < c.thinkMin:
		return c, errors.New("-think-min must be at most -think-max")
	case c.locustUsers < 0 || c.getRate < 0:
		return c, errors.New("-locust-users and -get-rate must not be negative")
	case c.connections < 1 || c.wrkThreads < 1 || c.wrkThreads > c.connections:
		return c, errors.New("-connections and -wrk-threads must be positive, -wrk-threads at most -connections")
	}
	return c, nil
}

// bench is one run: its settings, the souq binary and what was measured.
type bench struct {
	c      config
	dir    string // temporary: the binary, the shops' data, the reports
	bin    string // souq
	self   string // this program, for the single-GET client
	client *http.Client
	out    io.Writer
	sum    summary
	shops  int // numbers the shops' data directories
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == getClientCommand {
		return runGetClient(ctx, args[1:], stdout)
	}
	c, err := parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(c.locust) > 0 {
		if c.locustfile, err = locustfilePath(c.locustfile); err != nil {
			return err
		}
		if err := ensureTool("locust", "python3-locust", stdout); err != nil {
			return err
		}
	}
	if err := ensureTool("wrk", "wrk", stdout); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "souq-bench-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := server.Build(dir)
	if err != nil {
		return err
	}
	b := &bench{c: c, dir: dir, bin: bin, self: self, out: stdout,
		client: &http.Client{Timeout: 30 * time.Second}}
	b.sum = summary{c: c, machine: fmt.Sprintf("%d CPUs, %s/%s", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)}
	fmt.Fprintf(stdout, "load generator benchmark: %s; each generator against its own fresh `souq serve --demo --shoppers 0` (SQLite) on this machine\n", b.sum.machine)
	fmt.Fprintf(stdout, "sessions: %.0f/s, think %s to %s, %s per generator, steady window %s to %s after its start\n",
		c.rate, c.thinkMin, c.thinkMax, c.duration, c.warmup, c.duration)

	souq := b.souqLoad(ctx)
	b.sum.sessions = append(b.sum.sessions, souq)
	users := c.locustUsers
	if users == 0 {
		users = int(math.Round(souq.inProgress))
	}
	b.sum.locustUsers = users
	for _, l := range c.locust {
		if ctx.Err() != nil {
			break
		}
		if users < 1 {
			b.sum.sessions = append(b.sum.sessions, &genRun{name: locustClasses[l].label,
				err: errors.New("no user count: souq load showed no sessions in progress (set -locust-users)")})
			continue
		}
		b.sum.sessions = append(b.sum.sessions, b.locustRun(ctx, l, users))
	}
	if ctx.Err() == nil {
		b.singleGet(ctx)
	}
	b.sum.print(stdout)
	if ctx.Err() != nil {
		return errors.New("interrupted: the figures above are partial")
	}
	if n := b.sum.failures(); n > 0 {
		return fmt.Errorf("%d measurements failed (FAIL above)", n)
	}
	return nil
}

// startShop starts a fresh `souq serve --demo --shoppers 0`.
func (b *bench) startShop(ctx context.Context) (base string, stop func(), err error) {
	b.shops++
	return server.StartOn(ctx, b.bin, fmt.Sprintf("%s/data-%d", b.dir, b.shops), "--demo", "--shoppers", "0", "--log-level", "error")
}

// generate measures one session generator against a fresh shop: it
// starts the process with start, samples its CPU time and the shop's
// counters at -warmup and -duration after its start, then calls end
// (which stops it, or not if it stops itself), waits for it and fills
// r's usage, window and the shop's whole count. It returns the process,
// whose output the caller reads, even on an error after it started.
func (b *bench) generate(ctx context.Context, r *genRun, start func(base string) (*proc, error), end func(*proc)) (*proc, error) {
	base, stop, err := b.startShop(ctx)
	if err != nil {
		return nil, err
	}
	defer stop()
	before, err := countShop(ctx, b.client, base)
	if err != nil {
		return nil, err
	}
	p, err := start(base)
	if err != nil {
		return nil, err
	}
	var first, last sample
	var sampleErr error
	if sleepUntil(ctx, p.started.Add(b.c.warmup)) {
		first, sampleErr = takeSample(ctx, p, b.client, base)
	}
	if sampleErr == nil && sleepUntil(ctx, p.started.Add(b.c.duration)) {
		last, sampleErr = takeSample(ctx, p, b.client, base)
	}
	end(p)
	var exitErr error
	r.use, exitErr = p.wait(ctx, 2*time.Minute)
	if err := errors.Join(sampleErr, ctx.Err()); err != nil {
		return p, errors.Join(err, exitErr)
	}
	r.win = between(first, last)
	after, err := countShop(ctx, b.client, base)
	if err != nil {
		return p, errors.Join(err, exitErr)
	}
	r.shop = after.minus(before)
	return p, exitErr // the figures are in: the caller decides what an exit status means
}

// souqLoad measures souq load.
func (b *bench) souqLoad(ctx context.Context) *genRun {
	c := b.c
	r := &genRun{name: "souq load"}
	fmt.Fprintf(b.out, "\nsouq load: %.0f sessions/s for %s …\n", c.rate, c.duration)
	report := fmt.Sprintf("%s/souq-load.json", b.dir)
	p, err := b.generate(ctx, r, func(base string) (*proc, error) {
		return startProc(b.bin, []string{"load", "--url", base, "--profile", "steady",
			"--arrival-rate", fmt.Sprint(c.rate), "--duration", (c.duration + time.Minute).String(), // stopped at -duration
			"--cash-only", "--think-min", c.thinkMin.String(), "--think-max", c.thinkMax.String(),
			"--seed", fmt.Sprint(c.seed), "--report", report}, nil)
	}, func(p *proc) { p.signal(os.Interrupt) })
	if err != nil {
		r.err = withOutput(err, p)
		return r
	}
	rep, err := readLoadReport(report)
	if err != nil {
		r.err = withOutput(err, p)
		return r
	}
	r.requests, r.errors = rep.All.Requests, rep.errors()
	r.steps = map[string]int64{}
	for _, st := range rep.Steps {
		r.steps[st.Step] = st.Requests
	}
	r.inProgress = meanInProgress(p.out.String(), c.warmup)
	r.detail = fmt.Sprintf("%d sessions started, %d not started, start lag p99 %.1f ms, %.0f sessions in progress (mean from %s)",
		rep.Sessions.Started, rep.Sessions.NotStarted, rep.StartLag.P99, r.inProgress, c.warmup)
	if rep.Sessions.NotStarted > 0 || rep.StartLag.P99 > 100 {
		r.behind = fmt.Sprintf("souq load fell behind its arrivals: %d sessions not started, start lag p99 %.0f ms",
			rep.Sessions.NotStarted, rep.StartLag.P99)
	}
	fmt.Fprintf(b.out, "souq load: %d requests, %d errors, %.2f CPU s; %s\n", r.requests, r.errors, r.use.cpu().Seconds(), r.detail)
	return r
}

// locustRun measures Locust with the client named l.
func (b *bench) locustRun(ctx context.Context, l string, users int) *genRun {
	c := b.c
	lc := locustClasses[l]
	r := &genRun{name: lc.label}
	fmt.Fprintf(b.out, "\n%s: %d users spawned at %.0f/s for %s …\n", lc.label, users, c.rate, c.duration)
	prefix := fmt.Sprintf("%s/locust-%s", b.dir, l)
	p, err := b.generate(ctx, r, func(base string) (*proc, error) {
		return startProc("locust", []string{"-f", c.locustfile, "--headless", "-u", fmt.Sprint(users), "-r", fmt.Sprint(c.rate),
			"-t", secondsArg(c.duration), "--host", base, "--csv", prefix, "--only-summary", lc.class},
			[]string{"SOUQ_THINK_MIN=" + fmt.Sprint(c.thinkMin.Seconds()), "SOUQ_THINK_MAX=" + fmt.Sprint(c.thinkMax.Seconds()), "SOUQ_TIMEOUT=10",
				"PYTHONDONTWRITEBYTECODE=1"}) // no __pycache__ beside the locustfile
	}, func(*proc) {})
	if err != nil && !exitedWith(err, 1) { // 1: some requests failed, counted below
		r.err = withOutput(err, p)
		return r
	}
	st, err := readLocustStats(prefix)
	if err != nil {
		r.err = withOutput(err, p)
		return r
	}
	r.requests, r.errors, r.steps = st.requests, st.failures, st.steps
	r.cpuWarning = strings.Contains(p.out.String(), locustCPUWarning)
	fmt.Fprintf(b.out, "%s: %d requests, %d errors, %.2f CPU s\n", lc.label, r.requests, r.errors, r.use.cpu().Seconds())
	return r
}

// withOutput adds the end of p's output to err, when there is one.
func withOutput(err error, p *proc) error {
	if p == nil {
		return err
	}
	if out := strings.TrimSpace(p.out.String()); out != "" {
		return fmt.Errorf("%w; its output ended:\n%s", err, tail(out, 15))
	}
	return err
}

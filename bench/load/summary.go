package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// genRun is one session generator's figures.
type genRun struct {
	name     string
	requests int64 // completed, by the generator's own count
	errors   int64 // failed, or answered outside 2xx except 409
	shop     shopCount
	use      usage  // its whole process
	win      window // its steady window
	// inProgress is souq load's mean sessions in progress in the window:
	// Locust's users.
	inProgress float64
	steps      map[string]int64 // requests by souq load's step
	cpuWarning bool             // Locust logged that its CPU was above 90%
	behind     string           // how souq load fell behind, if it did
	detail     string           // souq load's sessions, for the summary
	err        error
}

// getRun is one single-GET generator's figures.
type getRun struct {
	name     string
	offered  float64 // requests per second offered; 0 for wrk
	requests int64
	errors   int64
	notSent  int64
	perSec   float64
	p50, p99 string
	use      usage
	win      window // from before it started to after it ended
	err      error
}

// summary is what a run measured, and where.
type summary struct {
	c           config
	machine     string
	locustUsers int
	sessions    []*genRun
	getPath     string
	getErr      error // the single-GET phase failed before its generators ran
	gets        []*getRun
}

// failures counts the failed measurements.
func (s *summary) failures() int {
	n := 0
	for _, r := range s.sessions {
		if r.err != nil {
			n++
		}
	}
	for _, g := range s.gets {
		if g.err != nil {
			n++
		}
	}
	if s.getErr != nil {
		n++
	}
	return n
}

func (s *summary) print(w io.Writer) {
	c := s.c
	fmt.Fprintf(w, "\nsummary: %s; Locust in one process\n", s.machine)
	fmt.Fprintf(w, "sessions: souq load at %.0f sessions/s; Locust with %d users spawned at %.0f/s; think %s to %s; %s each, steady window %s to %s\n\n",
		c.rate, s.locustUsers, c.rate, c.thinkMin, c.thinkMax, c.duration, c.warmup, c.duration)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "generator\trequests\tshop counted\terrors\treq/s\tCPU s\treq/CPU-s\twindow CPU\twindow req/CPU-s\tpeak RSS\t")
	var fails []string
	for _, r := range s.sessions {
		if r.err != nil {
			fmt.Fprintf(tw, "%s\tFAIL\t\t\t\t\t\t\t\t\t\n", r.name)
			fails = append(fails, fmt.Sprintf("%s: %v", r.name, r.err))
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%d\t%.0f\t%.2f\t%.0f\t%.0f%%\t%.0f\t%.0f MiB\t\n",
			r.name, r.requests, r.shop.requests, r.errors, r.win.perSec(), r.use.cpu().Seconds(), perCPU(r.shop.requests, r.use.cpu()),
			100*r.win.cpu.Seconds()/r.win.length.Seconds(), perCPU(r.win.shop.requests, r.win.cpu), float64(r.use.maxRSS)/(1<<20))
	}
	tw.Flush()
	fmt.Fprintln(w, "requests: completed, by the generator's own count; shop counted: what the shop answered from the generator's start to its end; req/s: in the steady window, counted by the shop;")
	fmt.Fprintln(w, "CPU s: the generator's whole process (rusage, start-up included); req/CPU-s: shop counted over CPU s; window CPU: the generator's share of one core in the window; window req/CPU-s: the shop's count over the generator's CPU time, both in the window")

	fmt.Fprintf(w, "\nsteady window, CPU used as a share of one core (the machine has %d):\n\n", runtime.NumCPU())
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "generator\tgenerator\tshop\tother processes\tmachine busy\tshop ms CPU/request\t")
	for _, r := range s.sessions {
		if r.err != nil || r.win.length <= 0 {
			continue
		}
		share := func(d time.Duration) string { return fmt.Sprintf("%.0f%%", 100*d.Seconds()/r.win.length.Seconds()) }
		shopCPU := time.Duration(r.win.shop.cpu * float64(time.Second))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.2f\t\n", r.name, share(r.win.cpu), share(shopCPU), share(r.win.others()), share(r.win.machine),
			1000*r.win.shop.cpu/max(1, r.win.shop.requests))
	}
	tw.Flush()

	s.printMix(w)

	souq := s.sessions[0]
	fmt.Fprintln(w)
	if souq.err == nil {
		fmt.Fprintf(w, "souq load: %s\n", souq.detail)
		if souq.behind != "" {
			fmt.Fprintln(w, souq.behind)
		}
	}
	for _, r := range s.sessions[1:] {
		if r.err != nil || souq.err != nil {
			continue
		}
		whole := perCPU(souq.shop.requests, souq.use.cpu()) / perCPU(r.shop.requests, r.use.cpu())
		win := perCPU(souq.win.shop.requests, souq.win.cpu) / perCPU(r.win.shop.requests, r.win.cpu)
		fmt.Fprintf(w, "souq load / %s, requests per CPU-second: %.1f× over the whole run, %.1f× in the steady window (goal ≥ 10×: %s)\n",
			r.name, whole, win, metOrMissed(min(whole, win) >= 10))
		keep := r.win.perSec() / souq.win.perSec()
		kept := "kept up"
		if keep < 0.9 {
			kept = "did not keep up"
		}
		// At its cost per request, the share of a core it needs for souq
		// load's rate: above 100%, one Locust process cannot.
		need := souq.win.perSec() / perCPU(r.win.shop.requests, r.win.cpu)
		fmt.Fprintf(w, "  %s %s: %.0f requests/s against souq load's %.0f (%.0f%%); its process at %.0f%% of one core, and %.0f%% needed for souq load's rate%s\n",
			r.name, kept, r.win.perSec(), souq.win.perSec(), 100*keep, 100*r.win.cpu.Seconds()/r.win.length.Seconds(), 100*need, warned(r))
	}

	fmt.Fprintf(w, "\nsingle GET %s, %d connections / requests in flight, %s each:\n\n", s.getPath, c.connections, c.getDuration)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "generator\toffered/s\trequests\terrors\treq/s\tp50\tp99\tCPU s\treq/CPU-s\tpeak RSS\tgenerator\tshop\tothers\t")
	for _, g := range s.gets {
		if g.err != nil {
			fmt.Fprintf(tw, "%s\tFAIL\t\t\t\t\t\t\t\t\t\t\t\t\n", g.name)
			fails = append(fails, fmt.Sprintf("%s: %v", g.name, g.err))
			continue
		}
		offered := "as fast as it can"
		if g.offered > 0 {
			offered = fmt.Sprintf("%.0f", g.offered)
		}
		share := func(d time.Duration) string { return fmt.Sprintf("%.0f%%", 100*d.Seconds()/g.win.length.Seconds()) }
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.0f\t%s\t%s\t%.2f\t%.0f\t%.0f MiB\t%s\t%s\t%s\t\n", g.name, offered, g.requests, g.errors, g.perSec,
			g.p50, g.p99, g.use.cpu().Seconds(), perCPU(float64(g.requests), g.use.cpu()), float64(g.use.maxRSS)/(1<<20),
			share(g.win.cpu), share(time.Duration(g.win.shop.cpu*float64(time.Second))), share(g.win.others()))
	}
	tw.Flush()
	fmt.Fprintln(w, "generator, shop, others: CPU used during the run as a share of one core (others: this program and whatever else runs on the machine)")
	if s.getErr != nil {
		fails = append(fails, fmt.Sprintf("single GET: %v", s.getErr))
	}
	if len(s.gets) == 2 && s.gets[0].err == nil && s.gets[1].err == nil && s.gets[0].perSec > 0 {
		g, wrk := s.gets[1], s.gets[0]
		fmt.Fprintf(w, "open-loop client / wrk, requests/s: %.2f× (goal ≥ 0.5×: %s)", g.perSec/wrk.perSec, metOrMissed(g.perSec/wrk.perSec >= 0.5))
		if g.notSent > 0 {
			fmt.Fprintf(w, "; the client fell behind its schedule: %d requests due were not sent", g.notSent)
		}
		fmt.Fprintln(w)
	}
	if len(fails) > 0 {
		fmt.Fprintln(w, "\nfailed:")
		for _, f := range fails {
			fmt.Fprintln(w, "  "+strings.ReplaceAll(f, "\n", "\n    "))
		}
	}
}

// perSec is the rate of requests the shop answered in the window.
func (w window) perSec() float64 {
	if w.length <= 0 {
		return 0
	}
	return w.shop.requests / w.length.Seconds()
}

func metOrMissed(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

func warned(r *genRun) string {
	if r.cpuWarning {
		return "; Locust warned that its CPU usage was above 90%"
	}
	return ""
}

// mixSteps are souq load's steps, in its report's order.
var mixSteps = []string{"browse", "search", "product", "sale", "cart.create", "cart.add", "cart.view", "checkout"}

// printMix prints each session generator's requests by step, as shares of
// its requests: the scenarios should match.
func (s *summary) printMix(w io.Writer) {
	var runs []*genRun
	for _, r := range s.sessions {
		if r.err == nil && r.requests > 0 {
			runs = append(runs, r)
		}
	}
	if len(runs) == 0 {
		return
	}
	fmt.Fprintln(w, "\nrequest mix (share of each generator's requests by step):")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "step\t"
	for _, r := range runs {
		head += r.name + "\t"
	}
	fmt.Fprintln(tw, head)
	for _, step := range mixSteps {
		line := step + "\t"
		for _, r := range runs {
			line += fmt.Sprintf("%.1f%%\t", 100*float64(r.steps[step])/float64(r.requests))
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
}

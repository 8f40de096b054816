package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// ensureTool makes sure bin is on PATH: when it is not and this process
// runs as root, it installs the Debian package pkg with apt-get (running
// apt-get update first if the package is unknown); otherwise it says how
// to install it.
func ensureTool(bin, pkg string, out io.Writer) error {
	if _, err := exec.LookPath(bin); err == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%s is not on PATH: install it (Debian or Ubuntu: sudo apt-get install -y %s) and run again, or run as root to have it installed", bin, pkg)
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("%s is not on PATH and there is no apt-get to install %s with: install it and run again", bin, pkg)
	}
	install := func() error {
		fmt.Fprintf(out, "%s is not on PATH: apt-get install -y %s\n", bin, pkg)
		cmd := exec.Command("apt-get", "install", "-y", pkg)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd.Run()
	}
	if err := install(); err != nil {
		fmt.Fprintln(out, "apt-get update, then again")
		update := exec.Command("apt-get", "update")
		update.Stdout, update.Stderr = os.Stderr, os.Stderr
		if err := errors.Join(update.Run(), install()); err != nil {
			return fmt.Errorf("install %s: %w", pkg, err)
		}
	}
	if _, err := exec.LookPath(bin); err != nil {
		return fmt.Errorf("installed %s but %s is still not on PATH", pkg, bin)
	}
	return nil
}

// loadReport is what bench/load reads of `souq load --report`.
type loadReport struct {
	Interrupted bool `json:"interrupted"`
	Sessions    struct {
		Started    int64 `json:"started"`
		NotStarted int64 `json:"not_started"`
	} `json:"sessions"`
	Steps []struct {
		Step     string `json:"step"`
		Requests int64  `json:"requests"`
	} `json:"steps"`
	All struct {
		Requests int64            `json:"requests"`
		Failed   int64            `json:"failed"`
		Statuses map[string]int64 `json:"statuses"`
	} `json:"all"`
	StartLag struct {
		P99 float64 `json:"p99_ms"`
	} `json:"start_lag"`
}

// errors counts the requests that did not succeed: failed (no answer, a
// timeout or a 5xx) and any other answer outside 2xx except 409, which
// souq load and the locustfile both count as an answer (out of stock).
func (r loadReport) errors() int64 {
	n := r.All.Failed
	for s, c := range r.All.Statuses {
		if code, err := strconv.Atoi(s); err == nil && code >= 300 && code < 500 && code != 409 {
			n += c
		}
	}
	return n
}

func readLoadReport(path string) (loadReport, error) {
	var r loadReport
	b, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("souq load wrote no report: %w", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("souq load's report: %w", err)
	}
	return r, nil
}

// progressLine matches souq load's progress line, written every 10 s
// into a pipe: its elapsed time and sessions in progress.
var progressLine = regexp.MustCompile(`(?m)^(\d+)s/\S+\s+rate .* in progress (\d+) `)

// meanInProgress returns the mean of the sessions in progress that souq
// load's progress lines show from the time from on (the last line's if
// none is that late), or 0 when there is none.
func meanInProgress(out string, from time.Duration) float64 {
	var sum, n, last float64
	for _, m := range progressLine.FindAllStringSubmatch(out, -1) {
		secs, _ := strconv.Atoi(m[1])
		v, _ := strconv.ParseFloat(m[2], 64)
		last = v
		if time.Duration(secs)*time.Second >= from {
			sum, n = sum+v, n+1
		}
	}
	if n == 0 {
		return last
	}
	return sum / n
}

// locustStats is the "Aggregated" row of Locust's --csv stats file, and
// the requests of each of its rows (named by souq load's steps).
type locustStats struct {
	requests, failures int64
	steps              map[string]int64
}

func readLocustStats(prefix string) (locustStats, error) {
	f, err := os.Open(prefix + "_stats.csv")
	if err != nil {
		return locustStats{}, fmt.Errorf("Locust wrote no statistics: %w", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 {
		return locustStats{}, fmt.Errorf("Locust's statistics: %v", err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	ri, okR := col["Request Count"]
	fi, okF := col["Failure Count"]
	ni, okN := col["Name"]
	if !okR || !okF || !okN {
		return locustStats{}, fmt.Errorf("Locust's statistics: columns %v", rows[0])
	}
	st := locustStats{steps: map[string]int64{}}
	for _, r := range rows[1:] {
		req, err1 := strconv.ParseInt(r[ri], 10, 64)
		fail, err2 := strconv.ParseInt(r[fi], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return locustStats{}, fmt.Errorf("Locust's statistics: %w", err)
		}
		if r[ni] == "Aggregated" {
			st.requests, st.failures = req, fail
			return st, nil
		}
		st.steps[r[ni]] += req
	}
	return locustStats{}, errors.New("Locust's statistics: no Aggregated row")
}

// locustClasses maps -locust's names to the locustfile's user classes.
var locustClasses = map[string]struct{ class, label string }{
	"fast":     {"ShopperFast", "Locust FastHttpUser"},
	"requests": {"Shopper", "Locust HttpUser"},
}

// wrkResult is what wrk printed.
type wrkResult struct {
	requests int64
	seconds  float64
	perSec   float64
	non2xx   int64
	socket   int64 // connect, read, write and timeout errors
	p50, p99 string
}

var (
	wrkTotal   = regexp.MustCompile(`(\d+) requests in ([\d.]+)(us|ms|s|m)`)
	wrkRate    = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSocket  = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkLatency = regexp.MustCompile(`(?m)^\s+(50|99)%\s+(\S+)`)
)

func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := wrkTotal.FindStringSubmatch(out)
	rate := wrkRate.FindStringSubmatch(out)
	if m == nil || rate == nil {
		return r, fmt.Errorf("wrk's output not understood:\n%s", tail(out, 20))
	}
	r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	v, _ := strconv.ParseFloat(m[2], 64)
	unit := map[string]float64{"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[m[3]]
	r.seconds = v * unit
	r.perSec, _ = strconv.ParseFloat(rate[1], 64)
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		r.non2xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.socket += n
		}
	}
	for _, m := range wrkLatency.FindAllStringSubmatch(out, -1) {
		if m[1] == "50" {
			r.p50 = m[2]
		} else {
			r.p99 = m[2]
		}
	}
	return r, nil
}

// secondsArg formats d for Locust's and wrk's duration flags.
func secondsArg(d time.Duration) string {
	return strconv.Itoa(int(d.Round(time.Second).Seconds())) + "s"
}

// locustCPUWarning is what Locust logs when its process is at more than
// 90% of a core: it cannot generate more load.
const locustCPUWarning = "CPU usage above 90%"

// locustfilePath returns the locustfile to use: -locustfile, which must
// exist.
func locustfilePath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("-locustfile: %w (run from the repository root)", err)
	}
	return abs, nil
}

// exitedWith reports whether err is the process exiting with status code.
func exitedWith(err error, code int) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == code
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/souq-commerce/souq/bench/internal/server"
)

// proc is a load generator run as a child process, so that every tool's
// CPU time is measured the same way, from outside: while it runs from
// /proc/PID/stat, and in full from its rusage when it has exited.
type proc struct {
	cmd     *exec.Cmd
	started time.Time
	exited  chan struct{} // closed once the process has been waited for
	waitErr error         // read only after exited is closed
	out     *syncBuffer   // its stdout and stderr
}

// syncBuffer is a bytes.Buffer safe for a child's two output streams and a
// reader at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startProc starts name with args and extra environment variables, its
// output kept in memory.
func startProc(name string, args, env []string) (*proc, error) {
	p := &proc{cmd: exec.Command(name, args...), exited: make(chan struct{}), out: &syncBuffer{}}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p.started = time.Now()
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// cpu returns the CPU time (user + system) the running process has used
// so far, to 10 ms.
func (p *proc) cpu() (time.Duration, error) { return server.CPU(p.cmd.Process.Pid) }

// signal sends sig to the process, if it still runs.
func (p *proc) signal(sig os.Signal) {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Signal(sig)
	}
}

// usage is what a generator process used over its whole life, from its
// rusage.
type usage struct {
	wall      time.Duration
	user, sys time.Duration
	maxRSS    int64 // bytes
}

func (u usage) cpu() time.Duration { return u.user + u.sys }

// wait waits for the process to exit, killing it after limit or when ctx
// ends, and returns its usage and how it exited. A kill is reported as an
// error whatever the exit status.
func (p *proc) wait(ctx context.Context, limit time.Duration) (usage, error) {
	t := time.NewTimer(limit)
	defer t.Stop()
	var killed error
	select {
	case <-p.exited:
	case <-t.C:
		killed = fmt.Errorf("still running %s after it should have ended: killed", limit)
	case <-ctx.Done():
		killed = ctx.Err()
	}
	if killed != nil {
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	st := p.cmd.ProcessState
	u := usage{wall: time.Since(p.started), user: st.UserTime(), sys: st.SystemTime()}
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		u.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	if killed != nil {
		return u, killed
	}
	return u, p.waitErr
}

// sleepUntil waits until t; false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// shopCount is what the shop counted itself: the requests it answered
// (its souq_http_request_duration_seconds samples, /metrics and /readyz
// left out), those it answered with a 5xx, and the CPU seconds its process
// used (process_cpu_seconds_total).
type shopCount struct {
	requests, failed float64
	cpu              float64
}

func (c shopCount) minus(o shopCount) shopCount {
	return shopCount{requests: c.requests - o.requests, failed: c.failed - o.failed, cpu: c.cpu - o.cpu}
}

// countShop reads the shop's request counters from its /metrics. (Route
// labels hold a space, "GET /api/v1/products", so each sample is split at
// its last space.)
func countShop(ctx context.Context, client *http.Client, base string) (shopCount, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return shopCount{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return shopCount{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return shopCount{}, fmt.Errorf("GET %s/metrics: status %d", base, resp.StatusCode)
	}
	var c shopCount
	const prefix = "souq_http_request_duration_seconds_count{"
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if i > 0 && line[:i] == "process_cpu_seconds_total" {
			c.cpu, _ = strconv.ParseFloat(line[i+1:], 64)
			continue
		}
		if !strings.HasPrefix(line, prefix) || i < 0 || strings.Contains(line, `route="GET /metrics"`) || strings.Contains(line, `route="GET /readyz"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return shopCount{}, fmt.Errorf("GET %s/metrics: %q: %w", base, line, err)
		}
		c.requests += v
		if strings.Contains(line[:i], `code="5`) {
			c.failed += v
		}
	}
	return c, sc.Err()
}

// sample is a generator's CPU time, the shop's counters and the
// machine's CPU time at one moment.
type sample struct {
	at      time.Time
	cpu     time.Duration
	shop    shopCount
	machine time.Duration // every CPU's busy time (/proc/stat)
}

// takeSample reads p's CPU time and the shop's counters now.
func takeSample(ctx context.Context, p *proc, client *http.Client, base string) (sample, error) {
	cpu, err := p.cpu()
	if err != nil {
		return sample{}, fmt.Errorf("read the generator's CPU time: %w", err)
	}
	s := sample{at: time.Now(), cpu: cpu}
	if s.machine, err = server.MachineBusy(); err != nil {
		return sample{}, fmt.Errorf("read the machine's CPU time: %w", err)
	}
	if s.shop, err = countShop(ctx, client, base); err != nil {
		return sample{}, fmt.Errorf("read the shop's counters: %w", err)
	}
	return s, nil
}

// window is a generator's steady state: between two samples, the CPU time
// it used, the requests the shop answered and the CPU time the shop and
// the whole machine used.
type window struct {
	length  time.Duration
	cpu     time.Duration
	shop    shopCount
	machine time.Duration
}

func between(a, b sample) window {
	return window{length: b.at.Sub(a.at), cpu: b.cpu - a.cpu, shop: b.shop.minus(a.shop), machine: b.machine - a.machine}
}

// others returns the CPU time that neither the generator nor the shop
// used in the window: this program, and whatever else runs on the
// machine.
func (w window) others() time.Duration {
	return max(0, w.machine-w.cpu-time.Duration(w.shop.cpu*float64(time.Second)))
}

// perCPU returns requests per CPU-second, 0 without CPU time.
func perCPU(requests float64, cpu time.Duration) float64 {
	if cpu <= 0 {
		return 0
	}
	return requests / cpu.Seconds()
}

// tail returns the last n lines of s, for an error message.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

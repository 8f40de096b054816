// Package server builds the souq binary and runs `souq serve` as a separate
// process for the benchmarks, so they measure the real binary over HTTP.
// Build once per run, then start as many processes as a benchmark needs
// (replicas of one database each get their own data directory) with
// StartOn; Start does both for a benchmark that needs one process.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Start builds ./cmd/souq (run from the repository root) into dir, starts
// `souq serve --addr <free port> --data <dir>/data` with the extra args,
// waits for /readyz and returns the base URL and a function that stops the
// server with SIGINT and waits for it.
func Start(dir string, args ...string) (base string, stop func(), err error) {
	bin, err := Build(dir)
	if err != nil {
		return "", nil, err
	}
	return StartOn(context.Background(), bin, filepath.Join(dir, "data"), args...)
}

// StartOn starts the binary bin (from Build) as `souq serve --addr <free
// loopback port> --data <data>` with the extra args, waits for /readyz and
// returns the base URL and a function that stops the server with SIGINT
// and waits for it. It fails at once if the process exits before it is
// ready, and after a minute or when ctx ends if it never is. The
// process's stderr is the benchmark's.
func StartOn(ctx context.Context, bin, data string, args ...string) (base string, stop func(), err error) {
	p, err := StartProc(ctx, bin, data, args...)
	if err != nil {
		return "", nil, err
	}
	return p.Base, p.Stop, nil
}

// Proc is a started `souq serve`.
type Proc struct {
	Base string // http://127.0.0.1:port
	PID  int
	Stop func() // SIGINT, then wait for the process to exit
}

// FreeAddr returns a loopback address no one listens on now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// StartProc is StartOn, also giving the process's id.
func StartProc(ctx context.Context, bin, data string, args ...string) (*Proc, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	srv := exec.Command(bin, append([]string{"serve", "--addr", addr, "--data", data}, args...)...)
	srv.Stdout, srv.Stderr = io.Discard, os.Stderr
	if err := srv.Start(); err != nil {
		return nil, err
	}
	// exited is closed when the process has been waited for; waitErr is
	// its exit status, read only after exited is closed.
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = srv.Wait()
		close(exited)
	}()
	stop := func() {
		_ = srv.Process.Signal(os.Interrupt)
		<-exited
	}
	base := "http://" + addr
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if ready(ctx, base) {
			return &Proc{Base: base, PID: srv.Process.Pid, Stop: stop}, nil
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("souq serve exited before it was ready: %v", waitErr)
		case <-ctx.Done():
			stop()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, errors.New("server not ready after a minute")
			}
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// ready reports whether the server at base answers /readyz with 200.
func ready(ctx context.Context, base string) bool {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Seed builds ./cmd/souq into dir and runs `souq seed --data <dir>/data
// --products n`: the catalogue Start's server will serve.
func Seed(dir string, n int) error {
	bin, err := Build(dir)
	if err != nil {
		return err
	}
	seed := exec.Command(bin, "seed", "--data", filepath.Join(dir, "data"), "--products", strconv.Itoa(n))
	seed.Stdout, seed.Stderr = os.Stderr, os.Stderr
	if err := seed.Run(); err != nil {
		return fmt.Errorf("souq seed --products %d: %w", n, err)
	}
	return nil
}

// Build builds ./cmd/souq (run from the repository root) into dir and
// returns the binary's path.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "souq")
	build := exec.Command("go", "build", "-o", bin, "./cmd/souq")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build souq (run from the repository root): %w", err)
	}
	return bin, nil
}

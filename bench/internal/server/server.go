// Package server builds the souq binary and runs `souq serve` as a separate
// process for the benchmarks, so they measure the real binary over HTTP.
package server

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Start builds ./cmd/souq (run from the repository root) into dir, starts
// `souq serve --addr <free port> --data <dir>/data` with the extra args,
// waits for /readyz and returns the base URL and a function that stops the
// server with SIGINT and waits for it.
func Start(dir string, args ...string) (base string, stop func(), err error) {
	bin := filepath.Join(dir, "souq")
	build := exec.Command("go", "build", "-o", bin, "./cmd/souq")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", nil, fmt.Errorf("build souq (run from the repository root): %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := exec.Command(bin, append([]string{"serve", "--addr", addr, "--data", filepath.Join(dir, "data")}, args...)...)
	srv.Stdout, srv.Stderr = io.Discard, os.Stderr
	if err := srv.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		_ = srv.Process.Signal(os.Interrupt)
		_ = srv.Wait()
	}
	base = "http://" + addr
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, stop, nil
			}
		}
	}
	stop()
	return "", nil, errors.New("server not ready after a minute")
}

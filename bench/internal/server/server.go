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
	"strconv"
	"time"
)

// Start builds ./cmd/souq (run from the repository root) into dir, starts
// `souq serve --addr <free port> --data <dir>/data` with the extra args,
// waits for /readyz and returns the base URL and a function that stops the
// server with SIGINT and waits for it.
func Start(dir string, args ...string) (base string, stop func(), err error) {
	bin, err := build(dir)
	if err != nil {
		return "", nil, err
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

// Seed builds ./cmd/souq into dir and runs `souq seed --data <dir>/data
// --products n`: the catalogue Start's server will serve.
func Seed(dir string, n int) error {
	bin, err := build(dir)
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

// build builds ./cmd/souq into dir and returns the binary's path.
func build(dir string) (string, error) {
	bin := filepath.Join(dir, "souq")
	build := exec.Command("go", "build", "-o", bin, "./cmd/souq")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build souq (run from the repository root): %w", err)
	}
	return bin, nil
}

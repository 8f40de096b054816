package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// servePprof serves Go's runtime profiles (net/http/pprof) on a listener
// of their own at addr, never on the shop's port: a CPU profile of a
// replica under a sale's rush shows where its time goes, and nobody on
// the internet should be able to ask for one. It returns once it listens;
// stop shuts the server down and returns once its goroutine has ended.
// The command line (/debug/pprof/cmdline) is not served: secrets may be
// given as flags.
func servePprof(addr string, log *slog.Logger) (stop func(), where string, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen on %s for --pprof-addr: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		// A CPU profile or trace takes ?seconds= to answer (30 by default).
		WriteTimeout:   5 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx) // a profile in progress is cut short
		_ = srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			log.Warn("serve profiles", "err", err)
		}
	}, "http://" + ln.Addr().String() + "/debug/pprof/", nil
}

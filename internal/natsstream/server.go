package natsstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// startServer locks the store directory, starts the embedded NATS server
// with JetStream on and waits until it accepts in-process clients. unlock
// releases the directory after the server has shut down.
func startServer(ctx context.Context, o Options, log *slog.Logger) (srv *server.Server, unlock func() error, err error) {
	if unlock, err = lockDir(o.StoreDir); err != nil {
		return nil, nil, err
	}
	if srv, err = newServer(ctx, o, log); err != nil {
		return nil, nil, errors.Join(err, unlock())
	}
	return srv, unlock, nil
}

// newServer starts the embedded server and waits until it is ready.
func newServer(ctx context.Context, o Options, log *slog.Logger) (*server.Server, error) {
	sopts := &server.Options{
		ServerName:             "souq",
		JetStream:              true,
		StoreDir:               o.StoreDir,
		SyncAlways:             o.SyncAlways,
		SyncInterval:           o.SyncInterval,
		DontListen:             o.Listen == "",
		NoSigs:                 true,
		DisableJetStreamBanner: true,
	}
	if o.Listen != "" {
		host, port, err := net.SplitHostPort(o.Listen)
		if err != nil {
			return nil, fmt.Errorf("%w: listen %q: %w", ErrInvalidOptions, o.Listen, err)
		}
		n, err := net.LookupPort("tcp", port) // a number or a service name, as net.Listen takes
		if err != nil {
			return nil, fmt.Errorf("%w: listen %q: %w", ErrInvalidOptions, o.Listen, err)
		}
		if n == 0 {
			n = server.RANDOM_PORT
		}
		sopts.Host, sopts.Port = host, n
	}
	srv, err := server.NewServer(sopts)
	if err != nil {
		return nil, fmt.Errorf("natsstream: embedded server: %w", err)
	}
	sl := &serverLog{log: log.With("component", "nats-server")}
	srv.SetLoggerV2(sl, false, false, false)
	srv.Start()

	wait := startTimeout
	if dl, ok := ctx.Deadline(); ok {
		wait = time.Until(dl)
	}
	ready := srv.ReadyForConnections(wait)
	if ready && srv.JetStreamEnabled() {
		return srv, nil
	}
	srv.Shutdown()
	srv.WaitForShutdown()
	if msg := sl.fatal(); msg != "" {
		return nil, fmt.Errorf("natsstream: embedded server: %s", msg)
	}
	if !ready {
		return nil, fmt.Errorf("natsstream: embedded server not ready after %s", wait)
	}
	return nil, fmt.Errorf("natsstream: embedded server started without JetStream")
}

// serverLog routes the embedded server's log to slog: warnings and errors
// at their levels, notices at debug, debug and trace lines dropped (the
// server is told not to produce them). It remembers the last fatal
// message, which the server logs instead of exiting.
type serverLog struct {
	log *slog.Logger

	mu        sync.Mutex
	lastFatal string
}

func (l *serverLog) Noticef(format string, v ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.log.Debug(fmt.Sprintf(format, v...))
	}
}

func (l *serverLog) Warnf(format string, v ...any) { l.log.Warn(fmt.Sprintf(format, v...)) }

func (l *serverLog) Errorf(format string, v ...any) { l.log.Error(fmt.Sprintf(format, v...)) }

func (l *serverLog) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.mu.Lock()
	l.lastFatal = msg
	l.mu.Unlock()
	l.log.Error(msg, "fatal", true)
}

func (l *serverLog) Debugf(string, ...any) {}

func (l *serverLog) Tracef(string, ...any) {}

// fatal returns the last fatal message, or "".
func (l *serverLog) fatal() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastFatal
}

package main

import (
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// Fault injection, for the chaos suite only (internal/chaos, docs/chaos.md):
// when the environment variable named by clockOffsetEnv names a file, the
// server's clock is time.Now plus the duration written in that file ("90m",
// "-2h", "0s"), read again at most once a second, so a test can make the
// clock jump forward and back while the server runs. Without the variable
// the server uses time.Now and this file plays no part.
//
// The offset moves the wall clock and the monotonic reading together, so a
// duration measured across a jump includes it: harsher than a real clock
// step, which Go's monotonic clock hides from durations measured within a
// process.
const clockOffsetEnv = "SOUQ_FAULT_CLOCK_OFFSET_FILE"

// clockReread is how often the offset file is read again.
const clockReread = time.Second

// serveClock returns the server's clock: time.Now, or the offset clock when
// clockOffsetEnv is set.
func serveClock(getenv func(string) string, log *slog.Logger) func() time.Time {
	path := getenv(clockOffsetEnv)
	if path == "" {
		return time.Now
	}
	c := newOffsetClock(path, clockReread, log.With("component", "fault-clock"))
	c.log.Warn("fault injection: the server's clock is offset by the duration in "+clockOffsetEnv, "file", path, "offset", c.offset)
	return c.now
}

// newOffsetClock returns a clock offset by the duration in the file at
// path, read now and again when every has passed since the last read.
func newOffsetClock(path string, every time.Duration, log *slog.Logger) *offsetClock {
	c := &offsetClock{path: path, every: every, log: log}
	c.mu.Lock()
	c.read(time.Now())
	c.mu.Unlock()
	return c
}

// offsetClock is time.Now plus the offset read from a file.
type offsetClock struct {
	path  string
	every time.Duration // how often the file is read again
	log   *slog.Logger

	mu     sync.Mutex // guards the fields below
	offset time.Duration
	readAt time.Time // when the file was last read, by the real clock
	failed bool      // the last read failed (logged once per failure streak)
}

// now is the offset clock.
func (c *offsetClock) now() time.Time {
	real := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if real.Sub(c.readAt) >= c.every {
		c.read(real)
	}
	return real.Add(c.offset)
}

// read reads the offset file; on failure the offset stays as it was.
// c.mu is held.
func (c *offsetClock) read(real time.Time) {
	c.readAt = real
	data, err := os.ReadFile(c.path)
	var d time.Duration
	if err == nil {
		d, err = time.ParseDuration(strings.TrimSpace(string(data)))
	}
	if err != nil {
		if !c.failed {
			c.log.Warn("read the clock offset; keeping the last one", "err", err, "offset", c.offset)
		}
		c.failed = true
		return
	}
	c.failed = false
	if d != c.offset {
		c.log.Info("clock offset changed", "from", c.offset, "to", d)
		c.offset = d
	}
}

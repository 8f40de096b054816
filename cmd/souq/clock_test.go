package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestServeClock: without the fault-injection variable the server's clock
// is time.Now; with it, time.Now plus the offset in the file, read again
// as it changes, and kept when the file cannot be read.
func TestServeClock(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if now := serveClock(func(string) string { return "" }, log); time.Since(now()).Abs() > time.Second {
		t.Fatalf("clock without %s: got %v, want about time.Now", clockOffsetEnv, now())
	}

	file := filepath.Join(t.TempDir(), "offset")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("2h\n")
	env := func(k string) string {
		if k == clockOffsetEnv {
			return file
		}
		return ""
	}
	if got := serveClock(env, log)(); (time.Until(got) - 2*time.Hour).Abs() > time.Second {
		t.Fatalf("offset 2h from %s: got %v, want about now+2h", clockOffsetEnv, got)
	}

	c := newOffsetClock(file, 0, log) // reads the file on every call
	for _, tt := range []struct {
		file string
		want time.Duration
	}{
		{"-30m", -30 * time.Minute},
		{"soon", -30 * time.Minute}, // unreadable: the last offset stays
		{"0s", 0},
		{"+90m", 90 * time.Minute},
	} {
		write(tt.file)
		if got := time.Until(c.now()); (got - tt.want).Abs() > time.Second {
			t.Errorf("offset file %q: clock is %v from now, want %v", tt.file, got.Round(time.Second), tt.want)
		}
	}
}

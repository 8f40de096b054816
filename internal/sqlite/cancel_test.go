package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// processCPU is the CPU time this process has used.
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// waitCPU polls until a 200 ms window of this process's CPU use satisfies
// ok, for at most 10 s, and reports whether one did.
func waitCPU(t *testing.T, ok func(used time.Duration) bool) bool {
	t.Helper()
	const window = 200 * time.Millisecond
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		before, start := processCPU(t), time.Now()
		time.Sleep(window)
		used := processCPU(t) - before
		if ok(used * window / time.Since(start)) {
			return true
		}
	}
	return false
}

// TestQueryStopsWhenContextEnds runs a statement that never ends on the
// reader pool, ends its context, and checks that SQLite stops at once:
// the call returns the context's error and the process's CPU goes idle.
func TestQueryStopsWhenContextEnds(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "souq.db"), Options{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- db.queryRead(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n`,
			nil, func(rows *sql.Rows) error { return nil })
	}()
	if !waitCPU(t, func(used time.Duration) bool { return used > 100*time.Millisecond }) {
		t.Fatal("the endless query never kept a core busy")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("query after cancel: got %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the query went on 10 s after its context ended")
	}
	if !waitCPU(t, func(used time.Duration) bool { return used < 50*time.Millisecond }) {
		t.Error("the process did not go idle after the query's context ended")
	}
}

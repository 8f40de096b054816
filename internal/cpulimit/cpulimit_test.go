package cpulimit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLimit holds a busy child to a tenth of a CPU and checks the group's
// settings, that the kernel throttles it, and that Remove leaves nothing.
func TestLimit(t *testing.T) {
	child := exec.Command("sh", "-c", "while :; do :; done")
	if err := child.Start(); err != nil {
		t.Skipf("no shell to run a busy child: %v", err)
	}
	defer func() {
		_ = child.Process.Kill()
		_ = child.Wait()
	}()
	g, err := Limit("souq-cpulimit-test", child.Process.Pid, 0.1, 50*time.Millisecond)
	if err != nil {
		t.Skipf("cannot create a cgroup here (needs root and a cgroup CPU controller): %v", err)
	}
	procs, err := os.ReadFile(filepath.Join(g.dir, "cgroup.procs"))
	if err != nil || !strings.Contains(string(procs), strconv.Itoa(child.Process.Pid)) {
		t.Fatalf("child %d not in the group: %q %v", child.Process.Pid, procs, err)
	}
	read := func(f string) string {
		b, _ := os.ReadFile(filepath.Join(g.dir, f))
		return strings.TrimSpace(string(b))
	}
	if got := read("cpu.max") + read("cpu.cfs_quota_us") + "/" + read("cpu.cfs_period_us"); got != "5000 50000/" && got != "5000/50000" {
		t.Errorf("quota and period %q, want cpu.max 5000 50000 (v2) or 5000/50000 µs (v1)", got)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, n, err := g.Throttled()
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a busy process held to 0.1 CPU was never throttled in 20 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := g.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(g.dir); !os.IsNotExist(err) {
		t.Errorf("group %s still there after Remove: %v", g.dir, err)
	}
}

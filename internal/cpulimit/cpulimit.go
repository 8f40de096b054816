// Package cpulimit holds a process to a share of the CPU as a container's
// CPU limit does: a CFS bandwidth quota in a cgroup of its own, through
// cgroup v2's cpu.max or the v1 cpu controller, whichever the machine
// has. Once the process has used its quota it is frozen until the period
// ends. It needs write access to the cgroup file system (root, or a
// delegated subtree); the chaos suite and the sale-rush benchmark use it.
package cpulimit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Group is a cgroup holding processes to a CPU quota.
type Group struct {
	root string // the controller's root, where released processes go
	dir  string
}

// Limit puts process pid in a new cgroup named prefix-pid whose CPU
// bandwidth is cores CPUs over period (100 ms when zero). Groups an
// earlier run left behind with the same prefix, whose process is gone,
// are removed first.
func Limit(prefix string, pid int, cores float64, period time.Duration) (*Group, error) {
	if period <= 0 {
		period = 100 * time.Millisecond
	}
	quota := time.Duration(cores * float64(period))
	if quota < time.Millisecond {
		return nil, fmt.Errorf("cpu limit of %g cores over %v: the quota must be at least 1 ms", cores, period)
	}
	g := &Group{}
	var limits map[string]string
	if data, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil && strings.Contains(string(data), "cpu") {
		g.root = "/sys/fs/cgroup"
		limits = map[string]string{"cpu.max": fmt.Sprintf("%d %d", quota.Microseconds(), period.Microseconds())}
	} else if _, err := os.Stat("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"); err == nil {
		g.root = "/sys/fs/cgroup/cpu"
		limits = map[string]string{"cpu.cfs_period_us": strconv.FormatInt(period.Microseconds(), 10),
			"cpu.cfs_quota_us": strconv.FormatInt(quota.Microseconds(), 10)}
	} else {
		return nil, errors.New("no cgroup CPU controller under /sys/fs/cgroup (neither v2 cpu.max nor the v1 cpu controller)")
	}
	removeStale(g.root, prefix)
	g.dir = filepath.Join(g.root, fmt.Sprintf("%s-%d", prefix, pid))
	if err := os.Mkdir(g.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create a cgroup: %w", err)
	}
	// cpu.cfs_period_us before cpu.cfs_quota_us: v1 checks each against
	// the other as it is written.
	for _, f := range []string{"cpu.max", "cpu.cfs_period_us", "cpu.cfs_quota_us"} {
		if v, ok := limits[f]; ok {
			if err := g.write(f, v); err != nil {
				_ = g.Remove()
				return nil, err
			}
		}
	}
	if err := g.write("cgroup.procs", strconv.Itoa(pid)); err != nil {
		_ = g.Remove()
		return nil, err
	}
	return g, nil
}

func (g *Group) write(file, v string) error {
	if err := os.WriteFile(filepath.Join(g.dir, file), []byte(v), 0o644); err != nil {
		return fmt.Errorf("cgroup %s: %w", file, err)
	}
	return nil
}

// Release moves the group's processes back to the root group: they run
// unlimited again.
func (g *Group) Release() {
	data, err := os.ReadFile(filepath.Join(g.dir, "cgroup.procs"))
	if err != nil {
		return
	}
	for _, p := range strings.Fields(string(data)) {
		_ = os.WriteFile(filepath.Join(g.root, "cgroup.procs"), []byte(p), 0o644)
	}
}

// Remove releases the group's processes and deletes the group.
func (g *Group) Remove() error {
	g.Release()
	if err := os.Remove(g.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove cgroup %s: %w", g.dir, err)
	}
	return nil
}

// Throttled returns how long the group's processes were held back by the
// quota, and in how many periods.
func (g *Group) Throttled() (time.Duration, int64, error) {
	b, err := os.ReadFile(filepath.Join(g.dir, "cpu.stat"))
	if err != nil {
		return 0, 0, err
	}
	var d time.Duration
	var periods int64
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, " ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "throttled_time": // v1, ns
			d = time.Duration(n)
		case "throttled_usec": // v2
			d = time.Duration(n) * time.Microsecond
		case "nr_throttled":
			periods = n
		}
	}
	return d, periods, nil
}

// removeStale removes the empty groups named prefix-pid whose process is
// gone: what an earlier run that was killed left behind.
func removeStale(root, prefix string) {
	dirs, _ := filepath.Glob(filepath.Join(root, prefix+"-*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), prefix+"-"))
		if err != nil || syscall.Kill(pid, 0) == nil {
			continue // not ours, or its process still runs
		}
		_ = os.Remove(d) // fails, harmlessly, if the group is not empty
	}
}

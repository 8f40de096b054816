package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cpuLimit caps a process's CPU as a Kubernetes CPU limit does: a CFS
// quota of cores × the period, in a cgroup of its own. It needs write
// access to the cgroup file system (root, or a delegated subtree): cgroup
// v2's cpu.max, or v1's cpu controller.
type cpuLimit struct {
	dir string
}

// limitCPU moves pid into a new cgroup named name with a quota of cores.
func limitCPU(name string, pid int, cores float64) (*cpuLimit, error) {
	const period = 100_000 // µs
	quota := int(cores * period)
	if quota < 1000 {
		return nil, fmt.Errorf("cpu limit %.3f cores: want at least 0.01", cores)
	}
	try := []struct {
		root  string
		files map[string]string
	}{
		{"/sys/fs/cgroup", map[string]string{"cpu.max": fmt.Sprintf("%d %d", quota, period)}},                                         // v2
		{"/sys/fs/cgroup/cpu", map[string]string{"cpu.cfs_period_us": strconv.Itoa(period), "cpu.cfs_quota_us": strconv.Itoa(quota)}}, // v1
	}
	var errs []error
	for _, t := range try {
		probe := "cgroup.controllers" // v2's root has it
		if t.root != "/sys/fs/cgroup" {
			probe = "cpu.cfs_quota_us"
		}
		if _, err := os.Stat(filepath.Join(t.root, probe)); err != nil {
			errs = append(errs, err)
			continue
		}
		dir := filepath.Join(t.root, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		l := &cpuLimit{dir: dir}
		err := func() error {
			for _, f := range []string{"cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.max"} {
				if v, ok := t.files[f]; ok {
					if err := os.WriteFile(filepath.Join(dir, f), []byte(v), 0); err != nil {
						return err
					}
				}
			}
			return os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0)
		}()
		if err != nil {
			l.remove()
			errs = append(errs, err)
			continue
		}
		return l, nil
	}
	return nil, fmt.Errorf("cannot cap the shop's CPU (needs a writable cgroup cpu controller; run as root, or pass -checkout-cpu 0 -queue-cpu 0): %w", errors.Join(errs...))
}

// throttled returns how long the cgroup's processes were held back by
// the quota, and in how many periods.
func (l *cpuLimit) throttled() (time.Duration, int64, error) {
	b, err := os.ReadFile(filepath.Join(l.dir, "cpu.stat"))
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

// remove deletes the cgroup once its processes have exited.
func (l *cpuLimit) remove() { _ = os.Remove(l.dir) }

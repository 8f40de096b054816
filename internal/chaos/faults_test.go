//go:build chaos

package chaos

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/cpulimit"
)

// burnerEnv, set to a Unix time in nanoseconds, makes the test binary a
// CPU burner until then (see TestMain).
const burnerEnv = "CHAOS_BURN_UNTIL"

// burn keeps one CPU busy until the time in burnerEnv, then exits. The
// deadline bounds a burner whose test died before it could kill it.
func burn() {
	until, err := strconv.ParseInt(os.Getenv(burnerEnv), 10, 64)
	if err != nil {
		os.Exit(2)
	}
	runtime.GOMAXPROCS(1)
	x := uint64(1)
	for time.Now().UnixNano() < until {
		for range 1 << 20 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	os.Exit(int(x & 0)) // x is used, so the loop is not optimised away
}

// startBurners starts n busy processes at normal priority, competing with
// the server for the CPUs, until they are killed or until passes.
func (h *harness) startBurners(n int, until time.Time) []*proc {
	t := h.t
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { devnull.Close() })
	var ps []*proc
	for i := range n {
		ps = append(ps, startProc(t, fmt.Sprintf("burner %d", i), devnull,
			childEnv(fmt.Sprintf("%s=%d", burnerEnv, until.UnixNano())), self, "-test.run=^$"))
	}
	return ps
}

// natsServerBin finds a nats-server binary: -chaos.nats-server, then
// nats-server on PATH, then /usr/sbin/nats-server.
func natsServerBin() (string, error) {
	if *flagNATS != "" {
		return *flagNATS, nil
	}
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/nats-server"); err == nil {
		return "/usr/sbin/nats-server", nil
	}
	return "", errors.New("no nats-server binary: not on PATH, not at /usr/sbin/nats-server (install the nats-server package or pass -chaos.nats-server)")
}

// natsServer is a NATS server with JetStream in its own process, on a
// fixed loopback port and store directory across restarts.
type natsServer struct {
	h      *harness
	bin    string
	port   int
	store  string
	logf   *os.File
	p      *proc
	starts int
}

func (h *harness) newNATS(bin string) *natsServer {
	logf, err := os.OpenFile(filepath.Join(h.dir, "nats-server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { logf.Close() })
	return &natsServer{h: h, bin: bin, port: freePort(h.t), store: filepath.Join(h.dir, "nats"), logf: logf}
}

func (n *natsServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.port) }

// start runs the server and waits until it has logged that it is ready.
func (n *natsServer) start() {
	t := n.h.t
	t.Helper()
	n.starts++
	fmt.Fprintf(n.logf, "=== chaos: start %d at %s\n", n.starts, time.Now().UTC().Format(time.RFC3339Nano))
	n.p = startProc(t, "nats-server", n.logf, childEnv(), n.bin,
		"-js", "-sd", n.store, "-a", "127.0.0.1", "-p", strconv.Itoa(n.port))
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, _ := os.ReadFile(n.logf.Name())
		if strings.Count(string(data), "Server is ready") >= n.starts {
			return
		}
		if n.p.exited() || time.Now().After(deadline) {
			t.Fatalf("nats-server (start %d) not ready: %v\n%s", n.starts, n.p.err, n.h.logTail("nats-server.log", 20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mountTmpfs mounts a tmpfs of size bytes on dir, unmounted when the test
// ends; an error means this machine does not let the suite mount.
func (h *harness) mountTmpfs(dir string, size int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		return fmt.Errorf("mount -t tmpfs: %v: %s", err, strings.TrimSpace(string(out)))
	}
	h.t.Cleanup(func() {
		if *flagKeep {
			_ = exec.Command("cp", "-a", dir, dir+"-copy").Run()
		}
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			h.t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return nil
}

// remount changes the mount options of dir ("ro", "rw").
func remount(dir, opts string) error {
	if out, err := exec.Command("mount", "-o", "remount,"+opts, dir).CombinedOutput(); err != nil {
		return fmt.Errorf("mount -o remount,%s %s: %v: %s", opts, dir, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// fill writes zeros to path until the file system is full, and returns
// how much it wrote.
func fill(path string) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	var n int64
	for {
		w, err := f.Write(buf)
		n += int64(w)
		if errors.Is(err, syscall.ENOSPC) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// setClock writes the server's clock offset (see cmd/souq/clock.go)
// atomically, so the server never reads half a value.
func setClock(path string, offset time.Duration) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(offset.String()+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// pause waits d, or less if the test's time is nearly up.
func pause(t *testing.T, d time.Duration) {
	if deadline, ok := t.Deadline(); ok {
		d = min(d, time.Until(deadline)/2)
	}
	time.Sleep(d)
}

// removeFile removes path; a file already gone is not an error.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// cpuQuota holds process pid to share of one CPU, measured over period,
// as a container's CPU limit does (internal/cpulimit). release moves the
// process back to the root group; the group is removed when the test ends.
func (h *harness) cpuQuota(pid int, share float64, period time.Duration) (release func(), err error) {
	g, err := cpulimit.Limit("souq-chaos", pid, share, period)
	if err != nil {
		return nil, err
	}
	h.t.Cleanup(func() {
		if err := g.Remove(); err != nil {
			h.t.Error(err)
		}
	})
	return g.Release, nil
}

//go:build chaos

package chaos

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Each scenario: start `souq serve` and the load, inject its faults until
// -chaos.duration has passed, then h.finish (stop the load, drain, audit,
// check the ledger). Fault times and kinds come from the scenario's seeded
// source.

// embedded starts a server on the embedded stream, which also listens on a
// loopback NATS port so the drain can audit it while it runs. It returns
// the server and that port's URL.
func (h *harness) embedded(extraArgs []string, extraEnv ...string) (*souqServer, string) {
	natsURL := fmt.Sprintf("nats://127.0.0.1:%d", freePort(h.t))
	args := append([]string{"--nats-listen", natsURL[len("nats://"):]}, extraArgs...)
	srv := h.newSouq(args, extraEnv...)
	srv.start()
	return srv, natsURL
}

// cpuStarvation: the server gets -chaos.cpu-quota of a CPU (a cgroup's
// CPU bandwidth limit, as a container's CPU limit sets) while
// -chaos.burners busy processes at normal priority compete for the CPUs,
// and the load offers -chaos.cpu-events-rate events a second, more than
// the starved server can take.
func cpuStarvation(t *testing.T, h *harness, r *result) {
	srv, natsURL := h.embedded(nil)
	l := h.startLoad(srv.base, *flagCPUEvents)
	end := time.Now().Add(*flagDuration)
	burners := h.startBurners(*flagBurners, end.Add(time.Minute))
	r.faults = len(burners)
	release := func() {}
	if *flagCPUQuota > 0 {
		var err error
		if release, err = h.cpuQuota(srv.p.cmd.Process.Pid, *flagCPUQuota, 150*time.Millisecond); err != nil {
			t.Skipf("cpu-starvation scenario skipped: cannot limit the server's CPU: %v (run as root, or pass -chaos.cpu-quota=0 for burners only)", err)
		}
		r.faults++
	}
	t.Logf("%d CPU burners beside the server, which may use %.2f of a CPU, for %s", len(burners), *flagCPUQuota, *flagDuration)
	pause(t, time.Until(end))
	release()
	for _, b := range burners {
		b.kill()
	}
	h.finish(r, l, srv, natsURL, "")
}

// killNine: the server is killed with SIGKILL at random moments and
// restarted at once on the same data directory, again and again.
func killNine(t *testing.T, h *harness, r *result) {
	srv, natsURL := h.embedded(nil)
	l := h.startLoad(srv.base, *flagEvents)
	end := time.Now().Add(*flagDuration)
	for time.Now().Before(end) {
		pause(t, h.between(50*time.Millisecond, 2500*time.Millisecond)) // sometimes while it recovers
		srv.kill9()
		r.faults++
		srv.start()
	}
	t.Logf("killed and restarted the server %d times", r.faults)
	h.finish(r, l, srv, natsURL, "")
}

// streamServer: the server uses a NATS server in its own process, which is
// paused (SIGSTOP … SIGCONT; now and then for longer than the collector
// waits for the stream) or killed with SIGKILL and restarted, at random.
func streamServer(t *testing.T, h *harness, r *result) {
	bin, err := natsServerBin()
	if err != nil {
		t.Skipf("stream-server scenario skipped: %v", err)
	}
	ns := h.newNATS(bin)
	ns.start()
	srv := h.newSouq([]string{"--nats-url", ns.url()})
	srv.start()
	l := h.startLoad(srv.base, *flagEvents)
	end := time.Now().Add(*flagDuration)
	pauses, long, kills := 0, 0, 0
	for time.Now().Before(end) {
		pause(t, h.between(time.Second, 3*time.Second))
		if h.rng.IntN(2) == 0 {
			if err := ns.p.signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			hold := h.between(500*time.Millisecond, 4*time.Second)
			if h.rng.IntN(4) == 0 { // past the collector's 10 s wait for the stream
				hold = h.between(10*time.Second, 13*time.Second)
				long++
			}
			pause(t, hold)
			if err := ns.p.signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			pauses++
		} else {
			ns.p.kill()
			pause(t, h.between(200*time.Millisecond, 2*time.Second))
			ns.start()
			kills++
		}
		r.faults++
	}
	t.Logf("paused the stream server %d times (%d for over 10 s), killed and restarted it %d times (%s)", pauses, long, kills, bin)
	h.finish(r, l, srv, ns.url(), ns.url())
}

// archiveDisk: the archive lives on its own small file system (a tmpfs),
// which is remounted read-only for a while, or filled up by another file
// for a while, at random; then the archive must catch up.
func archiveDisk(t *testing.T, h *harness, r *result) {
	vol := filepath.Join(h.dir, "volume")
	size := int64(32<<20) + int64(flagDuration.Seconds())*(100<<10)
	if err := h.mountTmpfs(vol, size); err != nil {
		t.Skipf("archive-disk scenario skipped: this machine does not let the suite mount a file system (it needs root or CAP_SYS_ADMIN): %v", err)
	}
	h.archive = filepath.Join(vol, "archive")
	srv, natsURL := h.embedded(nil)
	l := h.startLoad(srv.base, *flagEvents)
	end := time.Now().Add(*flagDuration)
	readOnly, full := 0, 0
	for time.Now().Before(end) {
		pause(t, h.between(time.Second, 3*time.Second))
		hold := h.between(time.Second, 5*time.Second)
		if h.rng.IntN(2) == 0 {
			if err := remount(vol, "ro"); err != nil {
				t.Fatal(err)
			}
			pause(t, hold)
			if err := remount(vol, "rw"); err != nil {
				t.Fatal(err)
			}
			readOnly++
		} else {
			filler := filepath.Join(vol, "filler")
			if _, err := fill(filler); err != nil {
				t.Fatal(err)
			}
			pause(t, hold)
			if err := removeFile(filler); err != nil {
				t.Fatal(err)
			}
			full++
		}
		r.faults++
	}
	t.Logf("archive file system read-only %d times, full %d times", readOnly, full)
	h.finish(r, l, srv, natsURL, "")
}

// clockJumps: the server's clock (the fault-injection offset of
// cmd/souq/clock.go) jumps forward and back by minutes, hours and a day,
// and is put right before the drain.
func clockJumps(t *testing.T, h *harness, r *result) {
	file := filepath.Join(h.dir, "clock-offset")
	if err := setClock(file, 0); err != nil {
		t.Fatal(err)
	}
	srv, natsURL := h.embedded(nil, "SOUQ_FAULT_CLOCK_OFFSET_FILE="+file)
	l := h.startLoad(srv.base, *flagEvents)
	offsets := []time.Duration{2 * time.Hour, -2 * time.Hour, 26 * time.Hour, -26 * time.Hour,
		5 * time.Minute, -30 * time.Minute, 3 * time.Minute, 0}
	end := time.Now().Add(*flagDuration)
	var now time.Duration
	for time.Now().Before(end) {
		pause(t, h.between(1500*time.Millisecond, 3*time.Second))
		next := offsets[h.rng.IntN(len(offsets))]
		if next == now {
			continue
		}
		if err := setClock(file, next); err != nil {
			t.Fatal(err)
		}
		now = next
		r.faults++
	}
	if err := setClock(file, 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("the server's clock jumped %d times", r.faults)
	h.finish(r, l, srv, natsURL, "")
}

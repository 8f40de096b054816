package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/souq-commerce/souq/bench/internal/pgschema"
	"github.com/souq-commerce/souq/bench/internal/server"
	"github.com/souq-commerce/souq/internal/cpulimit"
)

// shops starts the shops a run plays against: one embedded process, or
// replicas on PostgreSQL, Redis and NATS (c.database set).
type shops struct {
	c   config
	bin string
	dir string
	pg  *pgschema.Server // nil: embedded
}

// shop is a started configuration: where checkout and the queue are
// reached (the same process when embedded), and its processes.
type shop struct {
	busy0, self0    time.Duration // the machine's busy CPU time and this program's, at mark
	checkout, queue string
	procs           []replica
	natsURL, ns     string // replicas: the streams to delete when done
}

type replica struct {
	name  string
	pprof string // the replica's /debug/pprof/ base, with -profile
	proc  *server.Proc
	limit *cpulimit.Group // nil: no CPU limit
	cores float64
	cpu0  time.Duration
	at0   time.Time
}

// start starts a configuration named name; with queue (replicas only), a
// queue-only replica beside the checkout one.
func (s *shops) start(ctx context.Context, name string, queue bool, args ...string) (*shop, error) {
	args = append([]string{"--admin-token", adminToken, "--log-level", "error", "--payment", "none"}, args...)
	if s.pg == nil {
		os.Setenv("GOMAXPROCS", strconv.Itoa(s.c.shopProcs))
		p, err := server.StartProc(ctx, s.bin, filepath.Join(s.dir, name), args...)
		if err != nil {
			return nil, err
		}
		return &shop{checkout: p.Base, queue: p.Base, procs: []replica{{name: "shop", proc: p, cores: float64(s.c.shopProcs)}}}, nil
	}
	schema, err := s.pg.Fresh(ctx)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	ns := "rush_" + hex.EncodeToString(b)
	args = append(args, "--database", schema.URL, "--hot", s.c.redis, "--nats-url", s.c.nats, "--namespace", ns,
		"--stream-max-bytes", strconv.Itoa(256<<20), // JetStream reserves each stream's limit
		"--waitroom-secret", "rush-bench-waiting-room-secret-"+ns)
	sh := &shop{natsURL: s.c.nats, ns: ns}
	startOne := func(role string, cores float64, extra ...string) (string, error) {
		os.Setenv("GOMAXPROCS", strconv.Itoa(max(1, int(math.Ceil(cores)))))
		pprof := ""
		if s.c.profile != "" {
			addr, err := server.FreeAddr()
			if err != nil {
				return "", err
			}
			extra, pprof = append(extra, "--pprof-addr", addr), "http://"+addr+"/debug/pprof/"
		}
		p, err := server.StartProc(ctx, s.bin, filepath.Join(s.dir, name+"-"+role), append(args, extra...)...)
		if err != nil {
			return "", fmt.Errorf("%s replica: %w", role, err)
		}
		r := replica{name: role, pprof: pprof, proc: p, cores: cores}
		if cores > 0 {
			if r.limit, err = cpulimit.Limit("souq-rush-"+role, p.PID, cores, 0); err != nil {
				p.Stop()
				return "", fmt.Errorf("cap the %s replica's CPU (run as root, or pass -checkout-cpu 0 -queue-cpu 0): %w", role, err)
			}
		}
		sh.procs = append(sh.procs, r)
		return p.Base, nil
	}
	if sh.checkout, err = startOne("checkout", s.c.checkoutCPU); err != nil {
		return nil, err
	}
	sh.queue = sh.checkout
	if queue {
		if sh.queue, err = startOne("queue", s.c.queueCPU, "--roles", "api", "--waitroom-admit=false"); err != nil {
			sh.stop()
			return nil, err
		}
	}
	return sh, nil
}

// profile writes a CPU profile of d of each replica serving profiles into
// dir, as <role>.pprof, and returns when all are written.
func (sh *shop) profile(ctx context.Context, dir string, d time.Duration) {
	var wg sync.WaitGroup
	for _, r := range sh.procs {
		if r.pprof == "" {
			continue
		}
		wg.Go(func() {
			if err := fetchProfile(ctx, r.pprof, d, filepath.Join(dir, r.name+".pprof")); err != nil {
				fmt.Fprintf(os.Stderr, "rush: profile of the %s replica: %v\n", r.name, err)
			}
		})
	}
	wg.Wait()
}

// fetchProfile asks base for a CPU profile of d and writes it to file.
func fetchProfile(ctx context.Context, base string, d time.Duration, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%sprofile?seconds=%d", base, int(math.Ceil(d.Seconds()))), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s", resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// mark notes each process's CPU so far: usage reports from here.
func (sh *shop) mark() {
	sh.busy0, _ = server.MachineBusy()
	sh.self0 = selfCPU()
	for i := range sh.procs {
		sh.procs[i].cpu0, _ = server.CPU(sh.procs[i].proc.PID)
		sh.procs[i].at0 = time.Now()
	}
}

// usage describes what each process used since mark: CPU, as a share of
// its limit, and time throttled by it.
func (sh *shop) usage() string {
	var parts []string
	for _, r := range sh.procs {
		cpu, err := server.CPU(r.proc.PID)
		if err != nil {
			parts = append(parts, fmt.Sprintf("%s: %v", r.name, err))
			continue
		}
		used := cpu - r.cpu0
		wall := time.Since(r.at0)
		p := fmt.Sprintf("%s %.1f s CPU in %.0f s (%.2f cores", r.name, used.Seconds(), wall.Seconds(), used.Seconds()/wall.Seconds())
		if r.limit != nil {
			d, n, err := r.limit.Throttled()
			if err == nil {
				p += fmt.Sprintf(" of %.2f; throttled %.1f s in %d periods since start", r.cores, d.Seconds(), n)
			}
		}
		parts = append(parts, p+")")
	}
	busy, _ := server.MachineBusy()
	parts = append(parts, fmt.Sprintf("this generator %.1f s; the whole machine %.1f s of %d cores' %.0f s",
		(selfCPU()-sh.self0).Seconds(), (busy-sh.busy0).Seconds(), runtime.NumCPU(),
		time.Since(sh.procs[0].at0).Seconds()*float64(runtime.NumCPU())))
	return strings.Join(parts, "; ")
}

// selfCPU is the CPU time this program has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (sh *shop) stop() {
	for _, r := range sh.procs {
		r.proc.Stop()
		if r.limit != nil {
			if err := r.limit.Remove(); err != nil {
				fmt.Fprintln(os.Stderr, "rush:", err)
			}
		}
	}
	if sh.ns != "" {
		if err := deleteStreams(sh.natsURL, strings.ToUpper(sh.ns)); err != nil {
			fmt.Fprintln(os.Stderr, "rush: delete the run's streams:", err)
		}
	}
}

// deleteStreams deletes the JetStream streams (key-value buckets
// included) whose names hold ns: a namespace's streams reserve their
// limits in the server's storage until they are gone.
func deleteStreams(url, ns string) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	names := js.StreamNames(ctx)
	var doomed []string
	for name := range names.Name() {
		if strings.Contains(name, ns) {
			doomed = append(doomed, name)
		}
	}
	if err := names.Err(); err != nil {
		return err
	}
	for _, name := range doomed {
		if err := js.DeleteStream(ctx, name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// describe says what the shops are.
func (s *shops) describe() string {
	if s.pg == nil {
		return fmt.Sprintf("one process on embedded SQLite, GOMAXPROCS=%d", s.c.shopProcs)
	}
	return fmt.Sprintf("replicas on PostgreSQL, Redis and NATS; checkout replica (every role) limited to %g cores, queue-only replica (room on) to %g", s.c.checkoutCPU, s.c.queueCPU)
}

//go:build chaos

package chaos

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"text/tabwriter"
	"time"
)

var (
	flagSeed      = flag.Int64("chaos.seed", 1, "seed of every random choice: fault times and kinds, orders, events")
	flagDuration  = flag.Duration("chaos.duration", 20*time.Second, "how long each scenario offers load under its faults")
	flagEvents    = flag.Float64("chaos.events-rate", 300, "behaviour events offered per second")
	flagOrders    = flag.Float64("chaos.orders-rate", 12, "orders offered per second")
	flagRetryFor  = flag.Duration("chaos.retry-for", 20*time.Second, "how long a client retries one order or event batch before giving up on it")
	flagBurners   = flag.Int("chaos.burners", 4, "busy processes beside the server in the CPU-starvation scenario")
	flagCPUQuota  = flag.Float64("chaos.cpu-quota", 0.1, "share of one CPU the server may use in the CPU-starvation scenario (a cgroup limit; 0: no limit)")
	flagCPUEvents = flag.Float64("chaos.cpu-events-rate", 3000, "behaviour events offered per second in the CPU-starvation scenario")
	flagNATS      = flag.String("chaos.nats-server", "", "nats-server binary for the stream-server scenario (default: nats-server on PATH, then /usr/sbin/nats-server)")
	flagKeep      = flag.Bool("chaos.keep", false, "keep each scenario's directory (data, server logs, audit reports) and log where it is")
)

func TestMain(m *testing.M) {
	if os.Getenv(burnerEnv) != "" {
		burn() // a CPU burner started by the CPU-starvation scenario; never returns
	}
	flag.Parse()
	os.Exit(m.Run())
}

// scenario is one fault plan. run starts the server and the load, injects
// its faults for -chaos.duration and ends with h.finish.
type scenario struct {
	name string
	run  func(t *testing.T, h *harness, r *result)
}

var scenarios = []scenario{
	{"cpu-starvation", cpuStarvation},
	{"kill-9", killNine},
	{"stream-server", streamServer},
	{"archive-disk", archiveDisk},
	{"clock-jumps", clockJumps},
}

// perScenario is about the most one scenario takes beyond its load and the
// clients' last retries: start, drain, audits.
const perScenario = time.Minute

// TestChaos runs every scenario (or those -run selects, e.g.
// -run 'TestChaos/kill-9') and prints a table of the results.
func TestChaos(t *testing.T) {
	one := *flagDuration + *flagRetryFor + perScenario
	all := time.Duration(len(scenarios)) * one
	bin := buildSouq(t)
	fmt.Printf("chaos: seed %d, %s of load per scenario, %.0f events/s and %.0f orders/s offered\n",
		*flagSeed, *flagDuration, *flagEvents, *flagOrders)
	var results []*result
	for i, sc := range scenarios {
		r := &result{scenario: sc.name, auditExit: -1, status: "not run"}
		results = append(results, r)
		t.Run(sc.name, func(t *testing.T) {
			if deadline, ok := t.Deadline(); ok && time.Until(deadline) < one {
				t.Fatalf("not enough time left under -timeout for %s of load: each scenario may take up to %s, the suite %s; pass -timeout %s",
					*flagDuration, one.Round(time.Second), all.Round(time.Minute), (all + 5*time.Minute).Round(time.Minute))
			}
			r.status = "running"
			defer func() { r.status = verdict(t) }()
			h := newHarness(t, bin, sc.name, *flagSeed+int64(i)*7919)
			sc.run(t, h, r)
		})
	}
	printResults(os.Stdout, results)
}

// buildSouq builds the souq binary into a directory removed when t ends.
func buildSouq(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "souq")
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", bin, "github.com/souq-commerce/souq/cmd/souq")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/souq: %v\n%s", err, out)
	}
	t.Logf("built %s in %s", filepath.Base(bin), time.Since(start).Round(time.Millisecond))
	return bin
}

// result is one row of the table.
type result struct {
	scenario              string
	faults                int // faults injected: burners, kills, pauses, disk faults, clock jumps
	eventsSent, eventsAck int
	ordersSent, ordersAck int
	outOfStock            int
	gaveUpOrders          int // orders the clients gave up on (never acknowledged)
	gaveUpEvents          int // events the clients gave up on
	lost, duplicated      int // from the ledger: acknowledged and absent, or archived twice
	oversold              int // units sold beyond the stock
	auditExit             int // souq audit's exit status; -1 when it did not run
	auditDiffs            int
	status                string
}

// verdict is how a finished subtest ended, for the table.
func verdict(t *testing.T) string {
	switch {
	case t.Failed():
		return "FAIL"
	case t.Skipped():
		return "skipped"
	default:
		return "pass"
	}
}

// printResults writes the table.
func printResults(w io.Writer, results []*result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tfaults\tevents sent\tevents acked\torders sent\torders acked\tout of stock\tgave up (orders/events)\tlost\tduplicated\toversold\taudit exit\tresult\t")
	for _, r := range results {
		if r.status == "not run" {
			continue
		}
		audit := "-"
		if r.auditExit >= 0 {
			audit = fmt.Sprint(r.auditExit)
			if r.auditDiffs > 0 {
				audit += fmt.Sprintf(" (%d diffs)", r.auditDiffs)
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d/%d\t%d\t%d\t%d\t%s\t%s\t\n", r.scenario, r.faults,
			r.eventsSent, r.eventsAck, r.ordersSent, r.ordersAck, r.outOfStock, r.gaveUpOrders, r.gaveUpEvents,
			r.lost, r.duplicated, r.oversold, audit, r.status)
	}
	fmt.Fprintln(w)
	tw.Flush()
	fmt.Fprintln(w)
}

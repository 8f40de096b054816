// Command checkout benchmarks order placement through the real binary and
// HTTP API: on embedded SQLite always, and with -database on PostgreSQL
// too, with one `souq serve` process and with several replicas sharing
// the database, against a naive baseline on the same server.
//
// It builds cmd/souq once, then measures configurations one after the
// other, each on a fresh database (a fresh data directory for SQLite; a
// fresh schema bench_<random> for PostgreSQL, dropped at the end, also on
// an error or Ctrl+C), with products created through the admin API:
//
//   - naive PG: not Souq, a baseline written here. N workers, each with its
//     own connection (a pgxpool sized to N), run per order one transaction:
//     UPDATE products SET stock = stock - 1 WHERE id = $1 AND stock >= 1 on
//     one hot row, then INSERTs of an order, an order line and an outbox
//     row (a few hundred bytes of JSON), COMMIT (synchronous_commit as the
//     server has it). Each order holds the row lock from its UPDATE to its
//     commit's flush: what a row lock per order allows. When N exceeds what
//     the server's max_connections leaves free, the pool is capped and the
//     cell is marked with *: the other workers wait for a connection.
//   - Souq PG, 1 replica and N replicas (-replicas): `souq serve
//     --database <url with search_path=<schema>>` processes, each with its
//     own --data directory and loopback port, --log-level error and
//     --shoppers 0. The load generator spreads orders round-robin over the
//     replicas' base URLs, as a load balancer would (no proxy process). Each
//     process batches the orders it has in hand into one transaction.
//   - Souq SQLite: one `souq serve` on embedded SQLite (-sync), the
//     reference.
//
// Each Souq configuration runs in two modes, each its own configuration:
//
//   - spread: one- and two-line cash-on-delivery orders (with -card, paid
//     by card through the test provider) over -products
//     products;
//   - hot: every order buys 1 unit of the same product (the hot SKU), whose
//     stock (10⁹) never runs out.
//
// Souq orders carry a random Idempotency-Key, as real clients send them
// (-keys=false sends none). After a warm-up (-warmup) per configuration, it
// measures, each cell for -duration:
//
//   - throughput: closed loop, B concurrent buyers placing orders back to
//     back → orders/s and p99. The naive baseline and Souq PG hot (1 and N
//     replicas) sweep -buyers (default 16,64,256); the others run at 64
//     buyers (or the middle of -buyers when it lacks 64);
//   - latency: open loop at -rate orders/s (requests start on schedule
//     whether or not earlier ones have finished), hot SKU, Souq PG 1 and N
//     replicas and SQLite → p50, p90, p99, max and how many started late.
//
// Before each measured cell it waits until the replicas' outbox relays have
// published every order's event and their stream consumers have caught up
// (read from /metrics), so that a cell does not pay for the events of the
// cells before it.
//
// Only orders answered 201 count: a cell in which any order failed fails
// (FAIL in the table, the first error on stderr), and the command exits
// non-zero after printing the summary. -rounds N adds the keyed versus
// unkeyed comparison on SQLite (spread; hot with -hot): N alternating
// rounds of each at 64 buyers, and their throughput ratio.
//
// At the end it prints the machine, the PostgreSQL server's version and
// synchronous_commit, a table (rows: configurations; columns: orders/s and
// p99 at each buyer count), the fixed-rate lines, hot SKU on PostgreSQL
// (1 replica) over naive at 64 buyers, and each hot configuration's
// throughput at the most buyers over the fewest.
//
// -hot measures the hot-SKU configurations only. Run from the repository
// root:
//
//	go run ./bench/checkout [-database postgres://user@host:5432/db] [-replicas 3] [-hot] [-duration 10s] …
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/souq-commerce/souq/bench/internal/pgschema"
	"github.com/souq-commerce/souq/bench/internal/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	database string
	replicas int
	hotOnly  bool
	buyers   []int // sorted, distinct
	ref      int   // buyers of the configurations that do not sweep
	duration time.Duration
	warmup   time.Duration
	rate     int
	products int
	sync     string
	keys     bool
	rounds   int
	card     bool
}

func parse(args []string) (config, error) {
	var c config
	var buyers string
	fs := flag.NewFlagSet("checkout", flag.ContinueOnError)
	fs.StringVar(&c.database, "database", "", "PostgreSQL `URL` (postgres://…): also run the naive baseline and Souq on PostgreSQL, each configuration in a fresh schema")
	fs.IntVar(&c.replicas, "replicas", 3, "most `souq serve` processes on one PostgreSQL database (configurations run with 1 and with this many)")
	fs.BoolVar(&c.hotOnly, "hot", false, "only the hot-SKU configurations (every order buys the same product)")
	fs.StringVar(&buyers, "buyers", "16,64,256", "concurrent buyers of the closed-loop sweeps, comma-separated")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "length of each measured cell")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "warm-up per configuration (not measured)")
	fs.IntVar(&c.rate, "rate", 300, "orders per second in the fixed-rate cells")
	fs.IntVar(&c.products, "products", 50, "products the spread orders buy from")
	fs.StringVar(&c.sync, "sync", "full", "SQLite synchronous mode: full or normal")
	fs.BoolVar(&c.keys, "keys", true, "send a random Idempotency-Key with every Souq order")
	fs.IntVar(&c.rounds, "rounds", 0, "alternating keyed and unkeyed throughput rounds on SQLite (0: none)")
	fs.BoolVar(&c.card, "card", false, "Souq orders pay by card through the built-in test provider (souq serve --payment test): each order commits pending payment, then paid, in two transactions")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	for f := range strings.SplitSeq(buyers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return c, fmt.Errorf("-buyers %q: want positive numbers separated by commas", buyers)
		}
		c.buyers = append(c.buyers, n)
	}
	slices.Sort(c.buyers)
	c.buyers = slices.Compact(c.buyers)
	c.ref = c.buyers[len(c.buyers)/2]
	if slices.Contains(c.buyers, 64) {
		c.ref = 64
	}
	switch {
	case c.database != "" && !strings.HasPrefix(c.database, "postgres://") && !strings.HasPrefix(c.database, "postgresql://"):
		return c, errors.New("-database: want a postgres:// URL")
	case c.replicas < 1:
		return c, errors.New("-replicas must be at least 1")
	case c.duration <= 0 || c.warmup < 0:
		return c, errors.New("-duration must be positive and -warmup not negative")
	case c.rate < 1 || c.products < 1 || c.rounds < 0:
		return c, errors.New("-rate and -products must be positive, -rounds not negative")
	}
	return c, nil
}

// bench is one run: its settings, the souq binary, the PostgreSQL server
// (nil without -database) and what was measured.
type bench struct {
	c      config
	dir    string // temporary: the binary and the data directories
	bin    string
	pg     *pgschema.Server
	client *http.Client
	out    io.Writer
	sum    summary
	seq    int // numbers configurations, for their data directories
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	c, err := parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "souq-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := server.Build(dir)
	if err != nil {
		return err
	}
	b := &bench{c: c, dir: dir, bin: bin, out: stdout, client: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}}}
	b.sum.machine = fmt.Sprintf("%d CPUs (GOMAXPROCS %d), %s/%s", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	b.sum.buyers, b.sum.ref, b.sum.rate, b.sum.duration = c.buyers, c.ref, c.rate, c.duration
	if c.database != "" {
		if b.pg, err = pgschema.Connect(ctx, c.database); err != nil {
			return err
		}
		defer func() {
			if err := b.pg.Close(ctx); err != nil {
				fmt.Fprintln(os.Stderr, "bench:", err)
			}
		}()
		for _, s := range []struct {
			name string
			to   *string
		}{{"server_version", &b.sum.pgVersion}, {"synchronous_commit", &b.sum.pgSync}, {"max_connections", &b.sum.pgMaxConns}} {
			if *s.to, err = b.pg.Show(ctx, s.name); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(b.out, "checkout benchmark: %s; %s per cell after a %s warm-up per configuration\n", b.sum.machine, c.duration, c.warmup)
	if b.pg != nil {
		fmt.Fprintf(b.out, "PostgreSQL %s, synchronous_commit=%s, max_connections=%s\n", b.sum.pgVersion, b.sum.pgSync, b.sum.pgMaxConns)
	}

	var configs []souqConfig
	modes := []mode{spread, hot}
	if c.hotOnly {
		modes = []mode{hot}
	}
	if b.pg != nil {
		replicas := []int{1}
		if c.replicas > 1 {
			replicas = append(replicas, c.replicas)
		}
		for _, r := range replicas {
			for _, m := range modes {
				sc := souqConfig{postgres: true, replicas: r, mode: m, buyers: []int{c.ref}}
				if m == hot {
					sc.buyers, sc.fixed = c.buyers, true
				}
				configs = append(configs, sc)
			}
		}
	}
	for i, m := range modes {
		configs = append(configs, souqConfig{replicas: 1, mode: m, buyers: []int{c.ref}, fixed: m == hot, rounds: i == 0})
	}

	if b.pg != nil {
		b.sum.add(b.naive(ctx))
	}
	for _, sc := range configs {
		if ctx.Err() != nil {
			break
		}
		b.sum.add(b.souq(ctx, sc))
	}
	b.sum.print(b.out)
	if ctx.Err() != nil {
		return errors.New("interrupted: the figures above are partial")
	}
	if n := b.sum.failures(); n > 0 {
		return fmt.Errorf("%d configurations or cells failed (FAIL above; errors on stderr)", n)
	}
	return nil
}

// fail reports a failed cell or configuration on stderr at once, loudly,
// and returns err.
func (b *bench) fail(what string, err error) error {
	fmt.Fprintf(os.Stderr, "FAIL %s: %v\n", what, err)
	return err
}

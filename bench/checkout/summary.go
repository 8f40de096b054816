package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/souq-commerce/souq/bench/internal/load"
)

// kind is what serves a row's orders.
type kind int

const (
	naivePG kind = iota
	souqPG
	souqSQLite
)

// row is one configuration's figures.
type row struct {
	name     string
	kind     kind
	replicas int
	hot      bool
	// err is set when the configuration failed before its cells ran
	// (start, products, warm-up): its cells are missing.
	err     error
	planned []int // buyers of the closed-loop cells to measure
	cells   []cell
	fixed   *fixedCell // nil when not measured
	// keyedRatio is keyed over unkeyed throughput when -rounds ran on
	// this configuration, else 0.
	keyedRatio float64
}

// cell is one closed-loop measurement.
type cell struct {
	buyers   int
	orders   int // answered 201 (or committed, for the baseline)
	perSec   float64
	p50, p99 time.Duration
	// pool is the naive baseline's pool size when the server's
	// max_connections capped it below buyers, else 0.
	pool int
	err  error
}

// closedCell turns a closed loop's latencies (or its error) into a cell.
func closedCell(buyers int, d time.Duration, lat []time.Duration, err error) cell {
	if err != nil {
		return cell{buyers: buyers, err: err}
	}
	return cell{buyers: buyers, orders: len(lat), perSec: float64(len(lat)) / d.Seconds(),
		p50: load.Pct(lat, 50), p99: load.Pct(lat, 99)}
}

// fixedCell is one open-loop measurement.
type fixedCell struct {
	orders             int
	p50, p90, p99, max time.Duration
	late               int
	err                error
}

// cell returns r's cell at buyers, if measured.
func (r *row) cell(buyers int) (cell, bool) {
	for _, c := range r.cells {
		if c.buyers == buyers {
			return c, true
		}
	}
	return cell{}, false
}

// summary is what a run measured, and where.
type summary struct {
	machine                       string
	pgVersion, pgSync, pgMaxConns string // empty without -database
	buyers                        []int
	ref                           int
	rate                          int
	duration                      time.Duration
	rows                          []*row
}

func (s *summary) add(r *row) { s.rows = append(s.rows, r) }

// failures counts the failed configurations and cells.
func (s *summary) failures() int {
	n := 0
	for _, r := range s.rows {
		if r.err != nil {
			n++
		}
		for _, c := range r.cells {
			if c.err != nil {
				n++
			}
		}
		if r.fixed != nil && r.fixed.err != nil {
			n++
		}
	}
	return n
}

// find returns the row of kind k with that many replicas in hot mode or
// not, or nil.
func (s *summary) find(k kind, replicas int, hot bool) *row {
	for _, r := range s.rows {
		if r.kind == k && r.replicas == replicas && r.hot == hot {
			return r
		}
	}
	return nil
}

func (s *summary) print(w io.Writer) {
	fmt.Fprintf(w, "\nsummary: %s\n", s.machine)
	if s.pgVersion != "" {
		fmt.Fprintf(w, "PostgreSQL %s, synchronous_commit=%s, max_connections=%s\n", s.pgVersion, s.pgSync, s.pgMaxConns)
	}
	fmt.Fprintf(w, "closed loop, %s per cell, orders/s answered 201 (p99 latency):\n\n", s.duration)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"configuration"}
	buyers := s.measured()
	for _, b := range buyers {
		head = append(head, fmt.Sprintf("%d buyers", b))
	}
	for _, b := range buyers {
		head = append(head, fmt.Sprintf("p99 @%d", b))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	var notes, fails []string
	for _, r := range s.rows {
		rates, p99s := []string{r.name}, []string(nil)
		for _, b := range buyers {
			c, ok := r.cell(b)
			switch {
			case !ok && r.err != nil && slices.Contains(r.planned, b):
				rates, p99s = append(rates, "FAIL"), append(p99s, "FAIL")
			case !ok:
				rates, p99s = append(rates, "-"), append(p99s, "-")
			case c.err != nil:
				rates, p99s = append(rates, "FAIL"), append(p99s, "FAIL")
				fails = append(fails, fmt.Sprintf("%s, %d buyers: %s", r.name, b, short(c.err)))
			default:
				mark := ""
				if c.pool > 0 {
					mark = "*"
					notes = append(notes, fmt.Sprintf("* %s, %d buyers: the pool is capped at %d connections by max_connections=%s; the other buyers wait for one",
						r.name, b, c.pool, s.pgMaxConns))
				}
				rates, p99s = append(rates, fmt.Sprintf("%.0f%s", c.perSec, mark)), append(p99s, round(c.p99).String())
			}
		}
		if r.err != nil {
			fails = append(fails, fmt.Sprintf("%s: %s", r.name, short(r.err)))
		}
		fmt.Fprintln(tw, strings.Join(append(rates, p99s...), "\t"))
	}
	tw.Flush()
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, r := range s.rows {
		if r.fixed != nil && !slices.ContainsFunc(s.rows[:i], func(r *row) bool { return r.fixed != nil }) {
			fmt.Fprintf(w, "\nfixed rate, open loop, hot SKU: %d orders/s for %s:\n\n", s.rate, s.duration)
			fmt.Fprintln(tw, "configuration\torders\tp50\tp90\tp99\tmax\tstarted late")
		}
		switch f := r.fixed; {
		case f == nil:
		case f.err != nil:
			fmt.Fprintf(tw, "%s\tFAIL\t\t\t\t\t\n", r.name)
			fails = append(fails, fmt.Sprintf("%s, fixed rate: %s", r.name, short(f.err)))
		default:
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%d\n", r.name, f.orders, round(f.p50), round(f.p90), round(f.p99), round(f.max), f.late)
		}
	}
	tw.Flush()

	fmt.Fprintln(w)
	naive, pg1 := s.find(naivePG, 0, true), s.find(souqPG, 1, true)
	if naive != nil && pg1 != nil {
		n, okN := naive.cell(s.ref)
		p, okP := pg1.cell(s.ref)
		if okN && okP && n.err == nil && p.err == nil && n.perSec > 0 {
			fmt.Fprintf(w, "hot SKU on PostgreSQL (1 replica) / naive at %d buyers = %.1f×\n", s.ref, p.perSec/n.perSec)
		} else {
			fmt.Fprintf(w, "hot SKU on PostgreSQL (1 replica) / naive at %d buyers: not measured (a cell failed)\n", s.ref)
		}
	}
	if lo, hi := s.buyers[0], s.buyers[len(s.buyers)-1]; lo != hi {
		var parts []string
		for _, r := range s.rows {
			a, okA := r.cell(lo)
			z, okZ := r.cell(hi)
			if !r.hot || !okA || !okZ {
				continue
			}
			if a.err != nil || z.err != nil || a.perSec == 0 {
				parts = append(parts, r.name+" n/a")
				continue
			}
			parts = append(parts, fmt.Sprintf("%s %.2f×", r.name, z.perSec/a.perSec))
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "throughput at %d / %d buyers: %s\n", hi, lo, strings.Join(parts, "; "))
		}
	}
	for _, r := range s.rows {
		if r.keyedRatio > 0 {
			fmt.Fprintf(w, "keyed / unkeyed throughput, %s: %.2f\n", r.name, r.keyedRatio)
		}
	}
	if len(fails) > 0 {
		fmt.Fprintln(w, "\nfailed:")
		for _, f := range slices.Compact(fails) {
			fmt.Fprintln(w, "  "+f)
		}
	}
}

// measured returns the numbers of buyers some row has a cell for (or
// planned one, when it failed), or the reference number when none has.
func (s *summary) measured() []int {
	var out []int
	for _, r := range s.rows {
		for _, c := range r.cells {
			out = append(out, c.buyers)
		}
		if r.err != nil {
			out = append(out, r.planned...)
		}
	}
	if len(out) == 0 {
		return []int{s.ref}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// round rounds a latency to three or four significant digits, for the table.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d
	}
}

// short returns err's message, cut to a line's length.
func short(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	if len(s) > 240 {
		s = s[:240] + "…"
	}
	return s
}

// Command pipeline benchmarks the event pipeline through the real binary:
//
//   - raw: the publish rate (batches of 100, acknowledged) straight to the
//     server's stream, over a NATS connection from this process;
//   - collector: events/s through POST /v1/batch (batches of 100), each 200
//     meaning every event is acknowledged by the stream;
//   - freshness: at a fixed event rate, the time from an event's receipt to
//     its being visible in the aggregates (the server's
//     souq_pipeline_processing_seconds histogram over the phase), and to
//     its being shown on a dashboard following /dashboard/events;
//   - archive: Parquet bytes per event once the archive has caught up;
//   - with Redis, the round trips to Redis per batch the processor applies.
//
// The raw and collector phases are measured the same way: from this
// process, against the same server and stream (its processor and archiver
// consuming as in production), with the same events, clients and batches,
// each starting once the processor has caught up.
//
// It always measures the embedded engines. Given -nats-url, -redis or
// -archive, it then measures the same phases again with the server on
// those engines (the others staying embedded), under a fresh namespace
// whose streams, keys and archive prefix it deletes at the end, and prints
// both side by side.
//
// Run from the repository root: go run ./bench/pipeline [-sync 1s] …
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/souq-commerce/souq/bench/internal/load"
	"github.com/souq-commerce/souq/bench/internal/metrics"
	"github.com/souq-commerce/souq/bench/internal/server"
	"github.com/souq-commerce/souq/internal/archive/buckettest"
	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/redisstore"
	"github.com/souq-commerce/souq/internal/s3blob"
	"github.com/souq-commerce/souq/internal/souq"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	sync     string
	clients  int
	duration time.Duration
	rate     int
	// The external engines; "" keeps that engine embedded.
	natsURL, redisURL, archiveURL string
}

const batchSize = 100

func run() error {
	var c config
	flag.StringVar(&c.sync, "sync", "1s", `embedded stream sync: "always" or an interval`)
	flag.IntVar(&c.clients, "clients", 8, "concurrent senders in the throughput phases")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "length of each phase")
	flag.IntVar(&c.rate, "rate", 10000, "events per second in the freshness phase")
	flag.StringVar(&c.natsURL, "nats-url", "", "also measure on this NATS server or cluster (nats://host:4222)")
	flag.StringVar(&c.redisURL, "redis", "", "also measure with this Redis as the hot store (redis://host:6379/0)")
	flag.StringVar(&c.archiveURL, "archive", "", "also measure with the archive on S3 (s3://bucket?region=…[&endpoint=…]; credentials from the AWS chain)")
	flag.Parse()
	if c.rate < batchSize {
		return fmt.Errorf("-rate must be at least %d events/s (one batch a second)", batchSize)
	}
	if c.archiveURL != "" {
		if u, err := url.Parse(c.archiveURL); err != nil || u.Scheme != "s3" || u.Host == "" {
			return fmt.Errorf("-archive %q: want an s3://bucket?region=… URL", c.archiveURL)
		}
	}

	dir, err := os.MkdirTemp("", "souq-bench-pipeline-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := server.Build(dir)
	if err != nil {
		return err
	}
	fmt.Printf("pipeline benchmark: %d CPUs, batches of %d events, %d clients, phases of %s\n", runtime.NumCPU(), batchSize, c.clients, c.duration)

	setups := []setup{{name: "embedded", engines: fmt.Sprintf("embedded NATS (sync %s), in-process aggregates, archive in a directory", c.sync)}}
	if c.natsURL != "" || c.redisURL != "" || c.archiveURL != "" {
		setups = append(setups, external(c))
	}
	var results []result
	for i, st := range setups {
		fmt.Printf("\n%s: %s\n", st.name, st.engines)
		r, err := measure(bin, filepath.Join(dir, fmt.Sprint(i)), c, st)
		if err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
		results = append(results, r)
	}
	if len(results) > 1 {
		printTable(setups, results)
	}
	return nil
}

// setup is the engines one measurement runs on.
type setup struct {
	name, engines string
	// namespace isolates the run on shared engines; "" when all are embedded.
	namespace string
	natsURL   string // "": embedded
	redisURL  string // "": in process
	archive   string // "": a directory under the server's data
}

// external is the setup on c's external engines, under a fresh namespace.
func external(c config) setup {
	ns := "bench_" + strings.ToLower(string(souq.NewID(""))[:10])
	st := setup{name: "external", namespace: ns, natsURL: c.natsURL, redisURL: c.redisURL}
	var engines []string
	if c.natsURL != "" {
		engines = append(engines, "NATS server "+hosts(c.natsURL))
	} else {
		engines = append(engines, "embedded NATS")
	}
	if c.redisURL != "" {
		engines = append(engines, "Redis "+hosts(c.redisURL))
	} else {
		engines = append(engines, "in-process aggregates")
	}
	if c.archiveURL != "" {
		u, _ := url.Parse(c.archiveURL) // checked by run
		u.Path = path.Join("/", u.Path, ns)
		st.archive = u.String()
		engines = append(engines, "S3 "+u.Host+u.Path)
	} else {
		engines = append(engines, "archive in a directory")
	}
	st.engines = strings.Join(engines, ", ") + "; namespace " + ns
	return st
}

// hosts returns the hosts of a URL or comma-separated list of URLs,
// without credentials.
func hosts(list string) string {
	var hs []string
	for raw := range strings.SplitSeq(list, ",") {
		if u, err := url.Parse(strings.TrimSpace(raw)); err == nil {
			hs = append(hs, u.Host)
		}
	}
	return strings.Join(hs, ",")
}

// result is what one setup measured.
type result struct {
	raw, collector   float64 // events/s
	fresh50, fresh99 time.Duration
	dash50, dash99   time.Duration
	bytesPerEvent    float64
	// With Redis, over the freshness phase: the processor's batches, the
	// round trips to Redis they took and their mean size in events.
	batches, commitTrips, batchEvents float64
}

// measure starts the server for st in dir and runs the phases.
func measure(bin, dir string, c config, st setup) (r result, err error) {
	args := []string{"--write-key", "bench", "--log-level", "error",
		"--collector-rate", "1000000", "--admin-token", "bench"}
	natsURL := st.natsURL
	if natsURL == "" {
		addr, err := server.FreeAddr()
		if err != nil {
			return r, err
		}
		args = append(args, "--nats-listen", addr, "--stream-sync", c.sync)
		natsURL = "nats://" + addr
	} else {
		args = append(args, "--nats-url", natsURL)
	}
	if st.namespace != "" {
		args = append(args, "--namespace", st.namespace)
	}
	if st.redisURL != "" {
		args = append(args, "--hot", st.redisURL, "--waitroom-secret", "the benchmark's waiting room secret, shared")
	}
	if st.archive != "" {
		args = append(args, "--archive", st.archive)
	}
	base, stop, err := server.StartOn(context.Background(), bin, filepath.Join(dir, "data"), args...)
	if err != nil {
		return r, err
	}
	defer stop()
	// The same stream as the server's: same URL, namespace and defaults.
	stream, err := natsstream.Open(context.Background(), natsstream.Options{URL: natsURL, Namespace: st.namespace})
	if err != nil {
		return r, err
	}
	defer func() {
		if st.namespace != "" {
			stop() // before its streams, keys and archive go
			err = errors.Join(err, cleanUp(stream, st))
		}
		err = errors.Join(err, stream.Close())
	}()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

	if r.raw, err = rawPublish(stream, c); err != nil {
		return r, fmt.Errorf("raw publish: %w", err)
	}
	fmt.Printf("raw JetStream publish to the server's stream: %.0f events/s\n", r.raw)
	if err := waitDrained(client, base, 2*time.Minute); err != nil {
		return r, err
	}

	var seq atomic.Int64
	lat, err := load.Closed(c.clients, c.duration, func(int) error {
		return send(client, base, batchBody(seq.Add(batchSize)))
	})
	if err != nil {
		return r, fmt.Errorf("collector: %w", err)
	}
	r.collector = float64(len(lat)*batchSize) / c.duration.Seconds()
	fmt.Printf("collector (durable ack): %.0f events/s = %.0f%% of the raw rate\n", r.collector, 100*r.collector/r.raw)

	if err := waitDrained(client, base, 2*time.Minute); err != nil {
		return r, err
	}
	before, err := metrics.Scrape(context.Background(), client, base)
	if err != nil {
		return r, err
	}
	watch := watchDashboard(base)
	loopStart := time.Now()
	// Batches start on schedule to make c.rate events per second.
	lat, late, err := load.Open(c.rate/batchSize, c.duration, func(i int) error {
		return send(client, base, batchBody(int64(1_000_000_000+i*batchSize)))
	})
	sent := int64(len(lat) * batchSize)
	loopEnd := time.Now()
	if err != nil {
		return r, fmt.Errorf("freshness: %w", err)
	}
	if err := waitCaughtUp(client, base, time.Minute); err != nil {
		return r, err
	}
	delays, updates := watch(loopStart, loopEnd)
	after, err := metrics.Scrape(context.Background(), client, base)
	if err != nil {
		return r, err
	}
	d := histogram(after, "souq_pipeline_processing_seconds").minus(histogram(before, "souq_pipeline_processing_seconds"))
	r.fresh50, r.fresh99 = d.quantile(0.5), d.quantile(0.99)
	fmt.Printf("freshness at %d events/s for %s (%d events, %d batches started late): receipt → aggregates p50 %s p99 %s (%.0f observed)\n",
		c.rate, c.duration, sent, late, r.fresh50, r.fresh99, d.count)
	r.dash50, r.dash99 = pctDur(delays, 0.50), pctDur(delays, 0.99)
	fmt.Printf("event → dashboard (server-sent updates, %d received): p50 %s p99 %s max %s\n",
		updates, r.dash50, r.dash99, pctDur(delays, 1))
	diff := func(name string) float64 { return after[name] - before[name] }
	if st.redisURL != "" {
		r.batches = diff("souq_pipeline_processor_batches_total")
		r.commitTrips = diff(`souq_redis_round_trips_total{op="commit"}`)
		if r.batches > 0 {
			r.batchEvents = (diff("souq_pipeline_events_applied_total") + diff("souq_pipeline_events_skipped_total")) / r.batches
		}
		fmt.Printf("Redis round trips in the freshness phase: %.0f commits for %.0f processor batches (%.2f per batch, %.0f events per batch); %.0f reads for %d dashboard updates\n",
			r.commitTrips, r.batches, r.commitTrips/math.Max(r.batches, 1), r.batchEvents, diff(`souq_redis_round_trips_total{op="read"}`), updates)
	}

	if r.bytesPerEvent, err = archived(client, base); err != nil {
		return r, err
	}
	return r, nil
}

// archived waits until the archive holds every event of the stream and
// returns its bytes per event.
func archived(client *http.Client, base string) (float64, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		m, err := metrics.Scrape(context.Background(), client, base)
		if err != nil {
			return 0, err
		}
		ev, held := m["souq_archive_events_total"], m["souq_stream_messages"]
		if ev > 0 && ev >= held {
			fmt.Printf("archive: %.0f events in %.0f files, %.1f bytes/event\n", ev, m["souq_archive_files_total"], m["souq_archive_bytes_total"]/ev)
			return m["souq_archive_bytes_total"] / ev, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("archive: %.0f of %.0f events after 2 minutes", ev, held)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// cleanUp deletes what the run left on shared engines: the namespace's
// streams, its Redis keys and its archive prefix.
func cleanUp(stream *natsstream.Stream, st setup) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var errs []error
	if st.natsURL != "" {
		errs = append(errs, stream.Delete(ctx))
	}
	if st.redisURL != "" {
		rs, err := redisstore.Open(ctx, st.redisURL, redisstore.Options{})
		if err == nil {
			err = errors.Join(rs.DeleteKeys(ctx, "*"+st.namespace+"*"), rs.Close())
		}
		errs = append(errs, err)
	}
	if st.archive != "" {
		b, err := s3blob.Open(ctx, st.archive)
		if err == nil {
			err = errors.Join(buckettest.Empty(ctx, b), b.Close())
		}
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clean up namespace %s: %w", st.namespace, err)
	}
	return nil
}

// printTable prints the setups' results side by side.
func printTable(setups []setup, rs []result) {
	fmt.Println()
	row := func(label string, cell func(r result) string) {
		fmt.Printf("%-38s", label)
		for _, r := range rs {
			fmt.Printf(" %18s", cell(r))
		}
		fmt.Println()
	}
	fmt.Printf("%-38s", "")
	for _, st := range setups {
		fmt.Printf(" %18s", st.name)
	}
	fmt.Println()
	row("raw publish (events/s)", func(r result) string { return fmt.Sprintf("%.0f", r.raw) })
	row("collector (events/s)", func(r result) string { return fmt.Sprintf("%.0f", r.collector) })
	row("collector / raw", func(r result) string { return fmt.Sprintf("%.0f%%", 100*r.collector/r.raw) })
	row("receipt → aggregates p50 / p99", func(r result) string { return fmt.Sprintf("%s / %s", r.fresh50, r.fresh99) })
	row("event → dashboard p50 / p99", func(r result) string { return fmt.Sprintf("%s / %s", r.dash50, r.dash99) })
	row("archive bytes/event", func(r result) string { return fmt.Sprintf("%.1f", r.bytesPerEvent) })
	row("Redis round trips per batch", func(r result) string {
		if r.batches == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f (%.0f ev)", r.commitTrips/r.batches, r.batchEvents)
	})
}

// rawPublish measures the acknowledged publish rate to the server's
// stream with the collector phase's events.
func rawPublish(s *natsstream.Stream, c config) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.duration)
	defer cancel()
	var (
		n, failed atomic.Int64
		seq       atomic.Int64
		wg        sync.WaitGroup
	)
	for range c.clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				evs := make([]souq.Event, batchSize)
				for i := range evs {
					evs[i] = event(seq.Add(1))
				}
				if errs, err := s.PublishEvents(context.Background(), evs); err == nil && errs == nil {
					n.Add(batchSize)
				} else {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		return 0, fmt.Errorf("%d batches were not acknowledged", f)
	}
	return float64(n.Load()) / c.duration.Seconds(), nil
}

var now = time.Now

func event(i int64) souq.Event {
	props := fmt.Sprintf(`{"product_id":"prd_%d","sku":"COSRX-%02d","name":"Snail Essence","brand":"COSRX","category":"skincare","price":89,"currency":"AED"}`, i%500, i%90)
	t := now().UTC()
	return souq.Event{MessageID: fmt.Sprintf("bench-%d-%d", t.UnixNano(), i), Type: "track", Event: "Product Viewed",
		Timestamp: t, ReceivedAt: t, AnonymousID: fmt.Sprintf("anon-%d", i%5000),
		Properties: json.RawMessage(props), Context: json.RawMessage(`{"market":"AE"}`)}
}

// batchBody is one /v1/batch request of batchSize Product Viewed events.
func batchBody(start int64) []byte {
	var b bytes.Buffer
	b.WriteString(`{"batch":[`)
	for i := range int64(batchSize) {
		if i > 0 {
			b.WriteByte(',')
		}
		k := start + i
		fmt.Fprintf(&b, `{"type":"track","event":"Product Viewed","messageId":"c-%d-%d","anonymousId":"anon-%d",`+
			`"properties":{"product_id":"prd_%d","sku":"COSRX-%02d","name":"Snail Essence","brand":"COSRX","category":"skincare","price":89,"currency":"AED"},`+
			`"context":{"market":"AE"}}`, now().UnixNano(), k, k%5000, k%500, k%90)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func send(client *http.Client, base string, body []byte) error {
	req, _ := http.NewRequest("POST", base+"/v1/batch", bytes.NewReader(body))
	req.SetBasicAuth("bench", "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("batch: status %d", resp.StatusCode)
	}
	return nil
}

// waitCaughtUp waits until the processor has no lag.
func waitCaughtUp(client *http.Client, base string, limit time.Duration) error {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		m, err := metrics.Scrape(context.Background(), client, base)
		if err != nil {
			return err
		}
		if m[`souq_pipeline_consumer_lag{consumer="processor"}`] == 0 {
			return nil
		}
	}
	return errors.New("processor did not catch up")
}

// waitDrained waits until the processor and the archiver have no lag, so
// the collector phase starts, as the raw one did, with no backlog.
func waitDrained(client *http.Client, base string, limit time.Duration) error {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		m, err := metrics.Scrape(context.Background(), client, base)
		if err != nil {
			return err
		}
		if m[`souq_pipeline_consumer_lag{consumer="processor"}`] == 0 && m[`souq_pipeline_consumer_lag{consumer="archiver"}`] == 0 {
			return nil
		}
	}
	return errors.New("processor and archiver did not catch up")
}

type hist struct {
	bounds []float64
	counts []float64 // cumulative, per bound
	count  float64
}

func histogram(m map[string]float64, name string) hist {
	var h hist
	prefix := name + `_bucket{le="`
	for k := range m {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		le := strings.TrimSuffix(strings.TrimPrefix(k, prefix), `"}`)
		b, err := strconv.ParseFloat(le, 64)
		if err != nil {
			b = math.Inf(1)
		}
		h.bounds = append(h.bounds, b)
	}
	sort.Float64s(h.bounds)
	for _, b := range h.bounds {
		le := strconv.FormatFloat(b, 'g', -1, 64)
		if math.IsInf(b, 1) {
			le = "+Inf"
		}
		h.counts = append(h.counts, m[prefix+le+`"}`])
	}
	h.count = m[name+"_count"]
	return h
}

func (h hist) minus(o hist) hist {
	d := hist{bounds: h.bounds, counts: make([]float64, len(h.counts)), count: h.count - o.count}
	for i := range h.counts {
		if i < len(o.counts) {
			d.counts[i] = h.counts[i] - o.counts[i]
		} else {
			d.counts[i] = h.counts[i]
		}
	}
	return d
}

// quantile interpolates within the bucket holding q, as Prometheus's
// histogram_quantile does.
func (h hist) quantile(q float64) time.Duration {
	if h.count == 0 {
		return 0
	}
	rank := q * h.count
	lower, below := 0.0, 0.0
	for i, b := range h.bounds {
		if h.counts[i] >= rank {
			if math.IsInf(b, 1) {
				return time.Duration(lower * float64(time.Second))
			}
			frac := (rank - below) / math.Max(h.counts[i]-below, 1)
			return time.Duration((lower + frac*(b-lower)) * float64(time.Second)).Round(time.Millisecond)
		}
		lower, below = b, h.counts[i]
	}
	return 0
}

// watchDashboard follows /dashboard/events until the returned function is
// called, and then returns how long after its receipt each event was first
// shown: an update that arrives at a with watermark w (the newest receipt
// counted) first shows every event received after the previous update's
// watermark and up to w, each after a − its receipt time; receipt times are
// sampled every millisecond within [from, to], when events were being sent.
func watchDashboard(base string) func(from, to time.Time) ([]time.Duration, int) {
	ctx, cancel := context.WithCancel(context.Background())
	type shown struct{ from, to, at time.Time }
	var (
		mu      sync.Mutex
		spans   []shown
		updates int
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/dashboard/events", nil)
		req.Header.Set("Authorization", "Bearer bench")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 4<<20), 4<<20)
		var prev time.Time
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			arrived := time.Now()
			var u struct {
				Snapshot struct {
					Watermark time.Time `json:"watermark"`
				} `json:"snapshot"`
			}
			if json.Unmarshal([]byte(data), &u) != nil || u.Snapshot.Watermark.IsZero() {
				continue
			}
			w := u.Snapshot.Watermark
			mu.Lock()
			updates++
			if !prev.IsZero() && w.After(prev) {
				spans = append(spans, shown{prev, w, arrived})
			}
			mu.Unlock()
			if w.After(prev) {
				prev = w
			}
		}
	}()
	return func(from, to time.Time) ([]time.Duration, int) {
		time.Sleep(2 * time.Second) // the last events reach the dashboard
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		var delays []time.Duration
		for _, s := range spans {
			for t := s.from.Add(time.Millisecond); !t.After(s.to); t = t.Add(time.Millisecond) {
				if !t.Before(from) && !t.After(to) {
					delays = append(delays, s.at.Sub(t))
				}
			}
		}
		return delays, updates
	}
}

func pctDur(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)].Round(time.Millisecond)
}

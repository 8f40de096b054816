// Command pipeline benchmarks the event pipeline through the real binary:
//
//   - raw: the publish rate (batches of 100, acknowledged) straight to the
//     server's embedded JetStream, over a NATS connection from this process;
//   - collector: events/s through POST /v1/batch (batches of 100), each 200
//     meaning every event is acknowledged by the stream;
//   - freshness: at a fixed event rate, the time from an event's receipt to
//     its being visible in the aggregates (the server's
//     souq_pipeline_processing_seconds histogram over the phase);
//   - archive: Parquet bytes per event once the archive has caught up.
//
// The raw and collector phases are measured the same way: from this
// process, against the same server and stream (its processor and archiver
// consuming as in production), with the same events, clients and batches,
// each starting once the processor has caught up.
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
	"net"
	"net/http"
	"os"
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
	"github.com/souq-commerce/souq/internal/natsstream"
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
}

const batchSize = 100

func run() error {
	var c config
	flag.StringVar(&c.sync, "sync", "1s", `stream sync: "always" or an interval`)
	flag.IntVar(&c.clients, "clients", 8, "concurrent senders in the throughput phases")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "length of each phase")
	flag.IntVar(&c.rate, "rate", 10000, "events per second in the freshness phase")
	flag.Parse()
	if c.rate < batchSize {
		return fmt.Errorf("-rate must be at least %d events/s (one batch a second)", batchSize)
	}

	dir, err := os.MkdirTemp("", "souq-bench-pipeline-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Printf("pipeline benchmark: stream sync %s, %d CPUs, batches of %d events\n", c.sync, runtime.NumCPU(), batchSize)

	natsAddr, err := freeAddr()
	if err != nil {
		return err
	}
	base, stop, err := server.Start(dir, "--write-key", "bench", "--stream-sync", c.sync, "--log-level", "error",
		"--collector-rate", "1000000", "--admin-token", "bench", "--nats-listen", natsAddr)
	if err != nil {
		return err
	}
	defer stop()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

	raw, err := rawPublish("nats://"+natsAddr, c)
	if err != nil {
		return fmt.Errorf("raw publish: %w", err)
	}
	fmt.Printf("raw JetStream publish to the server's stream: %.0f events/s\n", raw)
	if err := waitDrained(client, base, time.Minute); err != nil {
		return err
	}

	var seq atomic.Int64
	lat, err := load.Closed(c.clients, c.duration, func(int) error {
		return send(client, base, batchBody(seq.Add(batchSize)))
	})
	if err != nil {
		return fmt.Errorf("collector: %w", err)
	}
	rate := float64(len(lat)*batchSize) / c.duration.Seconds()
	fmt.Printf("collector (durable ack): %.0f events/s = %.0f%% of the raw rate\n", rate, 100*rate/raw)

	if err := waitCaughtUp(client, base, time.Minute); err != nil {
		return err
	}
	before, err := histogram(client, base, "souq_pipeline_processing_seconds")
	if err != nil {
		return err
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
		return fmt.Errorf("freshness: %w", err)
	}
	if err := waitCaughtUp(client, base, time.Minute); err != nil {
		return err
	}
	after, err := histogram(client, base, "souq_pipeline_processing_seconds")
	if err != nil {
		return err
	}
	d := after.minus(before)
	fmt.Printf("freshness at %d events/s for %s (%d events, %d batches started late): receipt → aggregates p50 %s p99 %s (%.0f observed)\n",
		c.rate, c.duration, sent, late, d.quantile(0.5), d.quantile(0.99), d.count)
	delays, updates := watch(loopStart, loopEnd)
	fmt.Printf("event → dashboard (server-sent updates, %d received): p50 %s p99 %s max %s\n",
		updates, pctDur(delays, 0.50), pctDur(delays, 0.99), pctDur(delays, 1))

	// Archive bytes per event: let the archiver flush, then read its counters.
	time.Sleep(12 * time.Second)
	m, err := metrics.Scrape(context.Background(), client, base)
	if err != nil {
		return err
	}
	if ev := m["souq_archive_events_total"]; ev > 0 {
		fmt.Printf("archive: %.0f events in %.0f files, %.1f bytes/event\n", ev, m["souq_archive_files_total"], m["souq_archive_bytes_total"]/ev)
	}
	return nil
}

// rawPublish measures the acknowledged publish rate to the stream at url
// (the server's own, with its settings) with the collector phase's events.
func rawPublish(url string, c config) (float64, error) {
	s, err := natsstream.Open(context.Background(), natsstream.Options{URL: url})
	if err != nil {
		return 0, err
	}
	defer s.Close()
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
				if _, err := s.PublishBatch(context.Background(), evs); err == nil {
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

// freeAddr returns a loopback address with a free port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
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

func histogram(client *http.Client, base, name string) (hist, error) {
	m, err := metrics.Scrape(context.Background(), client, base)
	if err != nil {
		return hist{}, err
	}
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
	return h, nil
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

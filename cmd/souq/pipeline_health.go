package main

// What the event pipeline reports: its health for the dashboard and
// /readyz, the stream's and archive's figures behind it, and its metrics.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/dashboard"
	"github.com/souq-commerce/souq/internal/redisstore"
	"github.com/souq-commerce/souq/internal/relay"
)

// healthTTL is how long Health reuses the stream's and consumers' figures:
// reading them takes four round trips to the stream server, and the
// dashboard asks four times a second.
const healthTTL = time.Second

// archiveCheckTTL is how long Health reuses its measure of the archive's
// manifests: measuring lists them all, which takes about 20 ms for a day of
// 10 s batches and 190 ms for a week (BenchmarkIndexCoverage), too much to
// repeat every second.
const archiveCheckTTL = 10 * time.Second

// streamFigures are what Health reads from the stream server.
type streamFigures struct {
	msgs, deadLetters, lastSeq uint64
	procLag                    uint64
}

// archiveCheck is the archive's coverage as its manifests state it, or why
// they could not be read.
type archiveCheck struct {
	cov archive.Coverage
	err error
}

// cached reuses what read returns for ttl from the start of the read that
// returned it; callers arriving during a read wait for it. Errors are not
// kept.
type cached[T any] struct {
	ttl  time.Duration
	read func(context.Context) (T, error)
	now  func() time.Time

	mu sync.Mutex // guards the fields below; held while reading
	at time.Time
	v  T
}

func (c *cached[T]) get(ctx context.Context) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	start := c.now()
	if !c.at.IsZero() && start.Sub(c.at) < c.ttl {
		return c.v, nil
	}
	v, err := c.read(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	c.at, c.v = start, v
	return v, nil
}

// registerRoleMetrics exports souq_role{role="…"} 1 for each role this
// process runs, and whether it holds the archiver lease.
func registerRoleMetrics(reg prometheus.Registerer, rs roles, e *events) {
	for _, t := range roleTable {
		if rs[t.name] {
			g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "souq_role", Help: "The roles this process runs: 1 for each.",
				ConstLabels: prometheus.Labels{"role": string(t.name)}})
			g.Set(1)
			reg.MustRegister(g)
		}
	}
	if e.arch != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "souq_archiver_leader",
			Help: "1 while this replica holds the archiver lease and archives; 0 while it stands by."},
			func() float64 {
				if e.leading.Load() {
					return 1
				}
				return 0
			}))
	}
}

// registerRedisMetrics exports the requests this process has sent to
// Redis, by what they were for: with souq_pipeline_processor_batches_total,
// the round trips per batch the processor commits.
func registerRedisMetrics(reg prometheus.Registerer, st *redisstore.Store) {
	counter := func(op string, v func(redisstore.RoundTrips) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "souq_redis_round_trips_total",
			Help:        "Requests sent to Redis, a pipeline counting once, by what they were for: commit (the processor's batches), read (the dashboard, readiness) or limit (the collectors' rate limit).",
			ConstLabels: prometheus.Labels{"op": op}},
			func() float64 { return float64(v(st.RoundTrips())) })
	}
	reg.MustRegister(
		counter("commit", func(r redisstore.RoundTrips) uint64 { return r.Commit }),
		counter("read", func(r redisstore.RoundTrips) uint64 { return r.Read }),
		counter("limit", func(r redisstore.RoundTrips) uint64 { return r.Limit }),
	)
}

// registerRelayMetrics exports the outbox relay's counters.
func registerRelayMetrics(reg prometheus.Registerer, r *relay.Relay, now func() time.Time) {
	counter := func(name, help string, v func(relay.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v(r.Stats())) })
	}
	reg.MustRegister(
		counter("souq_relay_published_total", "Outbox events published to the stream.", func(s relay.Stats) uint64 { return s.Published }),
		counter("souq_relay_duplicates_total", "Outbox events the stream already had (republished after a crash).", func(s relay.Stats) uint64 { return s.Duplicates }),
		counter("souq_relay_dead_letters_total", "Outbox events that could not be published and were dead-lettered.", func(s relay.Stats) uint64 { return s.DeadLetters }),
		counter("souq_relay_failures_total", "Relay passes that failed and were retried.", func(s relay.Stats) uint64 { return s.Failures }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "souq_outbox_oldest_pending_age_seconds",
			Help: "Age of the oldest committed outbox event not yet published, as this relay last saw it (0: none, or another replica's relay holds the turn)."},
			func() float64 {
				if t := r.OldestPending(); !t.IsZero() {
					return max(0, now().Sub(t).Seconds())
				}
				return 0
			}),
	)
}

// Health reports the pipeline's state for the dashboard. The stream's and
// consumers' figures are at most healthTTL old, the archive's coverage at
// most archiveCheckTTL; the rest is current. Sequences the archive's
// manifests lack are errors, whatever the lag.
func (e *events) Health(ctx context.Context) (dashboard.PipelineHealth, error) {
	f, chk, lastArchived, err := e.archiveFigures(ctx)
	if err != nil {
		return dashboard.PipelineHealth{}, err
	}
	progress, err := e.hot.Progress(ctx)
	if err != nil {
		return dashboard.PipelineHealth{}, err
	}
	h := dashboard.PipelineHealth{StreamMessages: f.msgs, StreamLag: f.procLag,
		ArchiveLag: f.lastSeq - min(f.lastSeq, lastArchived), ArchiveMissing: chk.cov.Lost(),
		ArchiveFiles: chk.cov.Files, DeadLetters: f.deadLetters, LastArchivedSeq: lastArchived,
		IngestPerSecond: e.ingest(f.lastSeq), Status: "ok"}
	h.Errors = archiveErrors(chk, f.lastSeq)
	if len(h.Errors) > 0 {
		h.Status = "error"
	}
	if !progress.Watermark.IsZero() && f.procLag == 0 {
		h.ProcessingDelay = max(0, time.Since(progress.Watermark))
	}
	return h, nil
}

// archiveFigures reads the stream's figures and the archive's coverage,
// and the last archived sequence: the archiver's, which is current, or the
// manifests', when they are ahead.
func (e *events) archiveFigures(ctx context.Context) (f streamFigures, chk archiveCheck, lastArchived uint64, err error) {
	if f, err = e.figures.get(ctx); err != nil {
		return f, chk, 0, err
	}
	chk, _ = e.coverage.get(ctx)
	last := chk.cov.LastSeq
	if e.arch != nil {
		last = max(last, e.arch.Stats().LastSeq)
	}
	return f, chk, last, nil
}

// archiveErrors describes what is wrong with the archive, for a person;
// streamLast is the stream's last sequence.
func archiveErrors(chk archiveCheck, streamLast uint64) []string {
	if chk.err != nil {
		return []string{"the archive's manifests cannot be read: " + chk.err.Error()}
	}
	cov := chk.cov
	var errs []string
	if n := cov.Lost(); n > 0 {
		var why []string
		for _, r := range cov.Holes {
			why = append(why, fmt.Sprintf("no batch holds sequences %d–%d", r.First, r.Last))
		}
		for _, r := range cov.Short {
			why = append(why, fmt.Sprintf("batch %d–%d does not hold its whole range", r.First, r.Last))
		}
		if cov.Missing > 0 {
			why = append(why, fmt.Sprintf("%d expired from the stream before they were archived", cov.Missing))
		}
		errs = append(errs, fmt.Sprintf("%d events up to sequence %d are missing from the archive: %s",
			n, cov.LastSeq, strings.Join(why, "; ")))
	}
	if len(cov.Overlapping) > 0 {
		errs = append(errs, fmt.Sprintf("%d archive batches overlap earlier ones (first: %d–%d)",
			len(cov.Overlapping), cov.Overlapping[0].First, cov.Overlapping[0].Last))
	}
	if cov.LastSeq > streamLast {
		errs = append(errs, fmt.Sprintf("the archive holds sequences up to %d but the stream only up to %d: it belongs to another stream",
			cov.LastSeq, streamLast))
	}
	return errs
}

// readFigures reads the stream's and consumers' figures.
func (e *events) readFigures(ctx context.Context) (streamFigures, error) {
	info, err := e.stream.Info(ctx)
	if err != nil {
		return streamFigures{}, err
	}
	f := streamFigures{msgs: info.Msgs, deadLetters: info.DeadLetters, lastSeq: info.LastSeq}
	if e.procC != nil { // nil in a process running neither the api nor the processor
		if f.procLag, err = e.procC.Pending(ctx); err != nil {
			return streamFigures{}, err
		}
	}
	return f, nil
}

// registerArchiveMetrics exports what Health finds in the archive.
func registerArchiveMetrics(reg prometheus.Registerer, e *events) {
	gauge := func(name, help string, v func(f streamFigures, cov archive.Coverage, lastArchived uint64) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			f, chk, lastArchived, err := e.archiveFigures(ctx)
			if err != nil || chk.err != nil {
				return -1
			}
			return v(f, chk.cov, lastArchived)
		})
	}
	reg.MustRegister(
		gauge("souq_archive_missing_sequences", "Stream sequences up to the last archived one that the archive's manifests do not account for (-1 when unknown); anything above 0 is lost data.",
			func(_ streamFigures, cov archive.Coverage, _ uint64) float64 { return float64(cov.Lost()) }),
		gauge("souq_archive_last_sequence", "Highest stream sequence committed to the archive (-1 when unknown).",
			func(_ streamFigures, _ archive.Coverage, last uint64) float64 { return float64(last) }),
		gauge("souq_archive_lag_sequences", "Stream sequences after the last archived one (-1 when unknown).",
			func(f streamFigures, _ archive.Coverage, last uint64) float64 {
				return float64(f.lastSeq - min(f.lastSeq, last))
			}),
	)
}

// ingest is the stream's append rate, from the change in its last sequence
// since the previous sample at least a second old.
func (e *events) ingest(lastSeq uint64) float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	if el := now.Sub(e.sampleAt); el >= time.Second {
		if !e.sampleAt.IsZero() && lastSeq >= e.sampleSeq {
			e.ingestRate = float64(lastSeq-e.sampleSeq) / el.Seconds()
		}
		e.sampleSeq, e.sampleAt = lastSeq, now
	}
	return e.ingestRate
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/dashboard"
	"github.com/souq-commerce/souq/internal/fileblob"
	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/pipeline"
	"github.com/souq-commerce/souq/internal/redisstore"
	"github.com/souq-commerce/souq/internal/relay"
	"github.com/souq-commerce/souq/internal/s3blob"
	"github.com/souq-commerce/souq/internal/souq"
)

// dashboardInterval is how often the dashboard pushes new figures, and how
// long one computation of them is shared: a quarter second keeps what the
// dashboard shows within a second of the events (docs/benchmarks.md).
const dashboardInterval = 250 * time.Millisecond

// events is the event pipeline as this process's roles use it: the
// stream always; the outbox relay, processor and archiver when their
// roles run here; the hot store when the api or processor role runs; the
// archive when the api (for health) or archiver role runs.
type events struct {
	roles     roles
	stream    *natsstream.Stream
	bucket    archive.Bucket // nil unless needed
	archURL   string         // where the archive is, for people
	closeArch func() error
	index     *archive.Index // the archive's manifests, for health
	relay     *relay.Relay   // nil unless the relay runs here

	hot       analytics.HotStore
	hotShared bool         // Redis: shared by every replica
	closeHot  func() error // nil for the in-process store
	redis     *redisstore.Store
	// limiter is the collectors' rate limit shared through Redis; nil
	// without --hot, when each collector limits alone.
	limiter *redisstore.Limiter
	reader  *analytics.Reader
	agg     *analytics.Aggregator // nil unless the processor runs here
	proc    *pipeline.Processor
	arch    *pipeline.Archiver
	leading atomic.Bool // this replica holds the archiver lease
	// procC is the processor's consumer (this process's, or the shared
	// durable bound to read its lag); nil until opened.
	procC *natsstream.Consumer
	// replayTo is the stream's last sequence when a processor with an
	// in-process store started: it is not ready until it has applied that
	// far (0: ready at once).
	replayTo uint64

	// outcomes reads the checkout outcomes of every api replica (in
	// Redis with --hot, else this process's); nil unless the api role
	// runs here (openOutcomes).
	outcomes outcomes.Reader

	// coverage is what the archive's manifests account for, measured at
	// most once per archiveCheckTTL.
	coverage *cached[archiveCheck]
	// figures are the stream's and consumers' figures Health shows, read
	// at most once per healthTTL.
	figures *cached[streamFigures]

	mu         sync.Mutex // guards the ingest-rate sample
	sampleSeq  uint64
	sampleAt   time.Time
	ingestRate float64
}

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

// streamSync reads --stream-sync: "always", or a flush interval.
func streamSync(v string) (always bool, interval time.Duration, err error) {
	if v == "always" {
		return true, 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return false, 0, fmt.Errorf("%w: --stream-sync must be \"always\" or a positive duration such as 1s, not %q", errUsage, v)
	}
	return false, d, nil
}

// archiveDir resolves --archive when it is a directory or a file:// URL;
// the default is <data>/archive. ok is false for an s3:// URL.
func archiveDir(c serveConfig) (dir string, ok bool, err error) {
	switch a := c.archive; {
	case a == "":
		return filepath.Join(c.data, "archive"), true, nil
	case strings.HasPrefix(a, "file://"):
		return strings.TrimPrefix(a, "file://"), true, nil
	case strings.HasPrefix(a, "s3://"):
		return "", false, nil
	case strings.Contains(a, "://"):
		return "", false, fmt.Errorf("%w: --archive %q: unsupported scheme; use a directory, file:///path or s3://bucket?region=…", errUsage, a)
	default:
		return a, true, nil
	}
}

// openArchive opens the archive's bucket: a directory (created unless
// existing is set, when it must be there already) or S3.
func openArchive(ctx context.Context, c serveConfig, existing bool) (b archive.Bucket, where string, closeFn func() error, err error) {
	dir, local, err := archiveDir(c)
	if err != nil {
		return nil, "", nil, err
	}
	if !local {
		s, err := s3blob.Open(ctx, c.archive)
		if errors.Is(err, s3blob.ErrInvalidURL) {
			return nil, "", nil, fmt.Errorf("%w: --archive: %v", errUsage, err)
		} else if err != nil {
			return nil, "", nil, fmt.Errorf("open archive: %w", err)
		}
		return s, c.archive, s.Close, nil
	}
	if existing {
		if err := mustExist("archive", dir, "--data or --archive"); err != nil {
			return nil, "", nil, err
		}
	} else if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, "", nil, fmt.Errorf("create archive directory: %w", err)
	}
	d, err := fileblob.Open(dir)
	if err != nil {
		return nil, "", nil, fmt.Errorf("open archive: %w", err)
	}
	return d, d.Root(), func() error { return nil }, nil
}

// openHot opens the hot store: Redis when --hot is set, else in process.
func (e *events) openHot(ctx context.Context, c serveConfig, log *slog.Logger) error {
	if c.hot == "" {
		e.hot = analytics.NewMemStore()
		return nil
	}
	st, err := redisstore.Open(ctx, c.hot, redisstore.Options{Prefix: redisPrefix(c, "an"), Logger: log})
	if err != nil {
		return fmt.Errorf("open hot store: %w", err)
	}
	e.hot, e.hotShared, e.closeHot, e.redis = st, true, st.Close, st
	return nil
}

// openOutcomes returns the api role's checkout outcomes recorder, flushing
// to Redis (shared by every api replica) with --hot, else in process, and
// sets e.outcomes to read what it stores. Its Run is the caller's to start.
func (e *events) openOutcomes(c serveConfig, now func() time.Time, log *slog.Logger) *outcomes.Recorder {
	var st outcomes.Store = outcomes.NewMemStore(now)
	if e.redis != nil {
		st = redisstore.NewOutcomes(e.redis, redisPrefix(c, "oc"))
	}
	e.outcomes = st
	return outcomes.NewRecorder(st, outcomes.Options{Now: now, Logger: log})
}

// redisPrefix starts the Redis keys of one use ("an": the aggregates,
// "rl": the collectors' rate limit, "oc": the checkout outcomes), in the
// namespace when there is one.
func redisPrefix(c serveConfig, use string) string {
	if c.namespace == "" {
		return "souq:" + use
	}
	return "souq:" + c.namespace + ":" + use
}

// openEvents opens the stream and what the roles of c need of the
// pipeline, and builds the relay, processor and archiver that run here.
func openEvents(ctx context.Context, c serveConfig, rs roles, db relay.Outbox, now func() time.Time, log *slog.Logger) (_ *events, err error) {
	always, interval, err := streamSync(c.streamSync)
	if err != nil {
		return nil, err
	}
	stream, err := natsstream.Open(ctx, natsstream.Options{
		URL: c.natsURL, StoreDir: filepath.Join(c.data, "stream"), Listen: c.natsListen,
		MaxAge: c.streamMaxAge, MaxBytes: c.streamMaxBytes, SyncAlways: always, SyncInterval: interval,
		Namespace: c.namespace, Replicas: c.streamReplicas, CredsFile: c.natsCreds, RootCAs: nonEmpty(c.natsCA), ClientCert: c.natsCert, ClientKey: c.natsKey,
		Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("open stream: %w", err)
	}
	e := &events{roles: rs, stream: stream}
	defer func() {
		if err != nil {
			err = errors.Join(err, e.close())
		}
	}()
	if rs.needs("archive") {
		if e.bucket, e.archURL, e.closeArch, err = openArchive(ctx, c, false); err != nil {
			return nil, err
		}
		// The archive's exactly-once rule rests on create-only writes.
		if rs[roleArchiver] {
			if err := archive.CheckCreateOnly(ctx, e.bucket); err != nil {
				return nil, fmt.Errorf("archive %s: %w", e.archURL, err)
			}
		}
		e.index = archive.NewIndex(e.bucket)
		e.coverage = &cached[archiveCheck]{ttl: archiveCheckTTL, now: time.Now,
			read: func(ctx context.Context) (archiveCheck, error) { // an error is kept, as a finding
				cov, err := e.index.Coverage(ctx)
				return archiveCheck{cov, err}, nil
			}}
	}
	if rs.needs("hot store") {
		if err := e.openHot(ctx, c, log); err != nil {
			return nil, err
		}
		cfg := analytics.Config{SnapshotTTL: dashboardInterval, Logger: log.With("component", "analytics")}
		if e.bucket != nil { // the dashboard compares with last week from the archive when the hot store no longer holds it
			h := newArchiveHistory(e.bucket, cfg)
			h.now = now
			cfg.History = h
		}
		if e.reader, err = analytics.NewReader(e.hot, cfg); err != nil {
			return nil, err
		}
	}
	if rs[roleCollector] && c.hot != "" {
		if e.hot == nil {
			if err := e.openHot(ctx, c, log); err != nil {
				return nil, err
			}
		}
		if e.limiter, err = redisstore.NewLimiter(e.redis, c.collectorRate, collectorBurst(c), redisPrefix(c, "rl")); err != nil {
			return nil, err
		}
	}
	if rs[roleProcessor] {
		if err := e.openProcessor(ctx, log); err != nil {
			return nil, err
		}
	} else if rs[roleAPI] {
		// The lag the dashboard shows is the shared processor's.
		if e.procC, err = stream.Consumer(ctx, processorDurable); err != nil {
			return nil, err
		}
	}
	e.figures = &cached[streamFigures]{ttl: healthTTL, read: e.readFigures, now: time.Now}
	if rs[roleRelay] {
		e.relay = relay.New(db, stream, relay.Options{Interval: 50 * time.Millisecond, Now: now, Logger: log})
	}
	if rs[roleArchiver] {
		e.arch = pipeline.NewArchiver(pipeline.Durable(stream, "archiver"),
			archive.New(e.bucket, archive.Options{MaxAge: c.archiveMaxAge, MaxRows: c.archiveMaxRows, Now: now}), stream, log)
	}
	return e, nil
}

// processorDurable is the durable consumer processor replicas share when
// the hot store is shared.
const processorDurable = "processor"

// openProcessor builds the processor. With Redis, every replica shares
// the durable consumer, and the store's per-event markers make an event
// delivered twice count once. With the in-process store, the aggregates
// live in this process only: it reads the whole stream through a
// consumer of its own, and /readyz waits until it has caught up with the
// stream as it was at start.
func (e *events) openProcessor(ctx context.Context, log *slog.Logger) (err error) {
	// An Aggregator's own cached Snapshots are right only while it writes
	// alone to its store; the dashboard reads through e.reader.
	if e.agg, err = analytics.New(ctx, e.hot, analytics.Config{}); err != nil {
		return err
	}
	if e.hotShared {
		e.procC, err = e.stream.Consumer(ctx, processorDurable)
	} else {
		info, ierr := e.stream.Info(ctx)
		if ierr != nil {
			return ierr
		}
		e.replayTo = info.LastSeq
		e.procC, err = e.stream.Ephemeral(ctx, "processor-mem")
	}
	if err != nil {
		return err
	}
	e.proc = pipeline.NewProcessor(e.procC, e.agg, e.stream, log)
	return nil
}

// close closes what openEvents opened.
func (e *events) close() error {
	var errs []error
	if e.closeHot != nil {
		errs = append(errs, e.closeHot())
	}
	if e.closeArch != nil {
		errs = append(errs, e.closeArch())
	}
	errs = append(errs, e.stream.Close())
	return errors.Join(errs...)
}

// run starts the relay, processor and archiver that run here; each stops
// when ctx ends, and wg is done when all have returned. The archiver runs
// in one replica at a time, under the stream's archiver lease.
func (e *events) run(ctx context.Context, wg *sync.WaitGroup, log *slog.Logger) {
	start := func(name string, fn func(context.Context) error) {
		wg.Go(func() {
			if err := fn(ctx); err != nil {
				log.Error("pipeline component stopped", "component", name, "err", err)
			}
		})
	}
	if e.relay != nil {
		start("relay", e.relay.Run)
	}
	if e.proc != nil {
		start("processor", e.proc.Run)
	}
	if e.arch != nil {
		start("archiver", func(ctx context.Context) error {
			return e.stream.Lead(ctx, "archiver", func(ctx context.Context) {
				e.leading.Store(true)
				defer e.leading.Store(false)
				if err := e.arch.Run(ctx); err != nil {
					log.Error("archiver stopped", "err", err)
				}
			})
		})
	}
}

// ready checks what the roles here depend on, for /readyz.
func (e *events) ready(ctx context.Context) error {
	if err := e.stream.Ready(ctx); err != nil {
		return err
	}
	if p, ok := e.hot.(interface{ Ping(context.Context) error }); ok {
		if err := p.Ping(ctx); err != nil {
			return fmt.Errorf("hot store: %w", err)
		}
	}
	if e.proc != nil && e.replayTo > 0 && e.proc.Stats().LastSeq < e.replayTo {
		return fmt.Errorf("the processor is rebuilding the aggregates from the stream: at %d of %d",
			e.proc.Stats().LastSeq, e.replayTo)
	}
	return nil
}

// publisher adapts the stream to the collector's Publisher and DeadLetters.
type publisher struct{ s *natsstream.Stream }

func (p publisher) PublishBatch(ctx context.Context, evs []souq.Event) ([]error, error) {
	return p.s.PublishEvents(ctx, evs)
}

func (p publisher) DeadLetter(ctx context.Context, reason string, raw []byte) error {
	return p.s.DeadLetter(ctx, "collector", raw, reason)
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

// productNames gives the dashboard product names from the catalog.
type productNames struct{ cat *catalog.Service }

func (p productNames) ProductName(ctx context.Context, id string) (souq.Localized, bool) {
	prod, err := p.cat.Product(ctx, id)
	return prod.Name, err == nil
}

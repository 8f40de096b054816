package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/dashboard"
	"github.com/souq-commerce/souq/internal/fileblob"
	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/pipeline"
	"github.com/souq-commerce/souq/internal/relay"
	"github.com/souq-commerce/souq/internal/souq"
)

// dashboardInterval is how often the dashboard pushes new figures, and how
// long one computation of them is shared: a quarter second keeps what the
// dashboard shows within a second of the events (docs/benchmarks.md).
const dashboardInterval = 250 * time.Millisecond

// events is the running event pipeline: the stream, the outbox relay, the
// processor feeding the aggregates and the archiver.
type events struct {
	stream   *natsstream.Stream
	bucket   *fileblob.Dir
	index    *archive.Index // the archive's manifests, for health
	relay    *relay.Relay
	store    *analytics.MemStore
	agg      *analytics.Aggregator
	proc     *pipeline.Processor
	arch     *pipeline.Archiver
	procC    *natsstream.Consumer
	archPath string

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

// archiveDir resolves --archive: a directory path or a file:// URL; the
// default is <data>/archive. s3:// comes with the S3 adapter.
func archiveDir(c serveConfig) (string, error) {
	switch a := c.archive; {
	case a == "":
		return filepath.Join(c.data, "archive"), nil
	case strings.HasPrefix(a, "file://"):
		return strings.TrimPrefix(a, "file://"), nil
	case strings.Contains(a, "://"):
		return "", fmt.Errorf("%w: --archive %q: unsupported scheme; use a directory or file:///path", errUsage, a)
	default:
		return a, nil
	}
}

// openEvents opens the stream and the archive and builds the consumers.
func openEvents(ctx context.Context, c serveConfig, db relay.Outbox, now func() time.Time, log *slog.Logger) (*events, error) {
	always, interval, err := streamSync(c.streamSync)
	if err != nil {
		return nil, err
	}
	archPath, err := archiveDir(c)
	if err != nil {
		return nil, err
	}
	stream, err := natsstream.Open(ctx, natsstream.Options{
		URL: c.natsURL, StoreDir: filepath.Join(c.data, "stream"), Listen: c.natsListen,
		MaxAge: c.streamMaxAge, MaxBytes: c.streamMaxBytes, SyncAlways: always, SyncInterval: interval, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("open stream: %w", err)
	}
	e := &events{stream: stream, archPath: archPath}
	fail := func(err error) (*events, error) {
		stream.Close()
		return nil, err
	}
	if err := os.MkdirAll(archPath, 0o750); err != nil {
		return fail(fmt.Errorf("create archive directory: %w", err))
	}
	if e.bucket, err = fileblob.Open(archPath); err != nil {
		return fail(fmt.Errorf("open archive: %w", err))
	}
	e.index = archive.NewIndex(e.bucket)
	e.store = analytics.NewMemStore()
	if e.agg, err = analytics.New(ctx, e.store, analytics.Config{SnapshotTTL: dashboardInterval}); err != nil {
		return fail(err)
	}
	// The aggregates live in memory: rebuild them from the whole stream.
	pc, err := stream.ConsumerFrom(ctx, "processor", 1)
	if err != nil {
		return fail(err)
	}
	e.procC = pc
	e.figures = &cached[streamFigures]{ttl: healthTTL, read: e.readFigures, now: time.Now}
	e.coverage = &cached[archiveCheck]{ttl: archiveCheckTTL, now: time.Now,
		read: func(ctx context.Context) (archiveCheck, error) { // an error is kept, as a finding
			cov, err := e.index.Coverage(ctx)
			return archiveCheck{cov, err}, nil
		}}
	e.relay = relay.New(db, stream, relay.Options{Interval: 50 * time.Millisecond, Now: now, Logger: log})
	e.proc = pipeline.NewProcessor(pc, e.agg, stream, log)
	e.arch = pipeline.NewArchiver(pipeline.Durable(stream, "archiver"), archive.New(e.bucket, archive.Options{MaxAge: c.archiveMaxAge, MaxRows: c.archiveMaxRows, Now: now}), stream, log)
	return e, nil
}

// run starts the relay, processor and archiver; each stops when ctx ends,
// and wg is done when all have returned.
func (e *events) run(ctx context.Context, wg *sync.WaitGroup, log *slog.Logger) {
	for name, fn := range map[string]func(context.Context) error{
		"relay": e.relay.Run, "processor": e.proc.Run, "archiver": e.arch.Run,
	} {
		wg.Go(func() {
			if err := fn(ctx); err != nil {
				log.Error("pipeline component stopped", "component", name, "err", err)
			}
		})
	}
}

// publisher adapts the stream to the collector's Publisher and DeadLetters.
type publisher struct{ s *natsstream.Stream }

func (p publisher) PublishBatch(ctx context.Context, evs []souq.Event) ([]error, error) {
	res, err := p.s.PublishBatch(ctx, evs)
	if err == nil {
		return nil, nil
	}
	if len(res) != len(evs) {
		return nil, err
	}
	errs := make([]error, len(res))
	for i, r := range res {
		errs[i] = r.Err
	}
	return errs, nil
}

func (p publisher) DeadLetter(ctx context.Context, reason string, raw []byte) error {
	return p.s.DeadLetter(ctx, "collector", raw, reason)
}

// registerRelayMetrics exports the outbox relay's counters.
func registerRelayMetrics(reg prometheus.Registerer, r *relay.Relay) {
	counter := func(name, help string, v func(relay.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v(r.Stats())) })
	}
	reg.MustRegister(
		counter("souq_relay_published_total", "Outbox events published to the stream.", func(s relay.Stats) uint64 { return s.Published }),
		counter("souq_relay_duplicates_total", "Outbox events the stream already had (republished after a crash).", func(s relay.Stats) uint64 { return s.Duplicates }),
		counter("souq_relay_dead_letters_total", "Outbox events that could not be published and were dead-lettered.", func(s relay.Stats) uint64 { return s.DeadLetters }),
		counter("souq_relay_failures_total", "Relay passes that failed and were retried.", func(s relay.Stats) uint64 { return s.Failures }),
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
	progress, err := e.store.Progress(ctx)
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
	return f, chk, max(e.arch.Stats().LastSeq, chk.cov.LastSeq), nil
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
	procLag, err := e.procC.Pending(ctx)
	if err != nil {
		return streamFigures{}, err
	}
	return streamFigures{msgs: info.Msgs, deadLetters: info.DeadLetters, lastSeq: info.LastSeq, procLag: procLag}, nil
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

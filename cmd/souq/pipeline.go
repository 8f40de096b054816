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

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/catalog"
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

// productNames gives the dashboard product names from the catalog.
type productNames struct{ cat *catalog.Service }

func (p productNames) ProductName(ctx context.Context, id string) (souq.Localized, bool) {
	prod, err := p.cat.Product(ctx, id)
	return prod.Name, err == nil
}

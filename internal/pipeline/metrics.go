package pipeline

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/natsstream"
)

// lagTimeout bounds the consumer-info calls made while /metrics is scraped.
const lagTimeout = 2 * time.Second

// RegisterMetrics exports the pipeline's figures on reg: those of the
// processor, the archiver and the stream. It must be called before the
// processor runs.
func RegisterMetrics(reg prometheus.Registerer, proc *Processor, arch *Archiver, stream *natsstream.Stream) {
	RegisterProcessorMetrics(reg, proc)
	RegisterArchiverMetrics(reg, arch)
	RegisterStreamMetrics(reg, stream)
}

// pendingGauge reads a consumer's lag, -1 when unknown.
func pendingGauge(c interface {
	Pending(context.Context) (uint64, error)
}) func() float64 {
	return func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), lagTimeout)
		defer cancel()
		n, err := c.Pending(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}
}

// RegisterProcessorMetrics exports the processor's figures: its consumer's
// lag, processing latency (receipt → visible in the aggregates) and the
// events applied and skipped. It must be called before the processor runs.
func RegisterProcessorMetrics(reg prometheus.Registerer, proc *Processor) {
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "souq_pipeline_processing_seconds",
		Help:    "Time from an event's receipt by Souq to its being visible in the aggregates.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
	proc.latency = func(d time.Duration) { latency.Observe(d.Seconds()) }
	reg.MustRegister(
		latency,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "souq_pipeline_consumer_lag",
			Help: "Messages not yet acknowledged by a consumer (-1 when unknown).", ConstLabels: prometheus.Labels{"consumer": "processor"}},
			pendingGauge(proc.consumer)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "souq_pipeline_events_applied_total",
			Help: "Events applied to the aggregates."}, func() float64 { return float64(proc.Stats().Applied) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "souq_pipeline_events_skipped_total",
			Help: "Events that left the aggregates unchanged: delivered again, or of a kind they do not count."}, func() float64 { return float64(proc.Stats().Duplicates) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "souq_pipeline_processor_batches_total",
			Help: "Fetches of events the processor applied, each in one call to the hot store."}, func() float64 { return float64(proc.Stats().Batches) }),
	)
}

// RegisterArchiverMetrics exports the archiver's figures: its consumer's
// lag (-1 in a replica waiting for the archiver lease), the events, files
// and bytes archived, and the gaps and missing sequences it met.
func RegisterArchiverMetrics(reg prometheus.Registerer, arch *Archiver) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "souq_pipeline_consumer_lag",
			Help: "Messages not yet acknowledged by a consumer (-1 when unknown).", ConstLabels: prometheus.Labels{"consumer": "archiver"}},
			pendingGauge(arch)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "souq_archive_events_total",
			Help: "Events written to the archive."}, func() float64 { return float64(arch.Stats().Archived) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "souq_archive_files_total",
			Help: "Archive files written."}, func() float64 { return float64(arch.Stats().Files) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "souq_archive_bytes_total",
			Help: "Bytes of archive files written."}, func() float64 { return float64(arch.Stats().Bytes) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "souq_archive_gaps_total",
			Help: "Lost deliveries the archiver noticed (a sequence skipped) and read again from the stream."}, func() float64 { return float64(arch.Stats().Gaps) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "souq_archive_missing_total",
			Help: "Sequences the stream no longer held when the archiver reached them: events lost to the archive."}, func() float64 { return float64(arch.Stats().Missing) }),
	)
}

// RegisterStreamMetrics exports the stream's size and dead letters.
func RegisterStreamMetrics(reg prometheus.Registerer, stream *natsstream.Stream) {
	info := func(pick func(natsstream.Info) uint64) func() float64 {
		return func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), lagTimeout)
			defer cancel()
			i, err := stream.Info(ctx)
			if err != nil {
				return -1
			}
			return float64(pick(i))
		}
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "souq_stream_messages",
			Help: "Events held by the stream (-1 when unknown)."}, info(func(i natsstream.Info) uint64 { return i.Msgs })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "souq_stream_bytes",
			Help: "Bytes held by the stream (-1 when unknown)."}, info(func(i natsstream.Info) uint64 { return i.Bytes })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "souq_dead_letters",
			Help: "Rejected events kept in the dead-letter stream (-1 when unknown)."}, info(func(i natsstream.Info) uint64 { return i.DeadLetters })),
	)
}

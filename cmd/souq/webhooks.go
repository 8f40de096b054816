package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/webhook"
)

// webhooksDurable is the durable consumer webhook replicas share.
const webhooksDurable = "webhooks"

// webhookConfig is the webhooks role's settings.
type webhookConfig struct {
	stockLow int
	timeout  time.Duration
}

func (h *webhookConfig) flags(fs *flag.FlagSet) {
	fs.IntVar(&h.stockLow, "stock-low", webhook.DefaultStockLow, "stock `level` at or under which an order sends stock.low webhooks (once until the stock rises above it again)")
	fs.DurationVar(&h.timeout, "webhook-timeout", webhook.DefaultTimeout, "longest one webhook attempt may take (connect, send, status)")
}

func (h webhookConfig) problems() []string {
	var problems []string
	if h.stockLow < 0 {
		problems = append(problems, "--stock-low must not be negative")
	}
	if h.timeout < time.Second || h.timeout > time.Minute {
		problems = append(problems, fmt.Sprintf("--webhook-timeout must be between 1s and 1m, not %s", h.timeout))
	}
	return problems
}

// webhooks is the webhooks role as it runs here: the feed reading the
// stream's order events into deliveries, and the worker sending them.
type webhooks struct {
	feed     *webhook.Feed
	worker   *webhook.Worker
	consumer *natsstream.Consumer // the feed's, for its lag
}

// openWebhooks builds the webhooks role on db and the stream's shared
// durable consumer: every replica's feed shares it, and their workers
// share the deliveries through the database.
func openWebhooks(ctx context.Context, c serveConfig, db *openedDB, stream *natsstream.Stream, now func() time.Time, log *slog.Logger) (*webhooks, error) {
	consumer, err := stream.Consumer(ctx, webhooksDurable)
	if err != nil {
		return nil, err
	}
	client := webhook.NewClient(c.hooks.timeout)
	return &webhooks{
		feed:     webhook.NewFeed(streamSource{consumer, log}, db, db, c.hooks.stockLow, log),
		worker:   webhook.NewWorker(db, webhook.WorkerOptions{Client: client, Now: now, Logger: log}),
		consumer: consumer,
	}, nil
}

// run starts the feed and the worker, each in a goroutine of wg that
// returns when ctx ends.
func (h *webhooks) run(ctx context.Context, wg *sync.WaitGroup, log *slog.Logger) {
	for name, fn := range map[string]func(context.Context) error{"webhook feed": h.feed.Run, "webhook worker": h.worker.Run} {
		wg.Go(func() {
			if err := fn(ctx); err != nil {
				log.Error("stopped", "component", name, "err", err)
			}
		})
	}
}

// streamSource adapts the stream's durable consumer to webhook.Source.
type streamSource struct {
	c   *natsstream.Consumer
	log *slog.Logger
}

// Next takes what is pending, or waits up to a second for the next
// message. Messages that are not events are skipped here (the processor
// dead-letters them) and acknowledged with the rest.
func (s streamSource) Next(ctx context.Context) ([]souq.Event, func(context.Context) error, error) {
	msgs, err := s.c.Fetch(ctx, 200, 0)
	if err == nil && len(msgs) == 0 {
		msgs, err = s.c.Fetch(ctx, 1, time.Second)
	}
	if err != nil {
		return nil, nil, err
	}
	evs := make([]souq.Event, 0, len(msgs))
	for _, m := range msgs {
		if ev, err := m.Event(); err == nil {
			evs = append(evs, ev)
		}
	}
	return evs, func(ctx context.Context) error { return s.c.AckBatch(ctx, msgs) }, nil
}

// registerWebhookMetrics exports the feed's lag on the stream, the
// worker's attempts by outcome and the deliveries waiting, read from the
// database at most every healthTTL.
func registerWebhookMetrics(reg prometheus.Registerer, h *webhooks, store webhook.Store, now func() time.Time) {
	outcome := func(name string, v func(webhook.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "souq_webhook_deliveries_total",
			Help:        "Webhook attempts by this process, by outcome: delivered (2xx), retry (failed, another attempt scheduled) or failed (failed for 24 hours, given up).",
			ConstLabels: prometheus.Labels{"outcome": name}},
			func() float64 { return float64(v(h.worker.Stats())) })
	}
	type pending struct {
		n      int
		oldest time.Time
	}
	read := &cached[pending]{ttl: healthTTL, now: time.Now, read: func(ctx context.Context) (pending, error) {
		n, oldest, err := store.PendingWebhookDeliveries(ctx)
		return pending{n, oldest}, err
	}}
	gauge := func(name, help string, v func(pending) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			p, err := read.get(ctx)
			if err != nil {
				return -1
			}
			return v(p)
		})
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "souq_pipeline_consumer_lag",
			Help: "Messages not yet acknowledged by a consumer (-1 when unknown).", ConstLabels: prometheus.Labels{"consumer": webhooksDurable}},
			func() float64 {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				n, err := h.consumer.Pending(ctx)
				if err != nil {
					return -1
				}
				return float64(n)
			}),
		outcome("delivered", func(s webhook.Stats) uint64 { return s.Delivered }),
		outcome("retry", func(s webhook.Stats) uint64 { return s.Retried }),
		outcome("failed", func(s webhook.Stats) uint64 { return s.Failed }),
		gauge("souq_webhook_pending_deliveries", "Webhook deliveries not yet delivered nor given up, over every replica (-1 when unknown).",
			func(p pending) float64 { return float64(p.n) }),
		gauge("souq_webhook_oldest_pending_age_seconds", "Age of the event of the oldest pending webhook delivery (0: none; -1 when unknown).",
			func(p pending) float64 {
				if p.oldest.IsZero() {
					return 0
				}
				return max(0, now().Sub(p.oldest).Seconds())
			}),
	)
}

package dashboard

import (
	"context"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// The war room's seams: what its panels read. Each is optional; without
// it its panel is null in Update and its endpoint answers 503 "this
// server does not report …".

// AudienceSource gives the distinct-visitor figures. *analytics.Reader
// satisfies it.
type AudienceSource interface {
	Audience(ctx context.Context, now time.Time) (analytics.AudienceFigures, error)
}

// CompareSource gives today's headline figures against yesterday and last
// week. *analytics.Reader satisfies it.
type CompareSource interface {
	Compare(ctx context.Context, now time.Time) (analytics.Comparisons, error)
}

// ProductSource gives per-product counters over a period.
// *analytics.Reader satisfies it.
type ProductSource interface {
	Products(ctx context.Context, q analytics.ProductQuery) ([]analytics.ProductRow, error)
}

// Catalog is what the panels read from the shop's store: products (names,
// brands, categories, prices), live stock and the sales. *catalog.Service
// satisfies it; its product reads are cached (catalog's productTTL), its
// stock reads are not.
type Catalog interface {
	Product(ctx context.Context, idOrSlug string) (souq.Product, error)
	Offer(ctx context.Context, p souq.Product, m souq.Market) (catalog.Offer, error)
	Stocks(ctx context.Context, ids []souq.ID) (map[souq.ID]int, error)
	LowStock(ctx context.Context, atMost, limit int) ([]catalog.StockLevel, error)
	// SalesEndingAfter returns the sales ending after t (ended since t,
	// running or scheduled), ordered by start.
	SalesEndingAfter(ctx context.Context, t time.Time) ([]souq.Sale, error)
}

// AlertConfig holds the alert thresholds. A zero field takes its default
// (see DefaultAlertConfig); rates are fractions (0.05 = 5%).
type AlertConfig struct {
	// CheckoutErrorRate raises "checkout_errors" when the checkouts that
	// failed on the server's side (5xx) reach this share of the checkouts
	// checkout answered over Window — orders, refusals for stock,
	// declined payments and errors; not the waiting room's refusals nor
	// invalid requests (outcomes.Counts.Attempted) — (default 0.05), once
	// there were at least MinCheckouts of them (default 20).
	CheckoutErrorRate float64
	MinCheckouts      int64
	// OutOfStockPerMinute raises "out_of_stock" when checkouts and adds to
	// cart refused for stock average this many a minute over Window
	// (default 10).
	OutOfStockPerMinute float64
	// CancellationsPerMinute raises "cancellations" when orders cancelled
	// over Window average this many a minute (default 5), or
	// CancellationShare of the orders of those minutes (default 0.2,
	// judged from 20 orders on).
	CancellationsPerMinute float64
	CancellationShare      float64
	// ZeroResultShare raises "zero_result_searches" when this share of the
	// searches over Window found nothing (default 0.3), once there were
	// at least MinSearches of them (default 20).
	ZeroResultShare float64
	MinSearches     int64
	// PipelineLagSeconds raises "pipeline_lag" when the aggregates are this
	// many seconds behind (processing delay; default 30).
	PipelineLagSeconds float64
	// LowStock is the low-stock threshold: at or under it a product is
	// low (default 5, as webhook.DefaultStockLow).
	LowStock int
	// Window is the span of complete minutes (the filling one left out)
	// every rate above is taken over: checkout errors, refusals for
	// stock, cancellations and searches that found nothing (default 5
	// minutes).
	Window time.Duration
	// ClearAfter is how long a raised alert's value must stay under
	// ClearRatio × its threshold before it clears (defaults 30 s and
	// 0.8): the hysteresis that keeps an alert from flapping.
	ClearAfter time.Duration
	ClearRatio float64
}

// DefaultAlertConfig returns the defaults documented on AlertConfig.
func DefaultAlertConfig() AlertConfig {
	return AlertConfig{
		CheckoutErrorRate: 0.05, MinCheckouts: 20,
		OutOfStockPerMinute:    10,
		CancellationsPerMinute: 5, CancellationShare: 0.2,
		ZeroResultShare: 0.3, MinSearches: 20,
		PipelineLagSeconds: 30,
		LowStock:           5,
		Window:             5 * time.Minute,
		ClearAfter:         30 * time.Second,
		ClearRatio:         0.8,
	}
}

// withDefaults fills the zero fields of c from DefaultAlertConfig.
func (c AlertConfig) withDefaults() AlertConfig {
	d := DefaultAlertConfig()
	setF := func(v *float64, def float64) {
		if *v <= 0 {
			*v = def
		}
	}
	setF(&c.CheckoutErrorRate, d.CheckoutErrorRate)
	setF(&c.OutOfStockPerMinute, d.OutOfStockPerMinute)
	setF(&c.CancellationsPerMinute, d.CancellationsPerMinute)
	setF(&c.CancellationShare, d.CancellationShare)
	setF(&c.ZeroResultShare, d.ZeroResultShare)
	setF(&c.PipelineLagSeconds, d.PipelineLagSeconds)
	setF(&c.ClearRatio, d.ClearRatio)
	if c.MinCheckouts <= 0 {
		c.MinCheckouts = d.MinCheckouts
	}
	if c.MinSearches <= 0 {
		c.MinSearches = d.MinSearches
	}
	if c.LowStock <= 0 {
		c.LowStock = d.LowStock
	}
	if c.Window < time.Minute {
		c.Window = d.Window
	}
	if c.ClearAfter <= 0 {
		c.ClearAfter = d.ClearAfter
	}
	return c
}

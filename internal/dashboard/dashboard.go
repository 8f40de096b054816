package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/souq"
)

// Source gives the dashboard's figures as of now. *analytics.Reader and
// *analytics.Aggregator satisfy it; configure them with a SnapshotTTL of
// about Deps.Interval so that the page, the stream and the JSON asking in
// the same second share one computation.
type Source interface {
	Snapshot(ctx context.Context, now time.Time) (analytics.Snapshot, error)
}

// Health reports how the event pipeline is keeping up.
type Health interface {
	Health(ctx context.Context) (PipelineHealth, error)
}

// ProductNames looks up a product's name in the catalogue; ok is false for
// an unknown id. The trending lists carry product ids only.
type ProductNames interface {
	ProductName(ctx context.Context, id string) (name souq.Localized, ok bool)
}

// PipelineHealth is how the event pipeline is keeping up. In JSON,
// ProcessingDelay is "processing_delay_seconds".
type PipelineHealth struct {
	// IngestPerSecond is the rate at which events are appended to the
	// stream, averaged over a recent window.
	IngestPerSecond float64 `json:"ingest_per_second"`
	// StreamMessages is the number of messages the events stream holds.
	StreamMessages uint64 `json:"stream_messages"`
	// StreamLag is the processor's pending messages: not yet delivered
	// plus delivered and not yet acknowledged.
	StreamLag uint64 `json:"stream_lag"`
	// ArchiveLag is the number of stream sequences after the last one
	// archived: the stream's last sequence less LastArchivedSeq.
	ArchiveLag uint64 `json:"archive_lag"`
	// ArchiveMissing is the number of stream sequences up to
	// LastArchivedSeq that the archive does not hold (in no batch, in a
	// batch that falls short of its range, or listed missing because the
	// stream no longer had them). Anything but 0 is an error.
	ArchiveMissing uint64 `json:"archive_missing"`
	// Status is "ok", or "error" when Errors says what is wrong.
	Status string `json:"status"`
	// Errors describes what is wrong, for a person: events missing from
	// the archive, an archive ahead of the stream.
	Errors []string `json:"errors,omitempty"`
	// ArchiveFiles is the number of Parquet files written.
	ArchiveFiles int `json:"archive_files"`
	// DeadLetters is the number of messages in the dead-letter stream.
	DeadLetters uint64 `json:"dead_letters"`
	// LastArchivedSeq is the highest stream sequence archived.
	LastArchivedSeq uint64 `json:"last_archived_seq"`
	// ProcessingDelay is now less the processor's watermark: how far
	// behind the aggregates are.
	ProcessingDelay time.Duration `json:"-"`
}

type plainHealth PipelineHealth

type healthJSON struct {
	plainHealth
	ProcessingDelaySeconds float64 `json:"processing_delay_seconds"`
}

// MarshalJSON writes ProcessingDelay in seconds.
func (h PipelineHealth) MarshalJSON() ([]byte, error) {
	return json.Marshal(healthJSON{plainHealth(h), h.ProcessingDelay.Seconds()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (h *PipelineHealth) UnmarshalJSON(b []byte) error {
	var j healthJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*h = PipelineHealth(j.plainHealth)
	h.ProcessingDelay = time.Duration(j.ProcessingDelaySeconds * float64(time.Second))
	return nil
}

// Update is what the page shows: the data of each "snapshot" event.
type Update struct {
	Snapshot analytics.Snapshot `json:"snapshot"`
	// Health is null when no Health was given or it failed.
	Health *PipelineHealth `json:"health"`
	// Names maps the ids of the trending products to their names; ids the
	// catalogue does not know are left out.
	Names map[string]souq.Localized `json:"names"`

	// The war room's panels (panels.go); each is null or empty when its
	// source is not configured or failed this time.
	Audience *analytics.AudienceFigures `json:"audience"`
	Compare  *analytics.Comparisons     `json:"compare"`
	Sale     *SalePanel                 `json:"sale"`
	Stock    *StockPanel                `json:"stock"`
	// Products are the product table's rows over the last hour in every
	// market, by revenue (the table filters through
	// /api/v1/analytics/products).
	Products []ProductTableRow `json:"products"`
	// Alerts are the alerts active now.
	Alerts []Alert `json:"alerts"`
}

// Deps are what the dashboard reads from.
type Deps struct {
	Source   Source       // required
	Health   Health       // optional: without it the health panel says "unavailable"
	Products ProductNames // optional: without it products show by id
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives failures to read the figures (default: discarded).
	Log *slog.Logger
	// Interval is how often the stream pushes an update (default 1 s).
	Interval time.Duration
	// Location is the time zone the page shows times in (default Gulf
	// Standard Time). It should have a fixed offset, as every Gulf zone
	// has: the script applies the offset the page was rendered with.
	Location *time.Location
	// Authorize reports whether a request may see the dashboard and its
	// JSON; nil lets everyone in. TokenAuth.Authorize is one.
	Authorize func(*http.Request) bool
	// Login, when set, serves POST /dashboard/login and the 401 page
	// offers its form (TokenAuth is one).
	Login http.Handler

	// The war room's sources (deps.go), each optional: without one its
	// panel is null and its endpoint answers 503.
	Audience AudienceSource // visitors, conversion, order value
	Compare  CompareSource  // today against yesterday and last week
	// ProductFigures gives the per-product counters of the sale panel,
	// the stock watch list and the product table.
	ProductFigures ProductSource
	// Catalog gives names, prices, live stock and the sales; the sale,
	// stock and product panels need it.
	Catalog Catalog
	// Outcomes gives the checkout outcomes the checkout-error and
	// out-of-stock alerts are judged from.
	Outcomes outcomes.Reader
	// Alerts holds the alert thresholds and the low-stock level (zero
	// fields take DefaultAlertConfig's values).
	Alerts AlertConfig
}

// Dashboard serves the live dashboard. Its methods are safe for
// concurrent use.
type Dashboard struct {
	src       Source
	health    Health
	products  ProductNames
	now       func() time.Time
	log       *slog.Logger
	interval  time.Duration
	loc       *time.Location
	authorize func(*http.Request) bool
	login     http.Handler
	heartbeat time.Duration // comment line on an idle stream

	audience AudienceSource
	compare  CompareSource
	figures  ProductSource
	catalog  Catalog
	outcomes outcomes.Reader
	alertCfg AlertConfig

	caches panelCaches
	alerts *alertBook
	shared sharedUpdates // the last update, for requests (shared.go)

	hub *hub

	// closing ends the streams and the broadcaster; ctx is cancelled with
	// it so a snapshot in progress stops too.
	ctx       context.Context
	cancel    context.CancelFunc
	closing   chan struct{}
	closeOnce sync.Once

	// Failures are logged when they start and when they end, not at every
	// tick.
	sourceFailing, healthFailing                                                     atomic.Bool
	audienceFailing, compareFailing, figuresFailing, catalogFailing, outcomesFailing atomic.Bool
}

// DefaultInterval is how often the stream pushes an update when
// Deps.Interval is not set.
const DefaultInterval = time.Second

// Limits of the event stream.
const (
	defaultHeartbeat = 15 * time.Second
	// writeWindow is how long one write to a stream may take before the
	// client is dropped; each write moves the deadline this far ahead.
	writeWindow = 10 * time.Second
	// computeTimeout bounds one snapshot computation.
	computeTimeout = 10 * time.Second
)

// New returns a dashboard over d. It panics without a Source.
func New(d Deps) *Dashboard {
	if d.Source == nil {
		panic("dashboard: Deps.Source is required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Interval <= 0 {
		d.Interval = DefaultInterval
	}
	if d.Location == nil {
		d.Location = analytics.GulfStandardTime
	}
	ctx, cancel := context.WithCancel(context.Background())
	db := &Dashboard{
		src: d.Source, health: d.Health, products: d.Products,
		now: d.Now, log: d.Log.With("component", "dashboard"), interval: d.Interval, loc: d.Location,
		authorize: d.Authorize, login: d.Login, heartbeat: defaultHeartbeat,
		ctx: ctx, cancel: cancel, closing: make(chan struct{}),
		audience: d.Audience, compare: d.Compare, figures: d.ProductFigures, catalog: d.Catalog,
		outcomes: d.Outcomes, alertCfg: d.Alerts.withDefaults(), alerts: newAlertBook(),
	}
	db.hub = newHub(db)
	return db
}

// Route is one pattern of the dashboard's HTTP surface and its handler.
type Route struct {
	Pattern string // a net/http.ServeMux pattern, method included
	Handler http.Handler
}

// Routes lists the dashboard's HTTP surface, to be added to the server's
// mux (behind its security headers).
func (d *Dashboard) Routes() []Route {
	routes := []Route{
		{"GET /dashboard", d.guardPage(d.handlePage())},
		{"GET /dashboard/static/{file}", handleStatic()},
		{"GET /dashboard/events", d.guard(d.handleEvents())},

		{"GET /api/v1/analytics/snapshot", d.guard(d.handleSnapshot())},
		{"GET /api/v1/analytics/health", d.guard(d.handleHealth())},
		{"GET /api/v1/analytics/trending", d.guard(d.handleTrending())},
		{"GET /api/v1/analytics/markets", d.guard(d.handleMarkets())},
		{"GET /api/v1/analytics/funnel", d.guard(d.handleFunnel())},
		{"GET /api/v1/analytics/audience", d.guard(d.handleAudience())},
		{"GET /api/v1/analytics/compare", d.guard(d.handleCompare())},
		{"GET /api/v1/analytics/sale", d.guard(d.handleSale())},
		{"GET /api/v1/analytics/stock", d.guard(d.handleStock())},
		{"GET /api/v1/analytics/products", d.guard(d.handleProducts())},
		{"GET /api/v1/analytics/alerts", d.guard(d.handleAlerts())},
	}
	if d.login != nil {
		routes = append(routes, Route{"POST /dashboard/login", d.login})
	}
	return routes
}

// Close ends every open event stream and stops the broadcaster, waiting
// for it. Call it before or while the HTTP server shuts down
// (srv.RegisterOnShutdown(d.Close)); streams opened afterwards are
// refused with 503.
func (d *Dashboard) Close() {
	d.closeOnce.Do(func() {
		close(d.closing)
		d.cancel()
	})
	d.hub.close()
}

// update computes what the page shows now: the snapshot, the pipeline
// health and the war room's panels (panels.go), then judges the alerts
// from them. A panel whose source is missing or failed is null; only a
// failed snapshot fails the update.
func (d *Dashboard) update(ctx context.Context) (Update, error) {
	now := d.now()
	snap, err := d.snapshot(ctx)
	if err != nil {
		return Update{}, err
	}
	u := Update{Snapshot: snap, Names: d.names(ctx, snap.Trending)}
	if h, ok := d.pipelineHealth(ctx); ok {
		u.Health = &h
	}
	u.Audience = d.audienceFigures(ctx, now)
	u.Compare = d.comparisons(ctx, now)
	hour := d.hourRows(ctx, now)
	u.Sale = d.salePanel(ctx, now)
	u.Products = d.topProducts(ctx, hour)
	u.Stock = d.stockPanel(ctx, now, hour, u.Sale)
	u.Alerts = d.judgeAlerts(ctx, now, &u)
	d.shared.note(u, now)
	return u, nil
}

func (d *Dashboard) snapshot(ctx context.Context) (analytics.Snapshot, error) {
	snap, err := d.src.Snapshot(ctx, d.now())
	d.noteFailure(&d.sourceFailing, "analytics snapshot", err)
	if err != nil {
		return analytics.Snapshot{}, fmt.Errorf("dashboard: snapshot: %w", err)
	}
	return snap, nil
}

func (d *Dashboard) pipelineHealth(ctx context.Context) (PipelineHealth, bool) {
	if d.health == nil {
		return PipelineHealth{}, false
	}
	h, err := d.health.Health(ctx)
	d.noteFailure(&d.healthFailing, "pipeline health", err)
	return h, err == nil
}

// noteFailure logs err when a run of failures of what starts, and the
// recovery when it ends.
func (d *Dashboard) noteFailure(failing *atomic.Bool, what string, err error) {
	switch {
	case errors.Is(err, context.Canceled):
		// the client left or the dashboard is closing: nothing to report
	case err != nil && !failing.Swap(true):
		d.log.Warn(what+" failed; the dashboard shows it as unavailable until it recovers", "err", err)
	case err == nil && failing.Swap(false):
		d.log.Info(what + " recovered")
	}
}

// names looks up the names of the products in lists, each once.
func (d *Dashboard) names(ctx context.Context, lists []analytics.Trending) map[string]souq.Localized {
	names := map[string]souq.Localized{}
	if d.products == nil {
		return names
	}
	seen := map[string]bool{}
	for _, t := range lists {
		for _, p := range t.Products {
			if seen[p.ProductID] {
				continue
			}
			seen[p.ProductID] = true
			if n, ok := d.products.ProductName(ctx, p.ProductID); ok {
				names[p.ProductID] = n
			}
		}
	}
	return names
}

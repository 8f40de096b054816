package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/attribute"

	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/collector"
	"github.com/souq-commerce/souq/internal/dashboard"
	"github.com/souq-commerce/souq/internal/delivery"
	"github.com/souq-commerce/souq/internal/demo"
	"github.com/souq-commerce/souq/internal/forwarded"
	"github.com/souq-commerce/souq/internal/httpapi"
	"github.com/souq-commerce/souq/internal/media"
	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/overload"
	"github.com/souq-commerce/souq/internal/pipeline"
	"github.com/souq-commerce/souq/internal/relay"
	"github.com/souq-commerce/souq/internal/shopper"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storefront"
	"github.com/souq-commerce/souq/internal/tracing"
	"github.com/souq-commerce/souq/internal/waitroom"
	"github.com/souq-commerce/souq/internal/webhook"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := parseServe(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log, err := newLogger(c, stderr)
	if err != nil {
		return err
	}
	rs := c.roles
	log = log.With("roles", rs.String())
	stopTracing, err := tracing.Setup(ctx, tracing.Config{Endpoint: c.otlpEndpoint, Getenv: getenv, SampleRatio: c.traceSample,
		Service: "souq", Version: versionString(), Attributes: []attribute.KeyValue{attribute.String("souq.roles", rs.String())}})
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := stopTracing(ctx); err != nil {
			log.Warn("flush traces", "err", err)
		}
	}()
	if tracing.Enabled() {
		log.Info("tracing on: spans exported over OTLP/HTTP", "endpoint", cmp.Or(c.otlpEndpoint, "from OTEL_EXPORTER_OTLP_*"), "sample_ratio", c.traceSample)
	}
	var db *openedDB
	if rs.needs("database") {
		if db, err = openDatabase(ctx, dbConfig{data: c.data, url: c.database, sqliteSync: c.sqliteSync, pg: c.pg.options()}, log); err != nil {
			return err
		}
		defer func() {
			if err := db.close(); err != nil {
				log.Error("close database", "err", err)
			}
		}()
	}

	now := serveClock(getenv, log) // time.Now unless a fault-injection test offsets it (clock.go)
	var (
		cat        *catalog.Service
		carts      *cart.Service
		orders     *checkout.Service
		deliveries *delivery.Service
		adminToken string
		generated  bool
	)
	if rs[roleAPI] {
		cat = catalog.New(db, now, log)
		carts = cart.New(db, cat, now, log)
		pay, err := payments(c, log)
		if err != nil {
			return err
		}
		orders = checkout.New(db, cat, carts, pay, now, log)
		deliveries = delivery.New(db, now)
		orders.SetDelivery(deliveries)
		// Keys left in flight by a previous process that stopped mid-request
		// are free again at once when this is the only process on the
		// database (SQLite). Replicas sharing PostgreSQL cannot tell a dead
		// replica's claim from a live one's this way: there a claim is taken
		// over once it is checkout.KeyStaleAfter old.
		if !db.shared {
			if n, err := orders.ReleaseDeadClaims(ctx); err != nil {
				return err
			} else if n > 0 {
				log.Info("released idempotency keys left in flight by the previous process", "count", n)
			}
		}
		adminToken = c.adminToken
		if c.demo {
			res, err := demo.Seed(ctx, cat, now(), log)
			if err != nil {
				return fmt.Errorf("load demo data: %w", err)
			}
			log.Info("demo data ready", "products_created", res.ProductsCreated)
			if err := demo.SeedDelivery(ctx, deliveries); err != nil {
				return fmt.Errorf("load demo delivery settings: %w", err)
			}
			if adminToken == "" {
				adminToken, generated = souq.NewToken(), true
			}
		}
	}

	writeKey, generatedKey := c.writeKey, false
	if c.demo && writeKey == "" {
		writeKey, generatedKey = souq.NewToken()[:24], true
	}
	var outbox relay.Outbox
	if db != nil {
		outbox = db
	}
	ev, err := openEvents(ctx, c, rs, outbox, now, log)
	if err != nil {
		return err
	}
	if db != nil && db.shared && c.natsURL == "" {
		log.Warn("PostgreSQL with the embedded stream: replicas of this database each publish to their own stream " +
			"and each dashboard shows a part of the shop; give every replica the same --nats-url")
	}
	defer func() {
		if err := ev.close(); err != nil {
			log.Error("close the pipeline's connections", "err", err)
		}
	}()

	var draining atomic.Bool
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	pipeline.RegisterStreamMetrics(reg, ev.stream)
	if ev.proc != nil {
		pipeline.RegisterProcessorMetrics(reg, ev.proc)
	}
	if ev.arch != nil {
		pipeline.RegisterArchiverMetrics(reg, ev.arch)
	}
	if ev.relay != nil {
		registerRelayMetrics(reg, ev.relay, now)
	}
	if ev.coverage != nil {
		registerArchiveMetrics(reg, ev)
	}
	registerRoleMetrics(reg, rs, ev)
	var hooks *webhooks
	if rs[roleWebhooks] {
		if hooks, err = openWebhooks(ctx, c, db, ev.stream, now, log); err != nil {
			return err
		}
		registerWebhookMetrics(reg, hooks, db, now)
	}
	var hookAdmin *webhook.Service
	if rs[roleAPI] {
		hookAdmin = webhook.NewService(db, now)
	}
	// Checkout outcomes: checkout and carts count how they answer; rec.Run
	// (started with the background work below) flushes the counts once a
	// second to the store ev.outcomes reads, and once more as it stops,
	// after the HTTP server has drained.
	var rec *outcomes.Recorder
	if rs[roleAPI] {
		rec = ev.openOutcomes(c, now, log)
		orders.SetOutcomes(rec)
		carts.SetOutcomes(rec)
	}
	if ev.redis != nil {
		registerRedisMetrics(reg, ev.redis)
	}
	var (
		extra      []httpapi.Route
		onShutdown []func()
		room       *waitroom.Room
	)
	if rs[roleCollector] {
		cd := collector.Deps{Publisher: publisher{ev.stream}, DeadLetters: publisher{ev.stream},
			WriteKeys: nonEmpty(writeKey), Now: now, Log: log, Registry: reg, RatePerSecond: c.collectorRate, Burst: collectorBurst(c)}
		if ev.limiter != nil { // with --hot, one limit over every collector replica
			cd.Limiter = ev.limiter
		}
		coll := collector.New(cd)
		for _, rt := range coll.Routes() {
			extra = append(extra, httpapi.Route{Pattern: rt.Pattern, Handler: rt.Handler})
		}
	}
	var photos *media.Library // product photos live beside the archive
	if rs[roleAPI] && ev.bucket != nil {
		photos = media.NewLibrary(ev.bucket)
	}
	if rs[roleAPI] {
		if room, err = openRoom(c, cat, ev.redis, reg, log); err != nil {
			return err
		}
		dd := dashboard.Deps{Source: ev.reader, Health: ev, Products: productNames{cat}, Now: now, Log: log, Interval: dashboardInterval,
			Audience: ev.reader, Compare: ev.reader, ProductFigures: ev.reader, Catalog: cat, Outcomes: ev.outcomes, Alerts: c.alerts}
		if !(c.demo && loopback(c.addr)) { // with --demo on localhost the dashboard is open
			auth := dashboard.NewTokenAuth(adminToken)
			dd.Authorize, dd.Login = auth.Authorize, auth
		}
		dash := dashboard.New(dd)
		defer dash.Close()
		onShutdown = append(onShutdown, dash.Close) // Shutdown does not end open event streams itself
		for _, rt := range dash.Routes() {
			extra = append(extra, httpapi.Route{Pattern: rt.Pattern, Handler: rt.Handler})
		}
		// The shop's web site serves / and /ar/, /en/; with --demo, analytics
		// consent defaults to yes (see docs/storefront.md).
		shop, err := storefront.New(storefront.Deps{Catalog: cat, Carts: carts, Checkout: orders, Room: room,
			WriteKey: writeKey, ConsentByDefault: c.demo, Media: photos, Info: c.info, Delivery: deliveries, Log: log})
		if err != nil {
			return fmt.Errorf("storefront: %w", err)
		}
		for _, rt := range shop.Routes() {
			extra = append(extra, httpapi.Route{Pattern: rt.Pattern, Handler: rt.Handler})
		}
	}
	var shed *overload.Limiter
	if rs[roleAPI] {
		shed = c.room.limiter()
	}
	proxies, _ := forwarded.Parse(c.proxies) // checked by parseServe
	handler := httpapi.NewServer(httpapi.Deps{
		Catalog: cat, Carts: carts, Checkout: orders, Room: room, Shed: shed, Media: photos, Webhooks: hookAdmin, Delivery: deliveries, AdminToken: adminToken, Registry: reg, Log: log, Extra: extra,
		Banner: "Shop API for AE, SA, QA, KW, BH and OM.",
		Ready: func(ctx context.Context) error {
			if draining.Load() {
				return errors.New("shutting down")
			}
			if db != nil {
				if err := db.Ready(ctx); err != nil {
					return err
				}
			}
			return ev.ready(ctx)
		},
	})
	srv := &http.Server{
		Handler:           proxies.Handler(handler), // first, so everything after sees the client's address
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// HTTP/1.1, HTTP/2 over TLS, and HTTP/2 without TLS for the load
		// balancers and clients that speak it (h2c with prior knowledge):
		// many held queue polls then share a few connections.
		Protocols: new(http.Protocols),
	}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetHTTP2(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	for _, f := range onShutdown {
		srv.RegisterOnShutdown(f)
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.addr, err)
	}
	var profiles string // where Go's runtime profiles are served, if they are
	if c.pprofAddr != "" {
		stopPprof, where, err := servePprof(c.pprofAddr, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopPprof()
		profiles = where
	}
	scheme := "http"
	if c.tlsCert != "" {
		scheme = "https"
	}
	base := scheme + "://" + ln.Addr().String()
	if rs[roleAPI] {
		printWhereToLook(stdout, base, c, db.where, adminToken, generated)
	} else {
		fmt.Fprintf(stdout, "Souq is running at %s\n", base)
		fmt.Fprintf(stdout, "  roles:     %s\n", rs)
		fmt.Fprintf(stdout, "  health:    %s/livez, %s/readyz\n", base, base)
		fmt.Fprintf(stdout, "  metrics:   %s/metrics\n", base)
	}
	printEvents(stdout, base, c, ev, writeKey, generatedKey)
	if profiles != "" {
		fmt.Fprintf(stdout, "  profiles:  %s\n", profiles)
	}

	// Background work stops when work is cancelled, after the HTTP server
	// has drained; the archiver flushes what it holds before returning.
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	defer func() { stopWork(); wg.Wait() }()
	var chores []chore
	if rs[roleAPI] {
		chores = append(chores, chore{"expire carts", "expired idle carts", carts.Expire},
			chore{"expire idempotency keys", "expired idempotency keys", orders.ExpireKeys})
	}
	if rs[roleRelay] {
		chores = append(chores, chore{"prune the outbox", "deleted published outbox rows past their retention",
			func(ctx context.Context) (int, error) { return ev.relay.Prune(ctx, c.outboxKeep) }})
	}
	if len(chores) > 0 {
		wg.Go(func() { housekeeping(work, chores, time.Hour, log) })
	}
	if rs[roleAPI] && c.payment != paymentNone {
		// Every api replica sweeps: each step is conditional on the order's
		// state (checkout.Service.SweepPayments).
		sweep := []chore{{"sweep card payments", "released unpaid orders and retried refunds", orders.SweepPayments}}
		wg.Go(func() { housekeeping(work, sweep, paymentSweepEvery, log) })
	}
	if room != nil {
		wg.Go(func() { room.Run(work) })
	}
	if rec != nil {
		wg.Go(func() { rec.Run(work) })
	}
	if rs[roleNotifier] { // its consumer exists before the relay publishes
		if err := startNotifier(ctx, work, c.email, db, ev.stream, reg, now, &wg, log); err != nil {
			return err
		}
	}
	ev.run(work, &wg, log)
	if hooks != nil {
		hooks.run(work, &wg, log)
	}

	// Simulated shoppers use the server like real ones; they stop first.
	shoppers, stopShoppers := context.WithCancel(work)
	defer stopShoppers()
	if c.demo && c.shoppers > 0 && rs[roleCollector] {
		sim, err := shopper.New(shopper.Config{BaseURL: base, WriteKey: writeKey, Rate: c.shoppers, CashOnly: c.payment != paymentTest, Log: log})
		if err != nil {
			return fmt.Errorf("shopper simulator: %w", err)
		}
		wg.Go(func() {
			if err := sim.Run(shoppers); err != nil {
				log.Warn("shopper simulator stopped", "err", err)
			}
		})
		fmt.Fprintf(stdout, "  shoppers:  simulating Gulf shoppers (up to %.1f new sessions/s in the evening, Gulf time)\n", c.shoppers)
	}
	fmt.Fprintln(stdout, "Press Ctrl+C to stop.")

	errc := make(chan error, 1)
	go func() {
		if c.tlsCert != "" {
			errc <- srv.ServeTLS(ln, c.tlsCert, c.tlsKey)
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", c.shutdownTimeout)
	stopShoppers()
	draining.Store(true)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	stopWork()
	wg.Wait()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

func printWhereToLook(w io.Writer, base string, c serveConfig, database, adminToken string, generated bool) {
	fmt.Fprintf(w, "Souq is running at %s\n", base)
	fmt.Fprintf(w, "  shop:      %s/ar/ (Arabic) and %s/en/ (English)\n", base, base)
	fmt.Fprintf(w, "  products:  %s/api/v1/products?market=AE\n", base)
	fmt.Fprintf(w, "  sale:      %s/api/v1/sales/current\n", base)
	fmt.Fprintf(w, "  queue:     %s/api/v1/queue (the waiting room of a protected sale; shoppers wait at %s/en/queue)\n", base, base)
	fmt.Fprintf(w, "  API:       %s/api (index), %s/api/openapi.json\n", base, base)
	fmt.Fprintf(w, "  dashboard: %s/dashboard\n", base)
	fmt.Fprintf(w, "  metrics:   %s/metrics\n", base)
	fmt.Fprintf(w, "  database:  %s\n", database)
	if c.payment == paymentStripe {
		fmt.Fprintf(w, "  payments:  Stripe (%s capture; unpaid orders released after %s); webhook endpoint %s/api/v1/payments/webhook\n",
			c.pay.capture, c.pay.timeout, strings.TrimSuffix(c.pay.publicURL, "/"))
	} else if c.payment == paymentTest {
		fmt.Fprintln(w, "  payments:  TEST provider: card token tok_ok is a paid order and no money moves (--payment test; never for real sales)")
	} else {
		fmt.Fprintln(w, "  payments:  cash on delivery only (no card provider configured)")
	}
	switch {
	case generated:
		fmt.Fprintf(w, "  admin:     Authorization: Bearer %s  (generated for this run; set SOUQ_ADMIN_TOKEN to choose one)\n", adminToken)
	case adminToken != "":
		fmt.Fprintln(w, "  admin:     enabled with the token from SOUQ_ADMIN_TOKEN / --admin-token")
	default:
		fmt.Fprintln(w, "  admin:     disabled (set SOUQ_ADMIN_TOKEN to enable /api/v1/admin)")
	}
}

func printEvents(w io.Writer, base string, c serveConfig, ev *events, writeKey string, generated bool) {
	stream := "embedded NATS JetStream in " + filepath.Join(c.data, "stream")
	if c.natsURL != "" {
		stream = fmt.Sprintf("NATS %s (%d replicas)", redactURL(c.natsURL), c.streamReplicas)
	}
	fmt.Fprintf(w, "  stream:    %s (sync %s)\n", stream, c.streamSync)
	if ev.bucket != nil {
		fmt.Fprintf(w, "  archive:   %s (Parquet)\n", redactURL(ev.archURL))
	}
	if ev.hot != nil {
		hot := "in this process (rebuilt from the stream at start)"
		if ev.hotShared {
			hot = "Redis " + redactURL(c.hot)
		}
		fmt.Fprintf(w, "  hot store: %s\n", hot)
	}
	if !c.roles[roleCollector] {
		return
	}
	switch {
	case generated:
		fmt.Fprintf(w, "  events:    POST %s/v1/batch with HTTP Basic user %s  (generated write key; set SOUQ_WRITE_KEY to choose one)\n", base, writeKey)
	case writeKey != "":
		fmt.Fprintf(w, "  events:    POST %s/v1/batch with the write key from SOUQ_WRITE_KEY\n", base)
	default:
		fmt.Fprintln(w, "  events:    collector disabled (set SOUQ_WRITE_KEY to enable /v1/batch)")
	}
}

// loopback reports whether addr's host is a loopback address.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// chore is a housekeeping task: what it does, what it says it did, and
// the call that does it and counts what it did.
type chore struct {
	what, did string
	run       func(context.Context) (int, error)
}

// housekeeping runs the chores (removing idle carts, old idempotency keys,
// outbox rows published longer than the retention ago; releasing unpaid
// orders) at once and then every interval until ctx ends. It runs in its
// own goroutine for the life of the server.
func housekeeping(ctx context.Context, chores []chore, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for _, ch := range chores {
			if n, err := ch.run(ctx); err != nil && ctx.Err() == nil {
				log.Warn(ch.what, "err", err)
			} else if n > 0 {
				log.Info(ch.did, "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

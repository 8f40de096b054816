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
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/attribute"

	"github.com/souq-commerce/souq/internal/archive"
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
	"github.com/souq-commerce/souq/internal/payment"
	"github.com/souq-commerce/souq/internal/payment/stripepay"
	"github.com/souq-commerce/souq/internal/pipeline"
	"github.com/souq-commerce/souq/internal/postgres"
	"github.com/souq-commerce/souq/internal/relay"
	"github.com/souq-commerce/souq/internal/shopper"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storefront"
	"github.com/souq-commerce/souq/internal/tracing"
	"github.com/souq-commerce/souq/internal/waitroom"
	"github.com/souq-commerce/souq/internal/webhook"
)

const serveUsage = `Usage: souq serve [flags]

Runs the shop, its API, the event pipeline and the dashboard: on an
embedded SQLite database in the data directory, or on PostgreSQL
(--database postgres://…), where several replicas may serve one database.

Flags:
`

type serveConfig struct {
	addr            string
	data            string
	database        string
	demo            bool
	adminToken      string
	logFormat       string
	logLevel        string
	sqliteSync      string
	pg              pgFlags
	tlsCert         string
	tlsKey          string
	shutdownTimeout time.Duration

	roles          roles
	rolesFlag      string
	hot            string
	streamReplicas int
	natsCreds      string
	namespace      string
	natsCA         string
	natsCert       string
	natsKey        string
	writeKey       string
	shopInfo       string                // --shop-info: a JSON file
	alertFlag      string                // --alerts: the dashboard's alert thresholds
	alerts         dashboard.AlertConfig // parsed from alertFlag
	info           *storefront.ShopInfo
	natsURL        string
	natsListen     string
	streamSync     string
	streamMaxAge   time.Duration
	outboxKeep     time.Duration
	proxies        string
	streamMaxBytes int64
	archive        string
	archiveMaxAge  time.Duration
	archiveMaxRows int
	collectorRate  float64
	otlpEndpoint   string  // OTLP/HTTP traces endpoint; empty: the OTEL_ variables decide
	pprofAddr      string  // where Go's runtime profiles are served; empty: nowhere
	traceSample    float64 // share of new traces recorded
	shoppers       float64
	payment        string // "none", "test" or "stripe", resolved by parseServe
	pay            paymentConfig
	room           roomConfig
	email          emailConfig // the notifier role's order e-mails (email.go)
	hooks          webhookConfig
}

// paymentConfig is the card payment settings besides the provider.
type paymentConfig struct {
	capture             string
	timeout             time.Duration
	publicURL           string
	stripeKey           string
	stripeWebhookSecret string
	stripeAPI           string
}

func parseServe(args []string, getenv func(string) string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "`host:port` to listen on")
	fs.StringVar(&c.data, "data", "./souq-data", "data `directory` for the embedded engines")
	fs.StringVar(&c.database, "database", "", databaseFlagUsage)
	fs.BoolVar(&c.demo, "demo", false, "load the demo catalogue and flash sale; generate an admin token if none is set; on a loopback address, take test card payments (--payment test)")
	fs.StringVar(&c.adminToken, "admin-token", "", "bearer `token` for /api/v1/admin (empty disables the admin API)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log `format`: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.StringVar(&c.sqliteSync, "sqlite-sync", "full", "SQLite synchronous `mode`: full (survives power loss) or normal (survives process crash)")
	fs.IntVar(&c.pg.maxConns, "pg-max-conns", 16, "PostgreSQL: most connections this process opens (its replicas' sum must stay under the server's max_connections)")
	fs.DurationVar(&c.pg.statementTimeout, "pg-statement-timeout", postgres.DefaultStatementTimeout, "PostgreSQL: longest a statement may run before it fails (the request answers 503)")
	fs.DurationVar(&c.pg.lock, "pg-lock-timeout", postgres.DefaultLockTimeout, "PostgreSQL: longest a statement may wait for a lock before it fails (the request answers 503)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "TLS certificate `file` (PEM); with --tls-key, serve HTTPS")
	fs.StringVar(&c.tlsKey, "tls-key", "", "TLS private key `file` (PEM)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 15*time.Second, "how long to let in-flight requests finish on shutdown")
	fs.StringVar(&c.alertFlag, "alerts", "", "the dashboard's alert `thresholds` as name=value pairs, e.g. checkout-errors=2%,out-of-stock=10/min,cancellations=5/min,zero-results=30%,lag=30s,low-stock=5 (docs/dashboard.md; unnamed ones keep their defaults)")
	fs.StringVar(&c.shopInfo, "shop-info", "", "`file` (JSON) with the shop's company name, commercial registration and VAT numbers, contacts and returns and delivery policies, shown in the storefront's footer and pages (docs/storefront.md; --demo shows a sample)")
	fs.StringVar(&c.writeKey, "write-key", "", "write `key` event senders use as the HTTP Basic username on /v1/batch (empty disables the collector)")
	fs.StringVar(&c.rolesFlag, "roles", "all", rolesUsage())
	fs.StringVar(&c.hot, "hot", "", "hot store `URL` for the live aggregates: redis://host:6379/0 or rediss://… (TLS), shared by every replica (default: in this process, rebuilt from the stream at start)")
	fs.StringVar(&c.natsURL, "nats-url", "", "NATS `URL` of an external JetStream cluster (default: embedded NATS in the data directory)")
	fs.StringVar(&c.namespace, "namespace", "", "`name` isolating this shop on shared engines: its NATS subjects, streams, consumers and leases, and its Redis keys, carry it (letters, digits, '-' and '_'; default none)")
	fs.IntVar(&c.streamReplicas, "stream-replicas", 1, "with --nats-url: copies of the streams the cluster keeps (1 or 3; 3 survives the loss of a server)")
	fs.StringVar(&c.natsCreds, "nats-creds", "", "with --nats-url: NATS credentials `file` (user JWT and NKey seed)")
	fs.StringVar(&c.natsCA, "nats-ca", "", "with --nats-url: PEM `file` of the CA that signs the NATS servers' certificates (requires TLS)")
	fs.StringVar(&c.natsCert, "nats-cert", "", "with --nats-url: client certificate `file` (PEM) for servers that verify clients")
	fs.StringVar(&c.natsKey, "nats-key", "", "with --nats-url: the client certificate's key `file` (PEM)")
	fs.StringVar(&c.natsListen, "nats-listen", "", "embedded NATS: also accept NATS clients on `host:port` (default: no port)")
	fs.StringVar(&c.streamSync, "stream-sync", "1s", "embedded NATS: \"always\" to sync every event to disk before acknowledging it, or a sync `interval`")
	fs.DurationVar(&c.streamMaxAge, "stream-max-age", 7*24*time.Hour, "how long the stream keeps events")
	fs.StringVar(&c.proxies, "trusted-proxies", "", "`CIDRs` of load balancers whose X-Forwarded-For and X-Forwarded-Proto are believed, comma-separated (default: none)")
	fs.DurationVar(&c.outboxKeep, "outbox-retention", 7*24*time.Hour, "how long published outbox rows are kept for souq audit (0: forever)")
	fs.Int64Var(&c.streamMaxBytes, "stream-max-bytes", 10<<30, "how many `bytes` of events the stream keeps (-1: no limit)")
	fs.StringVar(&c.archive, "archive", "", "archive `location`: a directory, file:///path, or s3://bucket[/prefix]?region=me-central-1 (credentials from the AWS environment; default <data>/archive)")
	fs.DurationVar(&c.archiveMaxAge, "archive-max-age", archive.DefaultMaxAge, "longest time an event waits before its archive file is written")
	fs.IntVar(&c.archiveMaxRows, "archive-max-rows", archive.DefaultMaxRows, "most events in one archive batch")
	fs.Float64Var(&c.shoppers, "shoppers", shopper.DefaultRate, "with --demo: simulated shopper sessions started per second at the evening peak (0: none)")
	fs.StringVar(&c.payment, "payment", "", "card payment `provider`: none (cash on delivery only), stripe (docs/payments.md), or test (the built-in test provider: tok_ok pays, no money moves; loopback only); default test with --demo on a loopback address, else none")
	fs.StringVar(&c.pay.capture, "payment-capture", string(checkout.CaptureAutomatic), "when card payments are taken: automatic (when the shopper pays) or manual (authorised, captured at dispatch through POST /api/v1/admin/orders/{id}/capture)")
	fs.DurationVar(&c.pay.timeout, "payment-timeout", checkout.DefaultPaymentTimeout, "how long an unpaid card order holds its stock before it is released")
	fs.StringVar(&c.pay.publicURL, "public-url", "", "the shop's public `URL` (https://shop.example.ae), where the payment provider sends shoppers back; required with --payment stripe")
	fs.StringVar(&c.pay.stripeKey, "stripe-secret-key", "", "Stripe secret or restricted `key` (sk_live_…, rk_live_…); set it through the environment, not the command line")
	fs.StringVar(&c.pay.stripeWebhookSecret, "stripe-webhook-secret", "", "signing `secret` of the Stripe webhook endpoint <public-url>/api/v1/payments/webhook (whsec_…); set it through the environment")
	fs.StringVar(&c.pay.stripeAPI, "stripe-api-url", "", "Stripe API base `URL` (default Stripe's; a stripe-mock server for tests)")
	fs.StringVar(&c.pprofAddr, "pprof-addr", "", "serve Go's runtime profiles (/debug/pprof/) on `host:port`, a listener of their own; keep it private (default: not served)")
	fs.StringVar(&c.otlpEndpoint, "otlp-endpoint", "", "OpenTelemetry collector `URL` for traces over OTLP/HTTP (http://otel-collector:4318); default: the standard OTEL_EXPORTER_OTLP_ENDPOINT, and without either, no tracing")
	fs.Float64Var(&c.traceSample, "trace-sample", 0.05, "with tracing on: the `share` of new traces recorded (a request that arrives with a sampled traceparent always is)")
	fs.Float64Var(&c.collectorRate, "collector-rate", collector.DefaultRatePerSecond, "events per second one client (write key and IP address) may send to the collector")
	c.room.flags(fs)
	c.email.flags(fs)
	c.hooks.flags(fs)
	if err := parseFlags(fs, args, getenv, stderr, serveUsage); err != nil {
		return c, err
	}
	var problems []string
	var err error
	if c.roles, err = parseRoles(c.rolesFlag); err != nil {
		problems = append(problems, err.Error())
		c.roles = allRoles()
	}
	problems = append(problems, c.roleProblems()...)
	if c.roles[roleAPI] {
		problems = append(problems, c.room.problems(c.hot != "")...)
	}
	if c.traceSample <= 0 || c.traceSample > 1 {
		problems = append(problems, "--trace-sample must be above 0 and at most 1")
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		problems = append(problems, fmt.Sprintf("--log-format must be text or json, not %q", c.logFormat))
	}
	if c.sqliteSync != "full" && c.sqliteSync != "normal" {
		problems = append(problems, fmt.Sprintf("--sqlite-sync must be full or normal, not %q", c.sqliteSync))
	}
	problems = append(problems, c.pg.problems()...)
	problems = append(problems, c.email.problems()...)
	problems = append(problems, c.hooks.problems()...)
	if c.shopInfo != "" {
		if data, err := os.ReadFile(c.shopInfo); err != nil {
			problems = append(problems, fmt.Sprintf("--shop-info: %v", err))
		} else if c.info, err = storefront.ParseShopInfo(data); err != nil {
			problems = append(problems, fmt.Sprintf("--shop-info %s: %v", c.shopInfo, err))
		}
	} else if c.demo {
		c.info = storefront.DemoShopInfo()
	}
	if a, err := dashboard.ParseAlertConfig(c.alertFlag); err != nil {
		problems = append(problems, fmt.Sprintf("--alerts: %v", err))
	} else {
		c.alerts = a
	}
	if c.database != "" && !isPostgres(c.database) && !strings.HasPrefix(c.database, "sqlite://") {
		problems = append(problems, fmt.Sprintf("--database %q: unsupported scheme; use postgres://… or sqlite:///path", c.database))
	}
	if isPostgres(c.database) && !loopback(c.addr) && c.demo && (c.adminToken == "" || c.writeKey == "") {
		problems = append(problems, "--demo on PostgreSQL and a non-loopback --addr: set --admin-token and --write-key "+
			"(SOUQ_ADMIN_TOKEN, SOUQ_WRITE_KEY), the same for every replica; a token generated by each replica would work on that replica only")
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		problems = append(problems, "--tls-cert and --tls-key go together")
	}
	if c.shutdownTimeout <= 0 {
		problems = append(problems, "--shutdown-timeout must be positive")
	}
	if _, _, err := streamSync(c.streamSync); err != nil {
		problems = append(problems, strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
	}
	if _, err := forwarded.Parse(c.proxies); err != nil {
		problems = append(problems, "--trusted-proxies: "+err.Error())
	}
	if c.outboxKeep < 0 {
		problems = append(problems, "--outbox-retention must not be negative (0 keeps published rows forever)")
	}
	if c.shoppers < 0 {
		problems = append(problems, "--shoppers must not be negative")
	}
	if c.collectorRate <= 0 {
		problems = append(problems, "--collector-rate must be positive")
	}
	for _, a := range []struct{ flag, value, example string }{
		{"--addr", c.addr, "127.0.0.1:8080"},
		{"--pprof-addr", c.pprofAddr, "127.0.0.1:6060"},
		{"--nats-listen", c.natsListen, "127.0.0.1:4222"},
	} {
		if a.value == "" && a.flag != "--addr" {
			continue // not asked for
		}
		if p := addrProblem(a.flag, a.value, a.example); p != "" {
			problems = append(problems, p)
		}
	}
	switch {
	case c.payment == "" && c.demo && loopback(c.addr):
		c.payment = paymentTest
	case c.payment == "":
		c.payment = paymentNone
	case c.payment != paymentNone && c.payment != paymentTest && c.payment != paymentStripe:
		problems = append(problems, fmt.Sprintf("--payment must be none, stripe or test, not %q", c.payment))
	case c.payment == paymentTest && !loopback(c.addr):
		problems = append(problems, fmt.Sprintf("--payment test accepts made-up card tokens as paid orders: it is for development on a loopback --addr (127.0.0.1:…), not %q", c.addr))
	}
	problems = append(problems, c.pay.problems(c.payment)...)
	if c.archiveMaxAge <= 0 || c.archiveMaxRows < 1 {
		problems = append(problems, "--archive-max-age and --archive-max-rows must be positive")
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("%w: %s", errUsage, strings.Join(problems, "; "))
	}
	return c, nil
}

var namespacePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// collectorBurst is how many events a client may send at once: two
// seconds' worth at --collector-rate.
func collectorBurst(c serveConfig) int { return max(1, int(2*c.collectorRate)) }

// roleProblems checks that the roles, the stream, the hot store and the
// demo fit together.
func (c serveConfig) roleProblems() []string {
	var problems []string
	shared := c.natsURL != "" || c.natsListen != ""
	if !c.roles.all() && !shared {
		problems = append(problems, fmt.Sprintf("--roles %s: the other roles run elsewhere and need the same stream: set --nats-url (or --nats-listen on the process whose embedded stream the others use)", c.roles))
	}
	if c.hot == "" && c.roles[roleAPI] != c.roles[roleProcessor] {
		problems = append(problems, "the api and processor roles run in different processes: they need a shared hot store, --hot redis://…")
	}
	if c.hot != "" && !strings.HasPrefix(c.hot, "redis://") && !strings.HasPrefix(c.hot, "rediss://") {
		problems = append(problems, fmt.Sprintf("--hot %q: unsupported scheme; use redis://host:6379/0 or rediss://… (TLS)", redactURL(c.hot)))
	}
	if c.demo && !c.roles[roleAPI] {
		problems = append(problems, "--demo loads the demo shop: it needs the api role")
	}
	if c.streamReplicas != 1 && c.streamReplicas != 3 && c.streamReplicas != 5 {
		problems = append(problems, fmt.Sprintf("--stream-replicas must be 1, 3 or 5, not %d", c.streamReplicas))
	}
	if c.natsURL == "" && (c.streamReplicas != 1 || c.natsCreds != "" || c.natsCA != "" || c.natsCert != "" || c.natsKey != "") {
		problems = append(problems, "--stream-replicas, --nats-creds, --nats-ca, --nats-cert and --nats-key apply to an external NATS cluster: set --nats-url")
	}
	if (c.natsCert == "") != (c.natsKey == "") {
		problems = append(problems, "--nats-cert and --nats-key go together")
	}
	if c.namespace != "" && !namespacePattern.MatchString(c.namespace) {
		problems = append(problems, fmt.Sprintf("--namespace %q: letters, digits, '-' and '_' only", c.namespace))
	}
	return problems
}

// Card payment providers for --payment.
const (
	paymentNone   = "none"
	paymentTest   = "test"
	paymentStripe = "stripe"
)

// paymentSweepEvery is how often the api role looks for unpaid orders to
// release and refunds to retry.
const paymentSweepEvery = 30 * time.Second

// problems checks the payment settings for provider.
func (p paymentConfig) problems(provider string) []string {
	var problems []string
	if p.capture != string(checkout.CaptureAutomatic) && p.capture != string(checkout.CaptureManual) {
		problems = append(problems, fmt.Sprintf("--payment-capture must be automatic or manual, not %q", p.capture))
	}
	if p.timeout < time.Minute || p.timeout > 24*time.Hour {
		problems = append(problems, fmt.Sprintf("--payment-timeout must be between 1m and 24h, not %s", p.timeout))
	}
	if p.publicURL != "" {
		if u, err := url.Parse(p.publicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			problems = append(problems, fmt.Sprintf("--public-url %q must be the shop's base URL, such as https://shop.example.ae", p.publicURL))
		}
	}
	if provider != paymentStripe {
		if p.stripeKey != "" || p.stripeWebhookSecret != "" || p.stripeAPI != "" {
			problems = append(problems, "--stripe-secret-key, --stripe-webhook-secret and --stripe-api-url apply to --payment stripe")
		}
		return problems
	}
	if p.publicURL == "" {
		problems = append(problems, "--payment stripe needs --public-url: Stripe sends shoppers back to the shop's order page after its payment page and 3-D Secure")
	}
	if p.stripeKey == "" || p.stripeWebhookSecret == "" {
		problems = append(problems, "--payment stripe needs SOUQ_STRIPE_SECRET_KEY and SOUQ_STRIPE_WEBHOOK_SECRET (docs/payments.md): payments are confirmed only by signed webhooks")
	}
	return problems
}

// payments returns the card payment settings --payment chose: no provider
// for none, and a loud warning for the test provider.
func payments(c serveConfig, log *slog.Logger) (checkout.Payments, error) {
	p := checkout.Payments{Capture: checkout.CaptureMode(c.pay.capture), Timeout: c.pay.timeout}
	if base := strings.TrimSuffix(c.pay.publicURL, "/"); base != "" {
		p.ReturnURL = func(order souq.ID, lang string) string {
			return base + "/" + lang + "/orders/" + url.PathEscape(string(order)) + "/return"
		}
	}
	switch c.payment {
	case paymentTest:
		log.Warn("TEST PAYMENT PROVIDER: card orders paid with the token tok_ok are accepted as paid and no money moves; never use it for real sales")
		p.Provider = payment.NewTestProvider()
	case paymentStripe:
		sp, err := stripepay.New(stripepay.Config{SecretKey: c.pay.stripeKey, WebhookSecret: c.pay.stripeWebhookSecret, APIURL: c.pay.stripeAPI})
		if err != nil {
			return p, fmt.Errorf("%w: --payment stripe: %v", errUsage, err)
		}
		p.Provider = sp
	}
	return p, nil
}

func newLogger(c serveConfig, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("%w: --log-level: %v", errUsage, err)
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// sqlitePath resolves a SQLite database URL, or the default file in the
// data directory.
func sqlitePath(c serveConfig) (string, error) {
	switch {
	case c.database == "":
		return filepath.Join(c.data, "souq.db"), nil
	case strings.HasPrefix(c.database, "sqlite://"):
		p := strings.TrimPrefix(c.database, "sqlite://")
		if p == "" {
			return "", fmt.Errorf("%w: --database sqlite:// needs a path, e.g. sqlite:///var/lib/souq/souq.db", errUsage)
		}
		return p, nil
	default:
		return "", fmt.Errorf("%w: --database %q: unsupported scheme; use postgres://… or sqlite:///path", errUsage, c.database)
	}
}

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

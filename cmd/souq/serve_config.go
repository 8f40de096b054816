package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/collector"
	"github.com/souq-commerce/souq/internal/dashboard"
	"github.com/souq-commerce/souq/internal/forwarded"
	"github.com/souq-commerce/souq/internal/payment"
	"github.com/souq-commerce/souq/internal/payment/stripepay"
	"github.com/souq-commerce/souq/internal/postgres"
	"github.com/souq-commerce/souq/internal/shopper"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storefront"
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

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/audit"
	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/postgres"
)

const auditUsage = `Usage: souq audit [flags]

Reconciles orders, the outbox, the event stream, the Parquet archive and the
aggregates for a time range (default: the last 24 hours) and reports, per hop,
the events missing, duplicated or extra, by id. Exits with status 1 when it
finds any difference; events still within the grace period are reported as
pending, which is not a difference.

The embedded stream (<data>/stream) can be read only while no server holds
it: stop souq serve first, or run serve with --nats-listen host:port and pass
--nats-url nats://host:port here. Opening the stream applies the stream
limits, so give audit the same --stream-max-age and --stream-max-bytes as
serve (their environment twins are shared).

Flags:
`

// errAuditDifferences reports an audit that found differences; the report
// has been written. exitCode maps it, like every error but errUsage, to
// exit status 1.
var errAuditDifferences = errors.New("audit found differences")

type auditConfig struct {
	data           string
	database       string
	natsURL        string
	archive        string
	from, to       time.Time
	format         string
	url            string
	adminToken     string
	grace          time.Duration
	streamMaxAge   time.Duration
	outboxKeep     time.Duration
	streamMaxBytes int64
}

// parseAudit reads the flags; the range defaults to the 24 hours before
// now, or the 24 hours before --to, or --from until now.
func parseAudit(args []string, getenv func(string) string, stderr io.Writer, now time.Time) (auditConfig, error) {
	var (
		c        auditConfig
		from, to string
	)
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.StringVar(&c.data, "data", "./souq-data", "data `directory` souq serve uses")
	fs.StringVar(&c.database, "database", "", databaseFlagUsage)
	fs.StringVar(&c.natsURL, "nats-url", "", "NATS `URL` of the stream (default: the embedded stream in <data>/stream, which a running serve locks)")
	fs.StringVar(&c.archive, "archive", "", "archive `location`: a directory, file:///path or s3://bucket[/prefix]?region=… (default <data>/archive)")
	fs.StringVar(&from, "from", "", "start of the range, `RFC3339` (default: 24 hours before --to)")
	fs.StringVar(&to, "to", "", "end of the range, excluded, `RFC3339` (default: now)")
	fs.StringVar(&c.format, "format", "text", "report `format`: text or json")
	fs.StringVar(&c.url, "url", "", "base `URL` of a running souq serve whose live aggregates to compare (GET /api/v1/analytics/snapshot)")
	fs.StringVar(&c.adminToken, "admin-token", "", "bearer `token` sent to --url")
	fs.DurationVar(&c.grace, "grace", audit.DefaultGrace, "how long an event may wait at a hop before it counts as stalled")
	fs.DurationVar(&c.streamMaxAge, "stream-max-age", 7*24*time.Hour, "how long the stream keeps events (as given to serve)")
	fs.DurationVar(&c.outboxKeep, "outbox-retention", 7*24*time.Hour, "how long published outbox rows are kept (as given to serve; 0: forever)")
	fs.Int64Var(&c.streamMaxBytes, "stream-max-bytes", 10<<30, "how many `bytes` of events the stream keeps (as given to serve; -1: no limit)")
	if err := parseFlags(fs, args, getenv, stderr, auditUsage); err != nil {
		return c, err
	}
	var problems []string
	parse := func(name, v string) time.Time {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("--%s %q is not an RFC3339 time such as 2026-11-28T20:00:00+04:00", name, v))
		}
		return t
	}
	c.to = now
	if to != "" {
		c.to = parse("to", to)
	}
	c.from = c.to.Add(-24 * time.Hour)
	if from != "" {
		c.from = parse("from", from)
	}
	if len(problems) == 0 && !c.to.After(c.from) {
		problems = append(problems, "--to must be after --from")
	}
	if c.format != "text" && c.format != "json" {
		problems = append(problems, fmt.Sprintf("--format must be text or json, not %q", c.format))
	}
	if c.url != "" && !strings.HasPrefix(c.url, "http://") && !strings.HasPrefix(c.url, "https://") {
		problems = append(problems, fmt.Sprintf("--url %q must start with http:// or https://", c.url))
	}
	if c.grace < 0 {
		problems = append(problems, "--grace must not be negative")
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("%w: %s", errUsage, strings.Join(problems, "; "))
	}
	return c, nil
}

func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := parseAudit(args, getenv, stderr, time.Now())
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	where := serveConfig{data: c.data, database: c.database, archive: c.archive}
	streamDir := filepath.Join(c.data, "stream")
	// Auditing creates nothing: every source must be there already.
	if !isPostgres(c.database) {
		dbPath, err := sqlitePath(where)
		if err != nil {
			return err
		}
		if err := mustExist("database", dbPath, "--data or --database"); err != nil {
			return err
		}
	}
	if c.natsURL == "" {
		if err := mustExist("stream store", streamDir, "--data or --nats-url"); err != nil {
			return err
		}
	}

	db, err := openDatabase(ctx, dbConfig{data: c.data, url: c.database, pg: postgres.Options{MaxConns: 2}}, nil)
	if err != nil {
		return err
	}
	defer db.close()
	stream, err := natsstream.Open(ctx, natsstream.Options{URL: c.natsURL, StoreDir: streamDir,
		MaxAge: c.streamMaxAge, MaxBytes: c.streamMaxBytes})
	if errors.Is(err, natsstream.ErrStoreDirInUse) {
		return fmt.Errorf("the stream in %s is held by a running souq serve: stop the server and audit again, "+
			"or start serve with --nats-listen host:port and pass --nats-url nats://host:port to audit: %w", streamDir, err)
	}
	if err != nil {
		return fmt.Errorf("open stream: %w", err)
	}
	defer stream.Close()
	bucket, _, closeBucket, err := openArchive(ctx, where, true)
	if err != nil {
		return err
	}
	defer closeBucket()

	rep, err := audit.Run(ctx, audit.Inputs{Database: db, Stream: stream, Archive: bucket,
		LiveURL: c.url, AdminToken: c.adminToken, Grace: c.grace, OutboxRetention: c.outboxKeep}, c.from, c.to)
	if err != nil {
		return err
	}
	if c.format == "json" {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	if !rep.Clean() {
		return fmt.Errorf("%w: %d", errAuditDifferences, rep.Differences())
	}
	return nil
}

// mustExist checks that path exists, naming the flags that choose it.
func mustExist(what, path, flags string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no %s at %s (choose it with %s): %w", what, path, flags, err)
	}
	return nil
}

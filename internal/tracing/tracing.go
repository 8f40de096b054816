// Package tracing is Souq's OpenTelemetry tracing: off unless an OTLP
// endpoint is configured, and then spans for HTTP requests, checkout's
// transaction, the outbox relay's publish and the processor, joined into
// one trace per order by the W3C traceparent the order's event carries
// through the outbox and the stream (docs/tracing.md).
package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Name is the instrumentation scope of Souq's spans.
const Name = "github.com/souq-commerce/souq"

// Config says where spans go.
type Config struct {
	// Endpoint is the OTLP/HTTP collector's base URL, e.g.
	// "http://otel-collector:4318" (/v1/traces is added, as to
	// OTEL_EXPORTER_OTLP_ENDPOINT). Empty: the standard
	// OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
	// variables decide, and without them tracing is off.
	Endpoint string
	// Getenv reads the standard variables (os.Getenv in the binary).
	Getenv func(string) string
	// SampleRatio is the share of new traces recorded (0 < r ≤ 1); a
	// request that arrives with a sampled traceparent is always recorded.
	SampleRatio float64
	// Service and Version name the process in the spans' resource.
	Service, Version string
	// Attributes are added to the resource (e.g. the roles this process runs).
	Attributes []attribute.KeyValue
}

// enabled is set once a provider that records spans is installed.
var enabled atomic.Bool

// Enabled reports whether spans are recorded: HTTP handlers are wrapped
// only then, so that a shop without tracing pays nothing for it.
func Enabled() bool { return enabled.Load() }

// On reports whether cfg turns tracing on.
func (cfg Config) On() bool {
	if cfg.Endpoint != "" {
		return true
	}
	if cfg.Getenv == nil {
		return false
	}
	return cfg.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || cfg.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup installs the global tracer provider and the W3C propagators when
// cfg turns tracing on, and returns the function that flushes and stops
// it (a no-op when off).
func Setup(ctx context.Context, cfg Config) (shutdown func(context.Context) error, err error) {
	if !cfg.On() {
		return func(context.Context) error { return nil }, nil
	}
	if cfg.SampleRatio <= 0 || cfg.SampleRatio > 1 {
		return nil, fmt.Errorf("tracing: sample ratio %v: want 0 < ratio ≤ 1", cfg.SampleRatio)
	}
	var opts []otlptracehttp.Option
	if cfg.Endpoint != "" {
		// As OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL, to
		// which the traces path is added.
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("tracing: endpoint %q: want http://host:4318 or https://host", cfg.Endpoint)
		}
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
		opts = append(opts, otlptracehttp.WithEndpointURL(u.String()))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewWithAttributes(semconv.SchemaURL,
		append([]attribute.KeyValue{semconv.ServiceName(cfg.Service), semconv.ServiceVersion(cfg.Version)}, cfg.Attributes...)...))
	if err != nil && !errors.Is(err, resource.ErrSchemaURLConflict) {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))),
	)
	Install(tp)
	return func(ctx context.Context) error {
		err := tp.Shutdown(ctx)
		uninstall()
		return err
	}, nil
}

// uninstall puts back the no-op provider: spans of a later server in the
// same process (tests) are not sent to a stopped exporter.
func uninstall() {
	otel.SetTracerProvider(noop.NewTracerProvider())
	enabled.Store(false)
}

// Install makes tp the provider of every span and turns the HTTP
// instrumentation on (tests install one with an in-memory exporter).
func Install(tp trace.TracerProvider) {
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	enabled.Store(true)
}

// Tracer returns Souq's tracer from the global provider.
func Tracer() trace.Tracer { return otel.Tracer(Name) }

// Traceparent returns the W3C traceparent of ctx's span, or "" when ctx
// holds no valid span: what an event carries to join its trace.
func Traceparent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c["traceparent"]
}

// WithTraceparent returns ctx with the remote span a traceparent names as
// its parent; an empty or malformed value leaves ctx as it is.
func WithTraceparent(ctx context.Context, traceparent string) context.Context {
	if traceparent == "" {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
}

// End ends span, recording err (when not nil) as the span's error.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

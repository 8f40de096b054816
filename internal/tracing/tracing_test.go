package tracing

import (
	"context"
	"strings"
	"testing"
)

func TestTraceparentRoundTrip(t *testing.T) {
	if got := Traceparent(context.Background()); got != "" {
		t.Errorf("Traceparent without a span = %q, want empty", got)
	}
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	if got := Traceparent(WithTraceparent(context.Background(), tp)); got != tp {
		t.Errorf("Traceparent(WithTraceparent(%q)) = %q", tp, got)
	}
	for _, bad := range []string{"", "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"} {
		if got := Traceparent(WithTraceparent(context.Background(), bad)); got != "" {
			t.Errorf("WithTraceparent(%q) gave a span: %q", bad, got)
		}
	}
}

func TestSetup(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, c := range []struct {
		name string
		cfg  Config
		on   bool
	}{
		{"nothing set", Config{Getenv: env(nil)}, false},
		{"flag", Config{Endpoint: "http://collector:4318"}, true},
		{"standard variable", Config{Getenv: env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"})}, true},
		{"traces variable", Config{Getenv: env(map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"})}, true},
	} {
		if got := c.cfg.On(); got != c.on {
			t.Errorf("%s: On() = %v, want %v", c.name, got, c.on)
		}
	}
	stop, err := Setup(context.Background(), Config{Getenv: env(nil), SampleRatio: 1})
	if err != nil || Enabled() {
		t.Fatalf("Setup without an endpoint: err %v, enabled %v; want off", err, Enabled())
	}
	if err := stop(context.Background()); err != nil {
		t.Errorf("stop of tracing that is off: %v", err)
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Endpoint: "http://collector:4318", SampleRatio: 0}, "sample ratio"},
		{Config{Endpoint: "http://collector:4318", SampleRatio: 1.5}, "sample ratio"},
		{Config{Endpoint: "collector:4318", SampleRatio: 1}, "want http://host:4318"},
	} {
		if _, err := Setup(context.Background(), c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Setup(%+v) = %v, want an error about %q", c.cfg, err, c.want)
		}
	}
	stop, err = Setup(context.Background(), Config{Endpoint: "http://127.0.0.1:1", SampleRatio: 1, Service: "souq"})
	if err != nil || !Enabled() {
		t.Fatalf("Setup with an endpoint: err %v, enabled %v; want on", err, Enabled())
	}
	_ = stop(context.Background()) // nothing listens: the flush may fail
	if Enabled() {
		t.Error("still enabled after stop")
	}
}

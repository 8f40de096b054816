package main

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an OTLP/HTTP traces endpoint that keeps what it is sent.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
	bad   error
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var req coltrace.ExportTraceServiceRequest
	if err == nil && r.URL.Path != "/v1/traces" {
		err = fmt.Errorf("export to %s, want /v1/traces", r.URL.Path)
	}
	if err == nil {
		err = proto.Unmarshal(body, &req)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		o.bad = err
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			o.spans = append(o.spans, ss.Spans...)
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	b, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	_, _ = w.Write(b)
}

// trace returns the spans of the trace holding a span named name, by name.
func (o *otlpReceiver) trace(name string) map[string]*tracepb.Span {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.spans {
		if s.Name != name {
			continue
		}
		out := map[string]*tracepb.Span{}
		for _, t := range o.spans {
			if string(t.TraceId) == string(s.TraceId) {
				out[t.Name] = t
			}
		}
		return out
	}
	return nil
}

// TestTracingOneOrder: with --otlp-endpoint, one order's trace runs from
// its HTTP request through checkout's transaction to the outbox relay's
// publish and the processor that adds it to the aggregates (children of
// the span that placed the order, whose context the event carries),
// exported over OTLP/HTTP; a traceparent sent by the caller becomes the
// request's parent.
func TestTracingOneOrder(t *testing.T) {
	rcv := &otlpReceiver{}
	collector := httptest.NewServer(rcv)
	defer collector.Close()
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50") // export every 50 ms, not every 5 s

	base, _, stop := startServe(t, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo", "--shoppers", "0",
		"--otlp-endpoint", collector.URL, "--trace-sample", "1"}, nil)
	defer stop()

	var list productList
	if status := getJSON(t, base+"/api/v1/products?market=AE&page_size=50", &list); status != 200 {
		t.Fatalf("products: %d", status)
	}
	order := fmt.Sprintf(`{"market":"AE","items":[{"product_id":%q,"quantity":1}],
		"customer":{"name":"Mariam Al Mansoori","phone":"+971501234567"},
		"shipping_address":{"line1":"Villa 12, Street 5","area":"Al Barsha","city":"Dubai","country":"AE"},
		"payment":{"method":"cod"}}`, list.inStock(t))
	const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest("POST", base+"/api/v1/orders", strings.NewReader(order))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+callerTrace+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("order: %d", resp.StatusCode)
	}

	chain := []string{"POST /api/v1/orders", "checkout.place_order", "checkout.commit", "relay.publish", "processor.apply"}
	var got map[string]*tracepb.Span
	deadline := time.Now().Add(30 * time.Second)
	for {
		got = rcv.trace("processor.apply")
		if len(got) > 0 && got["POST /api/v1/orders"] != nil {
			break
		}
		if time.Now().After(deadline) {
			rcv.mu.Lock()
			var names []string
			for _, s := range rcv.spans {
				names = append(names, s.Name)
			}
			rcv.mu.Unlock()
			t.Fatalf("no trace from the order's request to the processor within 30 s; spans received: %v (receiver error: %v)", names, rcv.bad)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i, name := range chain {
		s := got[name]
		if s == nil {
			t.Fatalf("the order's trace has no %q span; it has %v", name, slices.Sorted(maps.Keys(got)))
		}
		if fmt.Sprintf("%x", s.TraceId) != callerTrace {
			t.Errorf("%s: trace %x, want the caller's %s", name, s.TraceId, callerTrace)
		}
		if i == 0 {
			if fmt.Sprintf("%x", s.ParentSpanId) != "00f067aa0ba902b7" {
				t.Errorf("%s: parent %x, want the caller's span 00f067aa0ba902b7", name, s.ParentSpanId)
			}
			continue
		}
		parent := got[chain[i-1]]
		if name == "relay.publish" || name == "processor.apply" {
			parent = got["checkout.place_order"] // the event carries the placing request's context
		}
		if string(s.ParentSpanId) != string(parent.SpanId) {
			t.Errorf("%s: parent span %x, want %s's %x", name, s.ParentSpanId, parent.Name, parent.SpanId)
		}
	}
}

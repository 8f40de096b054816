package collector

import (
	"encoding/json"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/souq"
)

// TestSchemaFiles checks that each track event's schema file is named after
// its event ("Product Viewed" → product_viewed.json) and that the collector
// supports the Segment e-commerce v2 events a shopper's device sends.
func TestSchemaFiles(t *testing.T) {
	s := testSchemas(t)
	entries, err := fs.ReadDir(schemaFiles, "schemas")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "_") || name == "page.json" || name == "identify.json" {
			continue
		}
		raw, err := fs.ReadFile(schemaFiles, "schemas/"+name)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Schema string `json:"$schema"`
			Title  string `json:"title"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ev := souq.Event{Type: "track", Event: doc.Title}
		if want := strings.TrimPrefix(ev.Subject(), souq.SubjectPrefix+".track.") + ".json"; name != want {
			t.Errorf("schema for %q: got file %s, want %s", doc.Title, name, want)
		}
		if doc.Schema != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: got $schema %q, want draft 2020-12", name, doc.Schema)
		}
	}
	want := []string{
		"Cart Viewed", "Checkout Started", "Checkout Step Completed", "Checkout Step Viewed", "Payment Info Entered",
		"Product Added", "Product Clicked", "Product List Filtered", "Product List Viewed", "Product Removed",
		"Product Viewed", "Products Searched", "Promotion Clicked", "Promotion Viewed",
	}
	if diff := cmp.Diff(want, s.names); diff != "" {
		t.Fatalf("supported events (-want +got):\n%s", diff)
	}
	for _, se := range serverEvents {
		if slices.Contains(s.names, se) {
			t.Errorf("%q is recorded by the server and must not be collected", se)
		}
	}
}

func TestCompileSchemasErrors(t *testing.T) {
	base := func() fstest.MapFS {
		return fstest.MapFS{
			"schemas/page.json":     {Data: []byte(`{"type":"object"}`)},
			"schemas/identify.json": {Data: []byte(`{"type":"object"}`)},
		}
	}
	tests := []struct {
		name string
		edit func(fstest.MapFS)
		want string
	}{
		{"untitled event", func(m fstest.MapFS) { m["schemas/x.json"] = &fstest.MapFile{Data: []byte(`{"type":"object"}`)} }, "has no title"},
		{"server event", func(m fstest.MapFS) {
			m["schemas/order_completed.json"] = &fstest.MapFile{Data: []byte(`{"title":"Order Completed"}`)}
		}, "recorded by the server"},
		{"bad JSON", func(m fstest.MapFS) { m["schemas/x.json"] = &fstest.MapFile{Data: []byte(`{`)} }, "schema x.json"},
		{"missing reference", func(m fstest.MapFS) {
			m["schemas/x.json"] = &fstest.MapFile{Data: []byte(`{"title":"X","$ref":"_nope.json"}`)}
		}, "compile schema x.json"},
		{"no page schema", func(m fstest.MapFS) { delete(m, "schemas/page.json") }, "page.json and identify.json are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.edit(m)
			_, err := compileSchemas(m)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := compileSchemas(base()); err != nil {
		t.Fatalf("minimal schema set: %v", err)
	}
}

// TestSearchResultCount: "Products Searched" may carry how many products
// matched, a whole number from zero, so zero-result searches can be counted.
func TestSearchResultCount(t *testing.T) {
	s := testSchemas(t)
	for _, tt := range []struct {
		props string
		ok    bool
	}{
		{`{"query":"oud","result_count":0}`, true},
		{`{"query":"oud","result_count":12}`, true},
		{`{"query":"oud","result_count":-1}`, false},
		{`{"query":"oud","result_count":1.5}`, false},
		{`{"query":"oud","result_count":"12"}`, false},
	} {
		reason := s.track["Products Searched"].validate("properties", []byte(tt.props))
		if (reason == "") != tt.ok {
			t.Errorf("%s: got reason %q, want accepted %v", tt.props, reason, tt.ok)
		}
	}
}

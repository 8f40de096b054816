package collector

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	json "github.com/segmentio/encoding/json"

	"github.com/souq-commerce/souq/internal/souq"
)

// The schemas are JSON Schema draft 2020-12 documents, one per supported
// track event (its "title" is the event name; the file is named after it,
// "Product Viewed" → product_viewed.json), plus page.json (a page call's
// properties) and identify.json (an identify call's traits). Each file is
// self-contained: a "$ref" costs the validator allocations for every value
// it checks, and a list of products has many. A file whose name starts with
// "_" would hold shared definitions only and is never an event.
//
//go:embed schemas/*.json
var schemaFiles embed.FS

// schemaBase is the base URL the embedded schemas are registered under, so
// relative "$ref"s between them resolve without any loader: nothing is ever
// fetched from the network or the file system.
const schemaBase = "https://schemas.souq.dev/collector/"

// serverEvents are Segment e-commerce events the server records itself from
// the checkout outbox; a client sending one would double-count orders.
var serverEvents = []string{souq.EventOrderCompleted, souq.EventOrderCancelled, souq.EventOrderRefunded}

// schemaSet holds the compiled schemas: compiled once per process.
type schemaSet struct {
	track    map[string]eventSchema // by event name
	page     eventSchema
	identify eventSchema
	names    []string // supported track event names, sorted
}

// eventSchema is one schema file compiled for the validator and, when it
// uses only the keywords a check implements, into a check.
type eventSchema struct {
	schema *jsonschema.Schema
	check  *check // nil: the validator alone
	// uncompiled says why there is no check.
	uncompiled error
}

func newEventSchema(sch *jsonschema.Schema) eventSchema {
	ck, err := compileCheck(sch)
	return eventSchema{schema: sch, check: ck, uncompiled: err}
}

// validate checks raw (a well-formed JSON value, or nil for none) with the
// compiled check, or the validator when there is none or it cannot decide,
// and returns the reason it is invalid or "".
func (es eventSchema) validate(field string, raw []byte) string {
	if es.check != nil {
		if reason, ok := es.check.run(field, raw); ok {
			return reason
		}
	}
	return validate(es.schema, field, raw)
}

var loadSchemas = sync.OnceValues(func() (*schemaSet, error) { return compileSchemas(schemaFiles) })

// compileSchemas compiles every schema in fsys (a directory "schemas").
func compileSchemas(fsys fs.FS) (*schemaSet, error) {
	entries, err := fs.ReadDir(fsys, "schemas")
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(jsonschema.SchemeURLLoader{}) // every schema is added below; never load one
	titles := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		if path.Ext(name) != ".json" {
			continue
		}
		raw, err := fs.ReadFile(fsys, "schemas/"+name)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		if err := c.AddResource(schemaBase+name, doc); err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		if obj, ok := doc.(map[string]any); ok {
			title, _ := obj["title"].(string)
			titles[name] = title
		}
	}
	set := &schemaSet{track: map[string]eventSchema{}}
	for name, title := range titles {
		if strings.HasPrefix(name, "_") {
			continue
		}
		sch, err := c.Compile(schemaBase + name)
		if err != nil {
			return nil, fmt.Errorf("compile schema %s: %w", name, err)
		}
		switch name {
		case "page.json":
			set.page = newEventSchema(sch)
		case "identify.json":
			set.identify = newEventSchema(sch)
		default:
			if title == "" {
				return nil, fmt.Errorf("schema %s has no title naming its event", name)
			}
			if slices.Contains(serverEvents, title) {
				return nil, fmt.Errorf("schema %s: %q is recorded by the server, not collected", name, title)
			}
			set.track[title] = newEventSchema(sch)
			set.names = append(set.names, title)
		}
	}
	if set.page.schema == nil || set.identify.schema == nil {
		return nil, errors.New("schemas: page.json and identify.json are required")
	}
	slices.Sort(set.names)
	return set, nil
}

// validate checks raw (a JSON object, or nil for none) against sch and
// returns a one-line reason naming the first problem, its location under
// field ("properties" or "traits"), or "" when raw is valid.
func validate(sch *jsonschema.Schema, field string, raw []byte) string {
	var inst any = map[string]any{}
	if raw != nil {
		var v any
		if _, err := json.Parse(raw, &v, json.UseNumber); err != nil {
			return field + " is not valid JSON"
		}
		inst = v
	}
	err := sch.Validate(inst)
	if err == nil {
		return ""
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return field + " could not be validated"
	}
	leaves := leafErrors(ve, field, nil)
	if len(leaves) == 0 {
		return field + " does not match the event's schema"
	}
	return summarize(leaves)
}

// summarize makes one reason of the problems found in a value: the first
// in sorted order (the validator finds them in map order), and how many
// more there are.
func summarize(reasons []string) string {
	slices.Sort(reasons)
	reason := reasons[0]
	if len(reasons) > 1 {
		reason += fmt.Sprintf(" (and %d more problems)", len(reasons)-1)
	}
	return reason
}

// leafErrors appends "field/location: message" for the innermost errors of
// ve to out.
func leafErrors(ve *jsonschema.ValidationError, field string, out []string) []string {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			out = leafErrors(c, field, out)
		}
		return out
	}
	switch ve.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.Reference:
		return out
	}
	return append(out, problemReason(field, ve.InstanceLocation, ve.ErrorKind))
}

// problemReason is "field/location: message" for one problem.
func problemReason(field string, loc []string, k jsonschema.ErrorKind) string {
	if len(loc) > 0 {
		field += "/" + strings.Join(loc, "/")
	}
	// A lone error's basic output carries just its message.
	msg := (&jsonschema.ValidationError{ErrorKind: k}).BasicOutput().Error.String()
	return field + ": " + msg
}

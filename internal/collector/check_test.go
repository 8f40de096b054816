package collector

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/santhosh-tekuri/jsonschema/v6"
	json "github.com/segmentio/encoding/json"

	"github.com/souq-commerce/souq/internal/shopper"
)

// compiledSchema is a schema with a compiled check, and the member of a
// message it validates.
type compiledSchema struct {
	name  string // event name, "page" or "identify"
	field string // "properties" or "traits"
	es    eventSchema
}

// compiledSchemas lists every schema that has a compiled check, in a fixed
// order: the equivalence tests run on each of them.
func compiledSchemas(t testing.TB) []compiledSchema {
	t.Helper()
	s := testSchemas(t)
	var out []compiledSchema
	for _, name := range s.names {
		if es := s.track[name]; es.check != nil {
			out = append(out, compiledSchema{name, "properties", es})
		}
	}
	for _, c := range []compiledSchema{{"page", "properties", s.page}, {"identify", "traits", s.identify}} {
		if c.es.check != nil {
			out = append(out, c)
		}
	}
	return out
}

// TestCompiledEvents requires a compiled check for the events sent most:
// by the storefront and the shopper simulator (shopper.EventNames), by
// bench/pipeline (Product Viewed), Product Removed, page and identify
// calls. A schema change that uses a keyword the checks do not implement
// fails here, naming it.
func TestCompiledEvents(t *testing.T) {
	s := testSchemas(t)
	hot := append(shopper.EventNames(), "Product Viewed", "Product Removed")
	for _, name := range hot {
		es, ok := s.track[name]
		if !ok {
			t.Errorf("%s: no schema", name)
			continue
		}
		if es.check == nil {
			t.Errorf("%s: no compiled check: %v", name, es.uncompiled)
		}
	}
	if s.page.check == nil || s.identify.check == nil {
		t.Errorf("page and identify: no compiled check: %v, %v", s.page.uncompiled, s.identify.uncompiled)
	}
}

// TestCheckReasons pins the reasons of typical mistakes, each the same as
// the validator's.
func TestCheckReasons(t *testing.T) {
	s := testSchemas(t)
	long := strings.Repeat("ب", 200)
	tests := []struct {
		event string // track event name, or "page"
		props string // "" for none
		want  string
	}{
		{"Product Viewed", `{"product_id":"prd_a","sku":"SK-1","price":89.5,"currency":"AED","quantity":1.0,"position":-3}`, ""},
		{"Product Viewed", "", "properties: missing property 'product_id'"},
		{"Product Viewed", `{"Product_ID":"p"}`, "properties: missing property 'product_id'"},
		{"Product Viewed", `{"product\u005fid":"p"}`, ""},
		{"Product Viewed", `{"product_id":1,"product_id":"p"}`, ""},
		{"Product Viewed", `{"product_id":"p","product_id":1}`, "properties/product_id: got number, want string"},
		{"Product Viewed", `{"product_id":""}`, "properties/product_id: minLength: got 0, want 1"},
		{"Product Viewed", `{"product_id":"` + long + `"}`, ""},
		{"Product Viewed", `{"product_id":"` + long + `ب"}`, "properties/product_id: maxLength: got 201, want 200"},
		{"Product Viewed", `{"product_id":null}`, "properties/product_id: got null, want string"},
		{"Product Viewed", `{"product_id":"p","price":"89.50"}`, "properties/price: got string, want number"},
		{"Product Viewed", `{"product_id":"p","currency":"AE\u0044"}`, ""},
		{"Product Viewed", `{"product_id":"p","currency":"AEDX"}`, `properties/currency: 'AEDX' does not match pattern '^[A-Za-z]{3}$'`},
		{"Product Viewed", `{"product_id":"p","currency":"AE\n"}`, `properties/currency: 'AE\n' does not match pattern '^[A-Za-z]{3}$'`},
		{"Product Added", `{"product_id":"p","quantity":0}`, "properties/quantity: minimum: got 0, want 1"},
		{"Product Added", `{"product_id":"p","quantity":1e2}`, ""},
		{"Product Added", `{"product_id":"p","quantity":1.5}`, "properties/quantity: got number, want integer"},
		{"Product Added", `{"product_id":"p","quantity":1e1000001}`, "properties/quantity: got number, want integer"},
		{"Product Added", `{"product_id":"p","quantity":-0}`, "properties/quantity: minimum: got 0, want 1"},
		{"Product Added", `{"product_id":"p","quantity":1e999999}`, ""},
		{"Product Added", `{"product_id":"p","quantity":-1e999999}`, "properties/quantity: minimum: got -∞, want 1"},
		{"Product Removed", `{"quantity":"2","cart_id":""}`,
			"properties/cart_id: minLength: got 0, want 1 (and 2 more problems)"},
		{"Products Searched", `{"query":{"text":"oud"}}`, ""},
		{"Products Searched", `{"query":5}`, "properties/query: got number, want string or object"},
		{"Cart Viewed", `{"products":[{"product_id":"a"},{"quantity":0}]}`,
			"properties/products/1/quantity: minimum: got 0, want 1 (and 1 more problems)"},
		{"Checkout Started", `{"products":{"product_id":"a"}}`, "properties/products: got object, want array"},
		{"page", `{"keywords":["oud",1]}`, "properties/keywords/1: got number, want string"},
	}
	for _, tt := range tests {
		t.Run(tt.event+" "+tt.props, func(t *testing.T) {
			es := s.page
			if tt.event != "page" {
				es = s.track[tt.event]
			}
			var raw []byte
			if tt.props != "" {
				raw = []byte(tt.props)
			}
			got, ok := es.check.run("properties", raw)
			if !ok {
				t.Fatalf("the check could not decide")
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if v := validate(es.schema, "properties", raw); got != v {
				t.Errorf("check says %q, validator says %q", got, v)
			}
		})
	}
}

// TestCheckMatchesSchema runs every compiled check and the validator on
// documents generated from the schema, valid and not, and requires the
// same verdict and the same reason.
func TestCheckMatchesSchema(t *testing.T) {
	const perSchema = 2000
	for _, cs := range compiledSchemas(t) {
		t.Run(cs.name, func(t *testing.T) {
			g := &docGen{r: rand.New(rand.NewPCG(1, uint64(len(cs.name))))}
			accepted, rejected := 0, 0
			for range perSchema {
				doc := g.doc(cs.es.schema)
				if !json.Valid(doc) {
					t.Fatalf("generated invalid JSON: %s", doc)
				}
				got, want := matchSchema(t, cs, doc)
				if got != want {
					t.Fatalf("document %s:\ncheck:     %q\nvalidator: %q", doc, got, want)
				}
				if got == "" {
					accepted++
				} else {
					rejected++
				}
			}
			t.Logf("%d accepted, %d rejected", accepted, rejected)
			// The generator must exercise both verdicts.
			if accepted < perSchema/20 || rejected < perSchema/20 {
				t.Fatalf("got %d accepted and %d rejected documents, want at least %d of each", accepted, rejected, perSchema/20)
			}
		})
	}
}

// matchSchema returns what the compiled check and the validator say of
// doc, and fails when a rejection's reason does not name where the
// problem is.
func matchSchema(t testing.TB, cs compiledSchema, doc []byte) (check, validator string) {
	t.Helper()
	validator = validate(cs.es.schema, cs.field, doc)
	check, ok := cs.es.check.run(cs.field, doc)
	if !ok {
		check = validator // the validator decides: the same by construction
	}
	if check != "" && !strings.HasPrefix(check, cs.field+"/") && !strings.HasPrefix(check, cs.field+": ") {
		t.Errorf("reason %q does not start with the location under %s", check, cs.field)
	}
	return check, validator
}

// FuzzCheckMatchesSchema is TestCheckMatchesSchema with fuzzed documents:
// go test -fuzz FuzzCheckMatchesSchema ./internal/collector/
// The seeds are the properties of the realistic batch, the reasons table
// and generated documents; the first argument picks the schema.
func FuzzCheckMatchesSchema(f *testing.F) {
	schemas := compiledSchemas(f)
	byName := map[string]uint8{}
	for i, cs := range schemas {
		byName[cs.name] = uint8(i)
	}
	var batch struct {
		Batch []struct {
			Type, Event string
			Properties  json.RawMessage
			Traits      json.RawMessage
		}
	}
	if err := json.Unmarshal(realisticBatch(f, 10), &batch); err != nil {
		f.Fatal(err)
	}
	for _, m := range batch.Batch {
		switch m.Type {
		case "track":
			f.Add(byName[m.Event], []byte(m.Properties))
		case "page":
			f.Add(byName["page"], []byte(m.Properties))
		case "identify":
			f.Add(byName["identify"], []byte(m.Traits))
		}
	}
	f.Add(byName["Product Added"], []byte(`{"product_id":"p","quantity":1e1000001,"currency":"AE\u0044","cart_id":""}`))
	f.Add(byName["Cart Viewed"], []byte(`{"products":[{"product_id":"a"},{"quantity":0},null],"products":[]}`))
	f.Add(byName["Products Searched"], []byte(`{"query":null,"qu\u0065ry":"oud"}`))
	g := &docGen{r: rand.New(rand.NewPCG(2, 2))}
	for i, cs := range schemas {
		for range 4 {
			f.Add(uint8(i), g.doc(cs.es.schema))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, doc []byte) {
		if !json.Valid(doc) {
			return // the request decoder answers 400 before any schema is seen
		}
		cs := schemas[int(which)%len(schemas)]
		if got, want := matchSchema(t, cs, doc); got != want {
			t.Fatalf("%s, document %s:\ncheck:     %q\nvalidator: %q", cs.name, doc, got, want)
		}
	})
}

// TestCompileCheckUnsupported: a schema with a keyword the checks do not
// implement gets no check, and the validator keeps judging its events.
func TestCompileCheckUnsupported(t *testing.T) {
	for _, doc := range []string{
		`{"type":"object","properties":{"size":{"enum":["s","m"]}}}`,
		`{"type":"object","additionalProperties":false}`,
		`{"type":"object","properties":{"quantity":{"type":"integer","maximum":100}}}`,
		`{"type":"object","properties":{"products":{"type":"array","maxItems":100}}}`,
		`{"type":"object","properties":{"coupon":{"const":"SALE"}}}`,
		`{"type":"object","anyOf":[{"required":["a"]},{"required":["b"]}]}`,
		`{"type":"object","patternProperties":{"^x_":{"type":"string"}}}`,
		`{"$schema":"http://json-schema.org/draft-07/schema#","type":"object"}`,
	} {
		m := fstest.MapFS{
			"schemas/page.json":     {Data: []byte(`{"type":"object"}`)},
			"schemas/identify.json": {Data: []byte(`{"type":"object"}`)},
			"schemas/x.json":        {Data: []byte(`{"title":"X Happened",` + doc[1:])},
		}
		set, err := compileSchemas(m)
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		es := set.track["X Happened"]
		if es.check != nil || es.uncompiled == nil {
			t.Errorf("%s: got a compiled check, want none", doc)
		}
		if set.page.check == nil {
			t.Errorf("page.json {\"type\":\"object\"}: no compiled check: %v", set.page.uncompiled)
		}
	}
	m := fstest.MapFS{
		"schemas/page.json":     {Data: []byte(`{"type":"object"}`)},
		"schemas/identify.json": {Data: []byte(`{"type":"object"}`)},
		"schemas/x.json":        {Data: []byte(`{"title":"X Happened","type":"object","properties":{"size":{"enum":["s","m"]}}}`)},
	}
	set, err := compileSchemas(m)
	if err != nil {
		t.Fatal(err)
	}
	es := set.track["X Happened"]
	for props, want := range map[string]string{
		`{"size":"m"}`: "",
		`{"size":"l"}`: "properties/size: value must be one of 's', 'm'",
	} {
		if got := es.validate("properties", []byte(props)); got != want {
			t.Errorf("%s: got %q, want %q", props, got, want)
		}
	}
}

// docGen writes random JSON documents for a schema: mostly values it
// allows, mixed with the mistakes clients make — missing and repeated
// members, escaped names, wrong types, numbers out of range or written
// oddly, strings at and past their limits, in Arabic, with escapes.
type docGen struct {
	r *rand.Rand
	b bytes.Buffer
}

func (g *docGen) doc(sch *jsonschema.Schema) []byte {
	g.b.Reset()
	g.value(sch, 0)
	return bytes.Clone(g.b.Bytes())
}

// oddValues are JSON values that break most schemas somewhere.
var oddValues = []string{
	`null`, `true`, `false`, `0`, `-0`, `1`, `-1`, `0.5`, `1.0`, `1e2`, `1E+2`, `10e-1`, `1.5e1`, `0.1e1`,
	`1e400`, `-1e400`, `1e1000001`, `1e-1000001`, `0e1000001`, `1e99999999999999999999`,
	`123456789012345678901234567890`, `-9223372036854775809`,
	`""`, `"a"`, `"AED"`, `"aed"`, `"AEDX"`, `"A1D"`, `"ÀBC"`, `"AE\u0044"`, `"abc\n"`, `"\ud800"`, `"\ud83d\ude00"`, `"ب"`,
	`[]`, `[1,"a",null]`, `{}`, `{"product_id":"p"}`, `[{"product_id":"p"}]`, `[{}]`, `{"text":"oud"}`,
}

var oddNames = []string{"colour", "Product_ID", "product_id ", "on_sale", "قياس", "", "products", "query", "x\"y"}

func (g *docGen) chance(p float64) bool { return g.r.Float64() < p }

func (g *docGen) space() {
	if g.chance(0.05) {
		g.b.WriteString([]string{" ", "\n", "\t ", "\r\n  "}[g.r.IntN(4)])
	}
}

func (g *docGen) value(sch *jsonschema.Schema, depth int) {
	g.space()
	defer g.space()
	var types []string
	if sch != nil && sch.Types != nil {
		types = sch.Types.ToStrings()
	}
	if len(types) == 0 || g.chance(0.08) || depth > 4 {
		g.b.WriteString(oddValues[g.r.IntN(len(oddValues))])
		return
	}
	switch types[g.r.IntN(len(types))] {
	case "object":
		g.object(sch, depth)
	case "array":
		g.b.WriteByte('[')
		for i := range g.r.IntN(4) {
			if i > 0 {
				g.b.WriteByte(',')
			}
			g.value(sch.Items2020, depth+1)
		}
		g.b.WriteByte(']')
	case "string":
		g.string(sch)
	case "integer":
		g.b.WriteString([]string{"1", "2", "24", "100", "0", "-1", "1.0", "2e0", "10e-1", "-0", "3.5", "9223372036854775808"}[g.r.IntN(12)])
	case "number":
		g.b.WriteString([]string{"89", "249.5", "-0.01", "0", "1e400", "1E-7", "475.24"}[g.r.IntN(7)])
	case "boolean":
		g.b.WriteString("true")
	default:
		g.b.WriteString("null")
	}
}

func (g *docGen) object(sch *jsonschema.Schema, depth int) {
	var names []string
	for name := range sch.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	var members []string
	for _, name := range names {
		p := 0.6
		if slices.Contains(sch.Required, name) {
			p = 0.95
		}
		if g.chance(p) {
			members = append(members, name)
		}
	}
	for _, name := range sch.Required {
		if !slices.Contains(names, name) && g.chance(0.95) {
			members = append(members, name)
		}
	}
	for g.chance(0.3) {
		members = append(members, oddNames[g.r.IntN(len(oddNames))])
	}
	if len(members) > 0 && g.chance(0.1) {
		members = append(members, members[g.r.IntN(len(members))]) // repeated
	}
	g.r.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
	g.b.WriteByte('{')
	g.space()
	for i, name := range members {
		if i > 0 {
			g.b.WriteByte(',')
		}
		g.space()
		g.quote(name, 0.05)
		g.space()
		g.b.WriteByte(':')
		g.value(sch.Properties[name], depth+1)
	}
	g.b.WriteByte('}')
}

func (g *docGen) string(sch *jsonschema.Schema) {
	if sch.Pattern != nil {
		g.quote([]string{"AED", "sar", "Usd", "QAR", "KWD", "AE", "AEDX", "A D", "ÀED", "AED\n"}[g.r.IntN(10)], 0.2)
		return
	}
	lo, hi := 0, 12
	if sch.MinLength != nil {
		lo = *sch.MinLength
	}
	if sch.MaxLength != nil {
		hi = *sch.MaxLength
	}
	var n int
	switch g.r.IntN(6) {
	case 0:
		n = max(lo-1, 0)
	case 1:
		n = lo
	case 2:
		n = hi
	case 3:
		n = hi + 1
	default:
		n = lo + g.r.IntN(hi-lo+1)
	}
	chars := []string{"a", "Z", "7", "_", "-", " ", "ب", "ع", "😀", "é", "\"", "\\", "\n", "/"}
	var s strings.Builder
	for range n {
		s.WriteString(chars[g.r.IntN(len(chars))])
	}
	g.quote(s.String(), 0.05)
}

// quote writes s as a JSON string, escaping each character with
// probability p beyond those that must be.
func (g *docGen) quote(s string, p float64) {
	g.b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			g.b.WriteByte('\\')
			g.b.WriteRune(r)
		case r < 0x20 || g.chance(p):
			if r > 0xffff {
				r1, r2 := utf16Pair(r)
				fmt.Fprintf(&g.b, `\u%04x\u%04x`, r1, r2)
			} else {
				fmt.Fprintf(&g.b, `\u%04x`, r)
			}
		default:
			g.b.WriteRune(r)
		}
	}
	g.b.WriteByte('"')
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

package collector

import (
	"fmt"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	json "github.com/segmentio/encoding/json"
)

// A check is an event's schema compiled into Go checks that run over the
// raw JSON of its properties (or traits): no decoding into maps, no generic
// validator. The schema file stays the only source of the rules: a check is
// built at start-up from the schema the validator compiled, and only when
// the schema uses nothing but the keywords below; any other keyword leaves
// the event to the validator (TestCompiledEvents fails if that happens to
// an event the storefront sends). The supported keywords are the ones the
// e-commerce schemas use: type, properties, required, items, minLength,
// maxLength, pattern and minimum, plus annotations.
//
// A check accepts exactly the values the validator accepts, and for the
// others gives the same reason, built from the validator's own error kinds
// (TestCheckMatchesSchema, FuzzCheckMatchesSchema). It reads a value as
// the validator's decoder would: the last of repeated members wins, member
// names and strings are unescaped, a number is its exact decimal text —
// read without math/big where the validator's reading would be slow
// (decimal.go). When it cannot decide as the validator would, it says so
// and the validator decides.
type check struct {
	types jsonTypes // allowed types; 0 allows any
	want  []string  // the schema's types as the validator names them in an error

	// Objects: props are the schema's properties (check nil for a required
	// name without a schema), required indexes props in the schema's order.
	props    []property
	index    map[string]int // by property name
	required []int

	items *check // arrays: every item's check, or nil

	// Strings: the length limits count characters (code points); -1 is no
	// limit.
	minLen, maxLen int
	pattern        jsonschema.Regexp

	// Numbers.
	minimum  *big.Rat
	minInt   int64 // minimum, when minIsInt
	minIsInt bool
}

type property struct {
	name  string
	check *check
}

// jsonTypes is a set of JSON types, as JSON Schema names them.
type jsonTypes uint8

const (
	typeNull jsonTypes = 1 << iota
	typeBoolean
	typeNumber
	typeInteger
	typeString
	typeArray
	typeObject
)

var typeNames = map[string]jsonTypes{
	"null": typeNull, "boolean": typeBoolean, "number": typeNumber, "integer": typeInteger,
	"string": typeString, "array": typeArray, "object": typeObject,
}

// compiledKeywords are the fields of a compiled schema a check follows or
// may ignore (annotations). Any other field set means a keyword the check
// does not implement.
var compiledKeywords = map[string]bool{
	"DraftVersion": true, "Location": true,
	"Types": true, "Properties": true, "Required": true, "Items2020": true,
	"MinLength": true, "MaxLength": true, "Pattern": true, "Minimum": true,
	"Title": true, "Description": true, "Comment": true, "Default": true, "Examples": true,
	"ReadOnly": true, "WriteOnly": true, "Deprecated": true,
}

// compileCheck builds the check for sch, or says which keyword it does not
// support.
func compileCheck(sch *jsonschema.Schema) (*check, error) {
	if sch.DraftVersion != 2020 {
		return nil, fmt.Errorf("%s: draft %d, not 2020-12", sch.Location, sch.DraftVersion)
	}
	v := reflect.ValueOf(sch).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.IsExported() && !compiledKeywords[f.Name] && !v.Field(i).IsZero() {
			return nil, fmt.Errorf("%s: %s is not compiled", sch.Location, f.Name)
		}
	}
	ck := &check{minLen: -1, maxLen: -1, pattern: sch.Pattern, minimum: sch.Minimum}
	if sch.Types != nil {
		ck.want = sch.Types.ToStrings()
		for _, t := range ck.want {
			ck.types |= typeNames[t]
		}
	}
	if sch.MinLength != nil {
		ck.minLen = *sch.MinLength
	}
	if sch.MaxLength != nil {
		ck.maxLen = *sch.MaxLength
	}
	if m := sch.Minimum; m != nil && m.IsInt() && m.Num().IsInt64() {
		ck.minInt, ck.minIsInt = m.Num().Int64(), true
	}
	if sch.Items2020 != nil {
		items, err := compileCheck(sch.Items2020)
		if err != nil {
			return nil, err
		}
		ck.items = items
	}
	names := make([]string, 0, len(sch.Properties))
	for name := range sch.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	ck.index = make(map[string]int, len(names))
	for _, name := range names {
		p, err := compileCheck(sch.Properties[name])
		if err != nil {
			return nil, err
		}
		ck.index[name] = len(ck.props)
		ck.props = append(ck.props, property{name: name, check: p})
	}
	for _, name := range sch.Required {
		i, ok := ck.index[name]
		if !ok {
			i = len(ck.props)
			ck.index[name] = i
			ck.props = append(ck.props, property{name: name})
		}
		ck.required = append(ck.required, i)
	}
	return ck, nil
}

// run returns why raw (a well-formed JSON value; nil is an empty object,
// as for the validator) breaks the schema, named under field as the
// validator's reasons are, or "" when it is valid. ok is false when the
// check cannot decide and the validator must.
//
// A first pass only decides, without noting where it is; an invalid value
// is checked again to find every problem and its location.
func (ck *check) run(field string, raw []byte) (reason string, ok bool) {
	if raw == nil {
		raw = emptyObject
	}
	raw = raw[skipSpace(raw, 0):]
	raw = raw[:skipValue(raw, 0)]
	if len(raw) == 0 {
		return "", false
	}
	c := checker{}
	c.value(ck, raw, nil)
	if c.unsure {
		return "", false
	}
	if !c.invalid {
		return "", true
	}
	c = checker{report: true}
	c.value(ck, raw, nil)
	if c.unsure || len(c.problems) == 0 {
		return "", false
	}
	reasons := make([]string, len(c.problems))
	for i, p := range c.problems {
		reasons[i] = problemReason(field, p.loc, p.kind)
	}
	return summarize(reasons), true
}

var emptyObject = []byte("{}")

// checker checks one value.
type checker struct {
	report   bool        // note every problem and its location
	invalid  bool        // a problem was found
	problems []problemAt // when report
	unsure   bool        // the check cannot decide
}

type problemAt struct {
	loc  []string
	kind jsonschema.ErrorKind
}

// location is where a value sits: a member name or an array index under
// its parent. It is noted only when reporting.
type location struct {
	up    *location
	name  string // a member's name, when index is -1
	index int    // an item's index
}

// at returns the location of a member (index -1) or an item under up, or
// nil when not reporting.
func (c *checker) at(up *location, name string, index int) *location {
	if !c.report {
		return nil
	}
	return &location{up: up, name: name, index: index}
}

func (l *location) path() []string {
	var out []string
	for ; l != nil; l = l.up {
		if l.index < 0 {
			out = append(out, l.name)
		} else {
			out = append(out, strconv.Itoa(l.index))
		}
	}
	slices.Reverse(out)
	return out
}

func (c *checker) fail(loc *location, k jsonschema.ErrorKind) {
	c.invalid = true
	if c.report {
		c.problems = append(c.problems, problemAt{loc: loc.path(), kind: k})
	}
}

// done reports whether the first pass may stop: it has found a problem.
func (c *checker) done() bool { return c.invalid && !c.report }

// value checks raw, a well-formed JSON value without leading space.
func (c *checker) value(ck *check, raw []byte, loc *location) {
	t := rawType(raw)
	if ck.types != 0 && ck.types&t == 0 && !(t == typeNumber && ck.types&typeInteger != 0 && isInteger(raw)) {
		c.fail(loc, &kind.Type{Got: typeName(t), Want: ck.want})
		return
	}
	switch t {
	case typeObject:
		if len(ck.props) > 0 {
			c.object(ck, raw, loc)
		}
	case typeArray:
		if ck.items != nil {
			c.array(ck.items, raw, loc)
		}
	case typeString:
		if ck.minLen >= 0 || ck.maxLen >= 0 || ck.pattern != nil {
			c.string(ck, raw, loc)
		}
	case typeNumber:
		if ck.minimum != nil {
			c.number(ck, raw, loc)
		}
	}
}

// object checks the members of obj that have a schema, and the required
// ones. Of repeated members the last counts, as when decoding.
func (c *checker) object(ck *check, obj []byte, loc *location) {
	var buf [16][]byte
	vals := buf[:]
	if len(ck.props) > len(buf) {
		vals = make([][]byte, len(ck.props))
	}
	for i := skipSpace(obj, 1); i < len(obj) && obj[i] == '"'; {
		ks := i
		i = skipString(obj, i)
		key := obj[ks:i]
		i = skipSpace(obj, skipSpace(obj, i)+1) // past ':'
		vs := i
		i = skipValue(obj, i)
		if p, ok := ck.lookup(key); ok {
			vals[p] = obj[vs:i]
		}
		if i = skipSpace(obj, i); i >= len(obj) || obj[i] != ',' {
			break
		}
		i = skipSpace(obj, i+1)
	}
	var missing []string
	for _, p := range ck.required {
		if vals[p] == nil {
			missing = append(missing, ck.props[p].name)
		}
	}
	if missing != nil {
		c.fail(loc, &kind.Required{Missing: missing})
	}
	for p, v := range vals[:len(ck.props)] {
		if c.done() {
			return
		}
		if v != nil && ck.props[p].check != nil {
			c.value(ck.props[p].check, v, c.at(loc, ck.props[p].name, -1))
		}
	}
}

// lookup returns the index of the property named by the quoted JSON string
// key, unescaping it only when it has escapes or bytes that are not UTF-8.
func (ck *check) lookup(quoted []byte) (int, bool) {
	key := quoted[1 : len(quoted)-1]
	if plain(key) {
		i, ok := ck.index[string(key)]
		return i, ok
	}
	var s string
	if json.Unmarshal(quoted, &s) != nil {
		return 0, false
	}
	i, ok := ck.index[s]
	return i, ok
}

func (c *checker) array(items *check, arr []byte, loc *location) {
	n := 0
	for i := skipSpace(arr, 1); i < len(arr) && arr[i] != ']' && !c.done(); n++ {
		vs := i
		i = skipValue(arr, i)
		c.value(items, arr[vs:i], c.at(loc, "", n))
		if i = skipSpace(arr, i); i >= len(arr) || arr[i] != ',' {
			break
		}
		i = skipSpace(arr, i+1)
	}
}

func (c *checker) string(ck *check, quoted []byte, loc *location) {
	b := quoted[1 : len(quoted)-1]
	if !plain(b) {
		var s string
		if json.Unmarshal(quoted, &s) != nil {
			c.unsure = true
			return
		}
		b = []byte(s)
	}
	if ck.minLen >= 0 || ck.maxLen >= 0 {
		n := utf8.RuneCount(b)
		if ck.minLen >= 0 && n < ck.minLen {
			c.fail(loc, &kind.MinLength{Got: n, Want: ck.minLen})
		}
		if ck.maxLen >= 0 && n > ck.maxLen {
			c.fail(loc, &kind.MaxLength{Got: n, Want: ck.maxLen})
		}
	}
	if ck.pattern != nil && !matches(ck.pattern, b) {
		c.fail(loc, &kind.Pattern{Got: string(b), Want: ck.pattern.String()})
	}
}

// matches runs re over b without copying b when re is a Go regexp, the
// validator's default engine.
func matches(re jsonschema.Regexp, b []byte) bool {
	if re, ok := re.(*regexp.Regexp); ok {
		return re.Match(b)
	}
	return re.MatchString(string(b))
}

// number checks the minimum as the validator does, on the exact value of
// the number's decimal text.
func (c *checker) number(ck *check, raw []byte, loc *location) {
	if n, ok := smallInt(raw); ok && ck.minIsInt && n >= ck.minInt {
		return
	}
	d := parseDecimal(raw)
	var below bool
	switch {
	case !d.ok:
		c.unsure = true // the validator cannot read it either
		return
	case ck.minIsInt:
		below = d.cmpInt(ck.minInt) < 0
	case d.cheap():
		below = d.exact().Cmp(ck.minimum) < 0
	default:
		c.unsure = true
		return
	}
	if below {
		c.fail(loc, &kind.Minimum{Got: d.rat(raw), Want: ck.minimum})
	}
}

// plain reports whether the content of a JSON string (or name) is its
// value: no escapes, and valid UTF-8.
func plain(b []byte) bool {
	ascii := true
	for _, c := range b {
		if c == '\\' {
			return false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	return ascii || utf8.Valid(b)
}

// rawType is the JSON type of a well-formed value, from its first byte.
// Every number is typeNumber: the validator sees a decimal text.
func rawType(raw []byte) jsonTypes {
	switch raw[0] {
	case '{':
		return typeObject
	case '[':
		return typeArray
	case '"':
		return typeString
	case 't', 'f':
		return typeBoolean
	case 'n':
		return typeNull
	}
	return typeNumber
}

func typeName(t jsonTypes) string {
	for name, bit := range typeNames {
		if bit == t {
			return name
		}
	}
	return "invalid"
}

// isInteger reports whether the JSON number raw is an integer as the
// validator decides it: its exact value has no fraction (1.0 and 1e2 are
// integers), and math/big can read it (it refuses exponents beyond a
// million, so 1e1000001 is not an integer).
func isInteger(raw []byte) bool {
	if _, ok := smallInt(raw); ok {
		return true
	}
	return parseDecimal(raw).isInteger()
}

// smallInt reads a JSON number written as an integer of at most 18 digits.
func smallInt(raw []byte) (int64, bool) {
	neg := len(raw) > 0 && raw[0] == '-'
	digits := raw
	if neg {
		digits = raw[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		return 0, false
	}
	var n int64
	for _, d := range digits {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int64(d-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

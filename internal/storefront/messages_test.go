package storefront

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"

	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/storefront/i18n"
)

// requireKey fails unless key is in both catalogs.
func requireKey(t *testing.T, where, key string) {
	t.Helper()
	for _, lang := range i18n.Langs {
		if s, ok := i18n.Lookup(lang, key); !ok || strings.TrimSpace(s) == "" {
			t.Errorf("%s: message %q is missing or empty in %s", where, key, lang)
		}
	}
}

var placeholder = regexp.MustCompile(`\{[0-9]+\}`)

func TestCatalogsMatch(t *testing.T) {
	en, ar := i18n.Keys(souq.English), i18n.Keys(souq.Arabic)
	if !slices.Equal(en, ar) {
		for _, k := range en {
			if _, ok := i18n.Lookup(souq.Arabic, k); !ok {
				t.Errorf("%q is in en.json, not in ar.json", k)
			}
		}
		for _, k := range ar {
			if _, ok := i18n.Lookup(souq.English, k); !ok {
				t.Errorf("%q is in ar.json, not in en.json", k)
			}
		}
	}
	for _, k := range en {
		e, _ := i18n.Lookup(souq.English, k)
		a, _ := i18n.Lookup(souq.Arabic, k)
		pe, pa := placeholder.FindAllString(e, -1), placeholder.FindAllString(a, -1)
		slices.Sort(pe)
		slices.Sort(pa)
		if !slices.Equal(slices.Compact(pe), slices.Compact(pa)) {
			t.Errorf("%q: placeholders differ: en %v, ar %v", k, pe, pa)
		}
		if k != "site.name" && !strings.HasPrefix(k, "format.") && k != "order.area_city" && !hasArabic(a) {
			t.Errorf("%q: the Arabic message %q has no Arabic text", k, a)
		}
	}
}

func hasArabic(s string) bool {
	for _, r := range s {
		if r >= 0x0600 && r <= 0x06FF {
			return true
		}
	}
	return false
}

// TestTemplateKeys walks the parse tree of every template and checks each
// key given to t is in both catalogs.
func TestTemplateKeys(t *testing.T) {
	files, err := filepath.Glob("templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v", err)
	}
	fm := map[string]any{}
	for k, v := range funcs(souq.English) {
		fm[k] = v
	}
	found := 0
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		trees, err := parse.Parse(file, string(src), "", "", fm, map[string]any{"and": 1, "or": 1, "not": 1, "eq": 1, "ne": 1, "index": 1, "len": 1, "printf": 1})
		if err != nil {
			t.Fatalf("parse %s: %v", file, err)
		}
		for _, tree := range trees {
			walk(tree.Root, func(cmd *parse.CommandNode) {
				if id, ok := cmd.Args[0].(*parse.IdentifierNode); ok && id.Ident == "t" {
					s, ok := cmd.Args[1].(*parse.StringNode)
					if !ok {
						t.Errorf("%s: t with a computed key: %s", file, cmd)
						return
					}
					found++
					requireKey(t, file, s.Text)
				}
			})
		}
	}
	if found < 100 {
		t.Errorf("found %d message keys in the templates; the walk is broken", found)
	}
}

// walk calls fn for every command in the tree under n.
func walk(n parse.Node, fn func(*parse.CommandNode)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, fn)
		}
	case *parse.ActionNode:
		walk(n.Pipe, fn)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walk(c, fn)
		}
	case *parse.CommandNode:
		fn(n)
		for _, a := range n.Args {
			walk(a, fn)
		}
	case *parse.IfNode:
		walk(n.Pipe, fn)
		walk(n.List, fn)
		walk(n.ElseList, fn)
	case *parse.RangeNode:
		walk(n.Pipe, fn)
		walk(n.List, fn)
		walk(n.ElseList, fn)
	case *parse.WithNode:
		walk(n.Pipe, fn)
		walk(n.List, fn)
		walk(n.ElseList, fn)
	case *parse.TemplateNode:
		walk(n.Pipe, fn)
	}
}

// keyLiteral is a string literal in Go code that names a message.
var keyLiteral = regexp.MustCompile(`^(cart|checkout|consent|error|filter|format|home|lang|list|market|month|nav|order|price|product|quantity|sale|search|site|sort|stock|vat|zone)\.[a-z0-9_.]*[a-z0-9_]$`)

// TestGoKeys checks every message key written in the package's Go code, and
// the keys it builds from values (cities, months, sorts, statuses, zones).
func TestGoKeys(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	found := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, _ := strconv.Unquote(lit.Value)
			if keyLiteral.MatchString(s) && !strings.HasSuffix(s, ".css") && !strings.HasSuffix(s, ".js") {
				found++
				requireKey(t, fset.Position(lit.Pos()).String(), s)
			}
			return true
		})
	}
	if found < 20 {
		t.Errorf("found %d keys in Go code; the scan is broken", found)
	}
	for _, m := range souq.Markets() {
		requireKey(t, "zone", "zone."+strings.ToLower(string(m.Code)))
		for _, c := range m.Cities {
			requireKey(t, "city of "+string(m.Code), cityKey(c))
		}
	}
	for i := 1; i <= 12; i++ {
		requireKey(t, "month", "month."+strconv.Itoa(i))
	}
	for _, so := range sorts {
		requireKey(t, "sort", "sort."+sortKey(so))
	}
	for _, st := range []souq.OrderStatus{souq.StatusPendingPayment, souq.StatusPlaced, souq.StatusPaid, souq.StatusCancelled} {
		requireKey(t, "status", "order.status."+string(st))
	}
	for _, field := range append(slices.Collect(maps.Values(serviceFields)), "payment") {
		requireKey(t, "checkout field", "checkout.error."+field)
	}
}

func TestLocaleFormats(t *testing.T) {
	tests := []struct{ got, want string }{
		{i18n.Percent(souq.Arabic, 1500), "١٥٪"},
		{i18n.Percent(souq.English, 500), "5%"},
		{i18n.Percent(souq.English, 250), "2.5%"},
		{i18n.Number(souq.Arabic, 2026), "٢٠٢٦"},
		{i18n.ASCIIDigits("٠٥٠ ۱۲۳"), "050 123"},
		{i18n.T(souq.English, "list.page_of", 2, 5), "Page 2 of 5"},
		{i18n.T(souq.English, "no.such.key"), i18n.MissingPrefix + "no.such.key"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// Package terraform_test checks Souq's Terraform offline: every .tf and
// .tfvars file parses with HCL's own parser, and the policies of
// deploy/terraform/README.md hold. Terraform itself (init, validate,
// plan) needs the registry and AWS and is the operator's step.
package terraform_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// file is one parsed .tf or .tfvars file.
type file struct {
	path string // slash-separated, relative to the tree's root
	src  []byte
	body *hclsyntax.Body
}

// tree is every Terraform file under a root.
type tree struct {
	root  string
	files []*file
}

// found is a block and the file that holds it.
type found struct {
	f *file
	b *hclsyntax.Block
}

// load parses every .tf and .tfvars file under root. A file that does
// not parse is an error naming it.
func load(root string) (*tree, error) {
	p := hclparse.NewParser()
	tr := &tree{root: root}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".tf") || strings.HasSuffix(path, ".tfvars")) {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		hf, diags := p.ParseHCL(src, path)
		if diags.HasErrors() {
			return fmt.Errorf("parse %s: %s", path, diags.Error())
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		tr.files = append(tr.files, &file{path: filepath.ToSlash(rel), src: src, body: hf.Body.(*hclsyntax.Body)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(tr.files) == 0 {
		return nil, fmt.Errorf("no Terraform files under %s", root)
	}
	sort.Slice(tr.files, func(i, j int) bool { return tr.files[i].path < tr.files[j].path })
	return tr, nil
}

// mustLoad loads root or fails the test.
func mustLoad(t *testing.T, root string) *tree {
	t.Helper()
	tr, err := load(root)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// blocks returns the top-level blocks of a type whose labels start with
// labels, in file order, from files whose path starts with dir ("" for
// all).
func (tr *tree) blocks(dir, typ string, labels ...string) []found {
	var out []found
	for _, f := range tr.files {
		if !strings.HasPrefix(f.path, dir) || !strings.HasSuffix(f.path, ".tf") {
			continue
		}
		for _, b := range f.body.Blocks {
			if b.Type == typ && hasPrefix(b.Labels, labels) {
				out = append(out, found{f, b})
			}
		}
	}
	return out
}

// one returns the only block of a type and labels under dir, or reports
// its absence as a problem.
func (tr *tree) one(dir, typ string, labels ...string) (found, string) {
	bs := tr.blocks(dir, typ, labels...)
	if len(bs) != 1 {
		return found{}, fmt.Sprintf("%s: want one %s %q, got %d", dir, typ, labels, len(bs))
	}
	return bs[0], ""
}

func hasPrefix(have, want []string) bool {
	if len(want) > len(have) {
		return false
	}
	for i := range want {
		if have[i] != want[i] {
			return false
		}
	}
	return true
}

// where names a block's position for a problem.
func (fb found) where() string {
	return fmt.Sprintf("%s:%d %s %s", fb.f.path, fb.b.TypeRange.Start.Line, fb.b.Type, strings.Join(fb.b.Labels, "."))
}

// src returns an expression's source text.
func (f *file) text(e hclsyntax.Expression) string {
	r := e.Range()
	return strings.TrimSpace(string(f.src[r.Start.Byte:r.End.Byte]))
}

// attr returns the source text of a block's attribute ("" when absent).
func (fb found) attr(name string) string {
	a, ok := fb.b.Body.Attributes[name]
	if !ok {
		return ""
	}
	return fb.f.text(a.Expr)
}

// expr returns a block's attribute expression (nil when absent).
func (fb found) expr(name string) hclsyntax.Expression {
	if a, ok := fb.b.Body.Attributes[name]; ok {
		return a.Expr
	}
	return nil
}

// sub returns the nested blocks of a type.
func (fb found) sub(typ string) []found {
	var out []found
	for _, b := range fb.b.Body.Blocks {
		if b.Type == typ {
			out = append(out, found{fb.f, b})
		}
	}
	return out
}

// str evaluates a literal string expression; ok is false for anything
// with references.
func str(e hclsyntax.Expression) (string, bool) {
	if e == nil {
		return "", false
	}
	v, diags := e.Value(nil)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type().FriendlyName() != "string" {
		return "", false
	}
	return v.AsString(), true
}

// strs evaluates a literal list of strings.
func strs(e hclsyntax.Expression) ([]string, bool) {
	tup, ok := e.(*hclsyntax.TupleConsExpr)
	if !ok {
		return nil, false
	}
	var out []string
	for _, item := range tup.Exprs {
		s, ok := str(item)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// key returns an object item's key as written (quotes removed).
func key(f *file, item hclsyntax.ObjectConsItem) string {
	return strings.Trim(f.text(item.KeyExpr), `"`)
}

// field follows a path of keys through nested object expressions and
// returns the source text at its end ("" when a key is missing).
func field(f *file, e hclsyntax.Expression, path ...string) hclsyntax.Expression {
	for _, k := range path {
		obj, ok := e.(*hclsyntax.ObjectConsExpr)
		if !ok {
			return nil
		}
		var next hclsyntax.Expression
		for _, item := range obj.Items {
			if key(f, item) == k {
				next = item.ValueExpr
			}
		}
		if next == nil {
			return nil
		}
		e = next
	}
	return e
}

// fieldText is field's source text, "" when missing.
func fieldText(f *file, e hclsyntax.Expression, path ...string) string {
	if e == nil {
		return ""
	}
	x := field(f, e, path...)
	if x == nil {
		return ""
	}
	return f.text(x)
}

// dirs returns the directories holding .tf files.
func (tr *tree) dirs() []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range tr.files {
		if !strings.HasSuffix(f.path, ".tf") {
			continue
		}
		d := filepath.ToSlash(filepath.Dir(f.path))
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}

// walkAttrs calls fn for every attribute in a body, nested blocks
// included.
func walkAttrs(f *file, body *hclsyntax.Body, fn func(*hclsyntax.Attribute)) {
	for _, a := range body.Attributes {
		fn(a)
	}
	for _, b := range body.Blocks {
		walkAttrs(f, b.Body, fn)
	}
}

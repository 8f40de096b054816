package postgres

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/demo"
	"github.com/souq-commerce/souq/internal/souq"
)

// planNode is a node of EXPLAIN (FORMAT JSON)'s plan tree.
type planNode struct {
	NodeType  string     `json:"Node Type"`
	Relation  string     `json:"Relation Name"`
	IndexName string     `json:"Index Name"`
	Plans     []planNode `json:"Plans"`
}

// walk calls fn for n and every node below it, with the nodes above it.
func (n planNode) walk(above []planNode, fn func(n planNode, above []planNode)) {
	fn(n, above)
	for _, c := range n.Plans {
		c.walk(append(above, n), fn)
	}
}

// String draws the plan, one node a line.
func (n planNode) String() string {
	var b strings.Builder
	n.walk(nil, func(n planNode, above []planNode) {
		fmt.Fprintf(&b, "%s%s", strings.Repeat("  ", len(above)), n.NodeType)
		if n.IndexName != "" {
			fmt.Fprintf(&b, " using %s", n.IndexName)
		}
		if n.Relation != "" {
			fmt.Fprintf(&b, " on %s", n.Relation)
		}
		b.WriteByte('\n')
	})
	return b.String()
}

// has reports whether a node of the plan is of type nodeType (or ends so:
// "Sort" finds "Incremental Sort" too) and, when index or relation is set,
// reads that index or relation.
func (n planNode) has(nodeType, index, relation string) bool {
	found := false
	n.walk(nil, func(n planNode, _ []planNode) {
		found = found || strings.HasSuffix(n.NodeType, nodeType) &&
			(index == "" || n.IndexName == index) && (relation == "" || n.Relation == relation)
	})
	return found
}

// sortsTable reports whether a Sort node of the plan sorts the rows of a
// sequential scan of products or product_prices: the whole catalogue.
func (n planNode) sortsTable() bool {
	found := false
	n.walk(nil, func(n planNode, above []planNode) {
		if n.NodeType != "Seq Scan" || n.Relation != "products" && n.Relation != "product_prices" {
			return
		}
		for _, a := range above {
			found = found || strings.HasSuffix(a.NodeType, "Sort")
		}
	})
	return found
}

// scansTable reports whether the plan reads products or product_prices
// whole.
func (n planNode) scansTable() bool {
	return n.has("Seq Scan", "", "products") || n.has("Seq Scan", "", "product_prices")
}

// planner explains listing statements on one connection of db.
type planner struct {
	conn *pgx.Conn
	n    int // statements prepared
}

// plan returns PostgreSQL's plan for query with args: the plan made for
// those arguments (as for a search, and for the first five calls of a
// prepared statement) or, generic, the plan a prepared statement may be
// given after that, made for any arguments.
func (p *planner) plan(t *testing.T, query string, args []any, generic bool) planNode {
	t.Helper()
	var raw []byte
	var err error
	if !generic {
		err = p.conn.QueryRow(t.Context(), "EXPLAIN (FORMAT JSON) "+query, args...).Scan(&raw)
	} else {
		p.n++
		name := fmt.Sprintf("listing_%d", p.n)
		if _, err := p.conn.Prepare(t.Context(), name, query); err != nil {
			t.Fatalf("prepare %s: %v", query, err)
		}
		lits := make([]string, len(args))
		for i, a := range args {
			lits[i] = literal(a)
		}
		err = p.conn.QueryRow(t.Context(), "EXPLAIN (FORMAT JSON) EXECUTE "+name+"("+strings.Join(lits, ", ")+")").Scan(&raw)
	}
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	var out []struct{ Plan planNode }
	if err := json.Unmarshal(raw, &out); err != nil || len(out) != 1 {
		t.Fatalf("explain %s: %s: %v", query, raw, err)
	}
	return out[0].Plan
}

// literal writes an argument of a listing statement as SQL.
func literal(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case time.Time:
		return "'" + v.Format(time.RFC3339Nano) + "'"
	default:
		return fmt.Sprint(v)
	}
}

// TestListingPlans checks the plans of listings on 20,000 demo products
// after ANALYZE. Without search terms, every listing reads its page
// through an index serving its order (and, the planner willing, its
// filter) and sorts nothing, whether planned for its arguments or
// generically. With terms, the walk does the same; the matches of terms
// few products have are read through the full-text index, and neither
// reads a whole table.
func TestListingPlans(t *testing.T) {
	t.Parallel()
	db := openTest(t, testURL(t), Options{})
	cat := catalog.New(db, time.Now, slog.New(slog.DiscardHandler))
	if _, err := cat.CreateMany(t.Context(), demo.LargeCatalogue(20_000)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(t.Context(), `ANALYZE products, product_prices`); err != nil {
		t.Fatal(err)
	}
	conn, err := db.pool.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(t.Context(), `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err) // for EXECUTE; EXPLAIN of a statement with arguments is planned for them
	}
	p := &planner{conn: conn.Conn()}
	statement := func(t *testing.T, q catalog.Query, build func(l *listing) string) (string, []any) {
		t.Helper()
		l, ok := newListing(q)
		if !ok {
			t.Fatalf("%+v matches nothing", q)
		}
		query := build(l)
		l.args[len(l.args)-2], l.args[len(l.args)-1] = 24, 0
		return query, l.args
	}

	// The indexes serving each order: unfiltered, by category, by brand.
	orderIndexes := map[catalog.Sort][3]string{
		catalog.SortFeatured: {"products_created", "products_category_created", "products_brand_created"},
		catalog.SortName:     {"products_name", "products_category_name", "products_brand_name"},
		catalog.SortPriceAsc: {"product_prices_market", "product_prices_category", "product_prices_brand"},
		catalog.SortPriceDsc: {"product_prices_market", "product_prices_category", "product_prices_brand"},
	}
	readsOrder := func(plan planNode, sort catalog.Sort) bool {
		for _, index := range orderIndexes[sort] {
			if plan.has("Index Scan", index, "") || plan.has("Index Only Scan", index, "") {
				return true
			}
		}
		return false
	}
	sorts := []catalog.Sort{catalog.SortFeatured, catalog.SortName, catalog.SortPriceAsc, catalog.SortPriceDsc}
	position := &catalog.Position{ID: "prd_x", Created: time.Now(), Name: "Glow", Amount: 9000}
	for _, sort := range sorts {
		for _, filter := range []catalog.Query{{}, {Category: "makeup"}, {Brand: "COSRX"}, {Category: "bodycare"}} {
			for _, after := range []*catalog.Position{nil, position} {
				q := filter
				q.Sort, q.Market, q.After, q.Limit = sort, souq.AE, after, 24
				t.Run(fmt.Sprintf("page/%s/%s%s/keyset=%t", sort, q.Category, q.Brand, after != nil), func(t *testing.T) {
					query, args := statement(t, q, (*listing).pageSQL)
					for _, generic := range []bool{false, true} {
						plan := p.plan(t, query, args, generic)
						if plan.has("Sort", "", "") || plan.scansTable() || !readsOrder(plan, sort) {
							t.Errorf("generic %t: the plan does not read the page in order through an index:\n%s\n%s", generic, query, plan)
						}
					}
				})
			}
		}
	}

	for _, sort := range sorts {
		for _, filter := range []catalog.Query{{}, {Category: "skincare"}} {
			q := filter
			q.Sort, q.Market, q.Terms, q.Limit = sort, souq.AE, []string{"s"}, 24
			t.Run(fmt.Sprintf("walk/%s/%s", sort, q.Category), func(t *testing.T) {
				query, args := statement(t, q, func(l *listing) string { return l.walkSQL(walkFactor * 24) })
				plan := p.plan(t, query, args, false)
				if plan.has("Sort", "", "") || plan.scansTable() || !readsOrder(plan, sort) {
					t.Errorf("the walk does not read the listing's index in order:\n%s\n%s", query, plan)
				}
			})
		}
		for _, q := range []catalog.Query{
			{Terms: []string{"zzz"}},
			{Terms: []string{"cosrx", "v17"}},
			{Terms: []string{"mediheal"}},
			{Terms: []string{"mediheal"}, Category: "makeup"}, // a brand of masks
		} {
			q.Sort, q.Market, q.Limit = sort, souq.AE, 24
			t.Run(fmt.Sprintf("matches/%s/%s/%s", sort, q.Terms, q.Category), func(t *testing.T) {
				query, args := statement(t, q, (*listing).matchSQL)
				plan := p.plan(t, query, args, false)
				if plan.sortsTable() || plan.scansTable() || !plan.has("Bitmap Index Scan", "products_search", "") {
					t.Errorf("the matches are not read through the full-text index:\n%s\n%s", query, plan)
				}
			})
		}
	}
}

// TestSearchTermsAreLexemes checks that a search term is one prefix lexeme
// of the tsquery whatever it holds: tsquery syntax, quotes and backslashes
// are matched as characters, never read as operators and never an error,
// and a term no stored word can start with matches nothing.
func TestSearchTermsAreLexemes(t *testing.T) {
	t.Parallel()
	db := openTest(t, testURL(t), Options{})
	nasty := []string{`'`, `''`, `\`, `\\`, `\'`, `'\''`, `a'b`, `a\`, `x' | 'y`, `x':* | 'y`, `x' & !'y`,
		`a:*`, `:`, `:*`, `a:b`, `a:A`, `&`, `|`, `!`, `!x`, `(`, `)`, `()`, `<->`, `<2>`, `a & b`, `*`, `"a"`,
		"tab\there", `é'`, `سيروم'`}
	for _, term := range nasty {
		tsq, ok := tsQuery([]string{term})
		if !ok {
			t.Errorf("tsQuery(%q): a term that can be matched is refused", term)
			continue
		}
		var nodes int
		var prefix, inner bool
		err := db.pool.QueryRow(t.Context(), `SELECT numnode($1::tsquery),
			array_to_tsvector(ARRAY[$2::text || 'tail']) @@ $1::tsquery,
			array_to_tsvector(ARRAY['x' || $2::text]) @@ $1::tsquery`, tsq, term).Scan(&nodes, &prefix, &inner)
		switch {
		case err != nil:
			t.Errorf("term %q as %s: %v", term, tsq, err)
		case nodes != 1 || !prefix || inner:
			t.Errorf("term %q as %s: got %d nodes, a word it starts matched %t, a word it is inside matched %t; want 1, true, false",
				term, tsq, nodes, prefix, inner)
		}
	}

	products := []catalog.NewProduct{}
	for i, text := range []string{"glow serum", "rose toner"} {
		p := souq.Product{ID: souq.ID(fmt.Sprintf("prd_%d", i)), SKU: fmt.Sprintf("SKU-%d", i), Slug: fmt.Sprintf("p-%d", i),
			Brand: "Anua", Category: "skincare", Name: souq.Localized{EN: text, AR: text},
			Prices: map[souq.MarketCode]int64{souq.AE: 100}, CreatedAt: time.Unix(int64(i), 0).UTC(), UpdatedAt: time.Unix(int64(i), 0).UTC()}
		products = append(products, catalog.NewProduct{Product: p, SearchText: text})
	}
	if err := db.CreateProducts(t.Context(), products); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		terms []string
		want  int
	}{
		{[]string{"glow"}, 1},
		{[]string{"glow", `zz':* | 'rose`}, 0},
		{[]string{`x' | 'glow`}, 0},
		{[]string{`x':* | !'zz`}, 0},
		{[]string{"glow", "se"}, 1},
		{[]string{"glow", "serum\x00"}, 0},
		{[]string{"glow", "\xffserum"}, 0},
		{[]string{"glow", strings.Repeat("s", 3000)}, 0},
	} {
		for _, sort := range []catalog.Sort{catalog.SortFeatured, catalog.SortName} {
			q := catalog.Query{Terms: tt.terms, Sort: sort, Limit: 24}
			got, err := db.ListProducts(t.Context(), q)
			if err != nil || len(got) != tt.want {
				t.Errorf("ListProducts(%q): got %d products, %v; want %d", tt.terms, len(got), err, tt.want)
			}
			n, err := db.CountProducts(t.Context(), q, 0)
			if err != nil || n != tt.want {
				t.Errorf("CountProducts(%q): got %d, %v; want %d", tt.terms, n, err, tt.want)
			}
		}
	}
}

package sqlite

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// queryPlan returns SQLite's plan for query, one step a line.
func queryPlan(t *testing.T, db *DB, query string, args []any) string {
	t.Helper()
	var steps []string
	err := queryRows(t.Context(), db.read, "EXPLAIN QUERY PLAN "+query, args, func(rows *sql.Rows) error {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return err
		}
		steps = append(steps, detail)
		return nil
	})
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	return strings.Join(steps, "\n")
}

// TestListingPlans checks that every listing without search terms reads
// its page through an index serving its filter and its order: no step
// sorts the rows, and no table is scanned other than through the index the
// order uses. The plan is fixed by the SQL, not by statistics, so it holds
// whatever ANALYZE found.
func TestListingPlans(t *testing.T) {
	path := filepath.Join(t.TempDir(), "souq.db")
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Statistics as a 100,000-product catalogue analysed before the
	// listing indexes were added has them: the price index looks
	// unselective and the new indexes have none, which once led the
	// planner to read another price index and sort every row.
	if err := db.Optimize(t.Context()); err != nil { // creates sqlite_stat1
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`DELETE FROM sqlite_stat1`,
		`INSERT INTO sqlite_stat1 VALUES ('products', 'products_name_en', '100000 1 1'),
			('products', 'products_created_at', '100000 1 1'),
			('products', 'sqlite_autoindex_products_1', '100000 1'),
			('product_prices', 'product_prices_market', '600000 100000 555 1'),
			('product_prices', 'product_prices', '600000 6 1')`,
	} {
		if _, err := db.write.ExecContext(t.Context(), stmt); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, path, Options{}) // its connections load the statistics
	sorts := []catalog.Sort{catalog.SortFeatured, catalog.SortName, catalog.SortPriceAsc, catalog.SortPriceDsc}
	wantIndex := map[catalog.Sort][3]string{ // no filter, category, brand
		catalog.SortFeatured: {"products_created_at", "products_category_created", "products_brand_created"},
		catalog.SortName:     {"products_name_en", "products_category_name", "products_brand_name"},
		catalog.SortPriceAsc: {"product_prices_market", "product_prices_category", "product_prices_brand"},
		catalog.SortPriceDsc: {"product_prices_market", "product_prices_category", "product_prices_brand"},
	}
	for _, sort := range sorts {
		for f, filter := range []catalog.Query{{}, {Category: "skincare"}, {Brand: "Cosrx"}} {
			for _, after := range []*catalog.Position{nil, {ID: "prd_x", Name: "x", Amount: 5}} {
				q := filter
				q.Sort, q.Market, q.After, q.Limit = sort, souq.AE, after, 24
				name := fmt.Sprintf("%s/%+v/keyset=%t", sort, filter, after != nil)
				t.Run(name, func(t *testing.T) {
					query, args := listSQL(q, true, false)
					plan := queryPlan(t, db, query, append(args, 24, 0))
					if strings.Contains(plan, "TEMP B-TREE") {
						t.Errorf("plan sorts rows:\n%s", plan)
					}
					if want := "INDEX " + wantIndex[sort][f]; !strings.Contains(plan+"\n", want+" (") && !strings.Contains(plan+"\n", want+"\n") {
						t.Errorf("plan does not read %s:\n%s", want, plan)
					}
					for _, step := range strings.Split(plan, "\n") {
						if strings.HasPrefix(step, "SCAN") && !strings.Contains(step, "USING INDEX") && !strings.Contains(step, "COVERING INDEX") {
							t.Errorf("plan scans a table:\n%s", plan)
						}
					}
					t.Logf("%s\n%s", query, plan)
				})
			}
		}
	}
}

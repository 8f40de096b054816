package postgres

import (
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/demo"
	"github.com/souq-commerce/souq/internal/souq"
)

func TestExploreLoad(t *testing.T) {
	url := os.Getenv("EXPLORE_URL")
	if url == "" {
		t.Skip()
	}
	db := openTest(t, url, Options{})
	svc := catalog.New(db, time.Now, slog.New(slog.DiscardHandler))
	start := time.Now()
	if _, err := svc.CreateMany(t.Context(), demo.LargeCatalogue(100000)); err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded in %v", time.Since(start))
	if err := db.Optimize(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestExplorePlans(t *testing.T) {
	url := os.Getenv("EXPLORE_URL")
	if url == "" {
		t.Skip()
	}
	db := openTest(t, url, Options{})
	qs := []catalog.Query{}
	for _, terms := range [][]string{{"serum"}, {"s"}, {"mediheal"}, {"biodance", "amber"}, {"ramadan"}, {"25"}, {"zzz"}, {"collagen", "rose"}} {
		for _, q := range []catalog.Query{
			{}, {Sort: catalog.SortName}, {Sort: catalog.SortPriceAsc, Market: "AE"}, {Sort: catalog.SortPriceDsc, Market: "AE"},
			{Brand: "COSRX"}, {Category: "makeup", Sort: catalog.SortPriceAsc, Market: "SA"},
		} {
			q.Terms, q.Limit = terms, 24
			qs = append(qs, q)
		}
	}
	for _, q := range qs {
		query, args := listSQL(q, false)
		args = append(args, q.Limit, 0)
		start := time.Now()
		rows, err := db.pool.Query(t.Context(), "EXPLAIN (ANALYZE, BUFFERS) "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for rows.Next() {
			var s string
			rows.Scan(&s)
			lines = append(lines, s)
		}
		rows.Close()
		short := lines[len(lines)-1]
		t.Logf("%v %+v terms=%v  %s\n    %s", time.Since(start).Round(time.Millisecond), q.Sort, q.Terms, q.Brand+q.Category, short)
		if os.Getenv("EXPLORE_V") != "" {
			for _, l := range lines {
				t.Log(l)
			}
		}
	}
}

func TestExploreCreate(t *testing.T) {
	db := openTest(t, testURL(t), Options{})
	ins := demo.LargeCatalogue(5000)
	for round := 0; round < 5; round++ {
		nps := make([]catalog.NewProduct, 1000)
		for i := range nps {
			in := ins[round*1000+i]
			p := souq.Product{ID: souq.NewID(souq.ProductPrefix), SKU: in.SKU, Slug: in.Slug, Brand: in.Brand, Category: in.Category, Name: in.Name, Description: in.Description, Prices: in.Prices, CreatedAt: time.Now(), UpdatedAt: time.Now()}
			nps[i] = catalog.NewProduct{Product: p, SearchText: catalog.SearchText(p)}
		}
		start := time.Now()
		if err := db.CreateProducts(t.Context(), nps); err != nil {
			t.Fatal(err)
		}
		t.Logf("1000 in %v", time.Since(start))
	}
}

package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// largeCatalog is a catalogue big enough that a broad search term matches
// more products than an adapter would read to answer a page (the SQLite
// adapter reads them all up to 1,000 matches), with ties in every sort key.
func largeCatalog(n int) []souq.Product {
	cats := []string{"skincare", "makeup", "suncare"}
	brands := []string{"Cosrx", "Anua", "Laneige", "Klairs", "Hera", "Clio", "Innisfree"}
	out := make([]souq.Product, n)
	for i := range out {
		p := newProduct(fmt.Sprintf("prd_%05d", i), fmt.Sprintf("LRG-%05d", i))
		p.Slug = fmt.Sprintf("large-%05d", i)
		p.Category, p.Brand = cats[i%len(cats)], brands[i%len(brands)]
		p.CreatedAt = at(time.Duration(i%700) * time.Second)
		name, nameAR := fmt.Sprintf("Toner %d", i%50), fmt.Sprintf("تونر %d", i%50)
		if i%5 != 0 {
			name, nameAR = fmt.Sprintf("Glow serum %d", i%50), fmt.Sprintf("سيروم التوهج %d", i%50)
		}
		if i%2 == 0 {
			name = strings.ToUpper(name) // names differ in case only: NOCASE ties
		}
		if i%83 == 0 {
			name += " Rare Edition"
		}
		p.Name = souq.Localized{EN: name, AR: nameAR}
		p.Prices = map[souq.MarketCode]int64{souq.AE: 1000 + int64(i*37%500)}
		if i%4 != 0 {
			p.Prices[souq.SA] = 2000 + int64(i*11%300)
		}
		out[i] = p
	}
	return out
}

// expectList answers q over products the way the contract says a store
// does: filter, then sort with ties by id.
func expectList(products []souq.Product, q catalog.Query) []souq.ID {
	var out []souq.Product
	for _, p := range products {
		if q.Category != "" && p.Category != q.Category || q.Brand != "" && p.Brand != q.Brand {
			continue
		}
		if _, ok := p.Prices[q.Market]; q.Market != "" && !ok {
			continue
		}
		words := " " + catalog.SearchText(p)
		match := true
		for _, t := range q.Terms {
			match = match && strings.Contains(words, " "+t)
		}
		if match {
			out = append(out, p)
		}
	}
	sort := q.Sort
	if q.Market == "" && (sort == catalog.SortPriceAsc || sort == catalog.SortPriceDsc) {
		sort = catalog.SortFeatured
	}
	slices.SortFunc(out, func(a, b souq.Product) int {
		switch sort {
		case catalog.SortName:
			return cmp.Or(strings.Compare(strings.ToLower(a.Name.EN), strings.ToLower(b.Name.EN)), strings.Compare(string(a.ID), string(b.ID)))
		case catalog.SortPriceAsc:
			return cmp.Or(cmp.Compare(a.Prices[q.Market], b.Prices[q.Market]), strings.Compare(string(a.ID), string(b.ID)))
		case catalog.SortPriceDsc:
			return cmp.Or(cmp.Compare(b.Prices[q.Market], a.Prices[q.Market]), strings.Compare(string(b.ID), string(a.ID)))
		}
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(string(a.ID), string(b.ID)))
	})
	return ids(out)
}

var allSorts = []catalog.Sort{catalog.SortFeatured, catalog.SortNewest, catalog.SortName, catalog.SortPriceAsc, catalog.SortPriceDsc}

// testListKeyset checks that following keyset positions lists the same
// products as one unpaged listing, for every sort, with and without a
// market and filters, in pages of several sizes.
func testListKeyset(t *testing.T, s Store) {
	products := largeCatalog(60)
	createProducts(t, s, products...)
	for _, sort := range allSorts {
		for _, q := range []catalog.Query{
			{Sort: sort},
			{Sort: sort, Market: souq.SA},
			{Sort: sort, Market: souq.AE, Category: "makeup"},
			{Sort: sort, Market: souq.AE, Brand: "Anua"},
			{Sort: sort, Market: souq.AE, Terms: []string{"glow"}},
		} {
			want := expectList(products, q)
			for _, limit := range []int{1, 7, 25} {
				t.Run(fmt.Sprintf("%+v/%d", q, limit), func(t *testing.T) {
					checkDiff(t, "keyset pages", keysetPages(t, s, q, limit), want)
				})
			}
		}
	}
}

// testListLargeSearch checks searches with many and few matches against
// the expected answer, page by page and counted, in every sort.
func testListLargeSearch(t *testing.T, s Store) {
	products := largeCatalog(2500)
	createProducts(t, s, products...)
	searches := [][]string{{"serum"}, {"glow", "serum"}, {"rare"}, {"serum", "rare"}, {"سيروم"}, {"tone"}, {"zzz"}}
	for _, terms := range searches {
		for _, sort := range allSorts {
			for _, q := range []catalog.Query{
				{Terms: terms, Sort: sort},
				{Terms: terms, Sort: sort, Market: souq.SA},
				{Terms: terms, Sort: sort, Market: souq.AE, Category: "suncare"},
				{Terms: terms, Sort: sort, Market: souq.AE, Brand: "Klairs", Category: "makeup"},
			} {
				t.Run(fmt.Sprintf("%+v", q), func(t *testing.T) {
					want := expectList(products, q)
					page := q
					page.Offset, page.Limit = 20, 10
					got, err := s.ListProducts(t.Context(), page)
					must(t, "ListProducts", err)
					checkDiff(t, "third page", ids(got), want[min(20, len(want)):min(30, len(want))])
					for _, limit := range []int{0, 1001} {
						n, err := s.CountProducts(t.Context(), q, limit)
						must(t, "CountProducts", err)
						w := len(want)
						if limit > 0 {
							w = min(w, limit)
						}
						if n != w {
							t.Errorf("count up to %d: got %d, want %d", limit, n, w)
						}
					}
					if sort == catalog.SortPriceAsc && q.Market == souq.SA {
						checkDiff(t, "keyset pages", keysetPages(t, s, q, 100), want)
					}
				})
			}
		}
	}
}

// testCreateProductsAtomic checks that a batch with a clash creates none
// of its products.
func testCreateProductsAtomic(t *testing.T, s Store) {
	products := largeCatalog(3)
	products[2].SKU = products[0].SKU
	nps := make([]catalog.NewProduct, len(products))
	for i, p := range products {
		nps[i] = catalog.NewProduct{Product: p, SearchText: catalog.SearchText(p)}
	}
	checkKind(t, "CreateProducts with a duplicate SKU", s.CreateProducts(t.Context(), nps), souq.ErrConflict)
	n, err := s.CountProducts(t.Context(), catalog.Query{}, 0)
	must(t, "CountProducts", err)
	if n != 0 {
		t.Errorf("products after a refused batch: got %d, want 0", n)
	}
}

package storetest

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

func testProductCreateGet(t *testing.T, s Store) {
	want := newProduct("prd_a", "SKN-001")
	want.Name = souq.Localized{EN: "Snail Mucin Essence", AR: "خلاصة مخاط الحلزون"}
	want.Prices = map[souq.MarketCode]int64{souq.AE: 8900, souq.KW: 7250}
	want.UpdatedAt = at(time.Second)
	createProducts(t, s, want)

	got := getProduct(t, s, want.ID)
	checkDiff(t, "Product", got, want)

	got, err := s.ProductBySlug(t.Context(), want.Slug)
	must(t, "ProductBySlug", err)
	checkDiff(t, "ProductBySlug", got, want)
}

func testProductNotFound(t *testing.T, s Store) {
	createProducts(t, s, newProduct("prd_a", "SKN-001"))
	ctx := t.Context()
	_, err := s.Product(ctx, "prd_missing")
	checkKind(t, "Product(missing)", err, souq.ErrNotFound)
	_, err = s.ProductBySlug(ctx, "missing")
	checkKind(t, "ProductBySlug(missing)", err, souq.ErrNotFound)
	missing := newProduct("prd_missing", "SKN-404")
	checkKind(t, "UpdateProduct(missing)", s.UpdateProduct(ctx, missing, catalog.SearchText(missing)), souq.ErrNotFound)
	checkKind(t, "SetStock(missing)", s.SetStock(ctx, "prd_missing", 5, t0), souq.ErrNotFound)
}

func testProductDuplicate(t *testing.T, s Store) {
	first := newProduct("prd_a", "SKN-001")
	createProducts(t, s, first)
	tests := []struct {
		name  string
		p     souq.Product
		field string
	}{
		{"same id", func() souq.Product { p := newProduct("prd_a", "SKN-002"); return p }(), "id"},
		{"same SKU", func() souq.Product { p := newProduct("prd_b", "SKN-001"); p.Slug = "other"; return p }(), "sku"},
		{"same slug", func() souq.Product { p := newProduct("prd_b", "SKN-002"); p.Slug = first.Slug; return p }(), "slug"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.CreateProduct(t.Context(), tt.p, catalog.SearchText(tt.p))
			checkKind(t, "CreateProduct", err, souq.ErrConflict)
			var clash *catalog.ProductClashError
			if !errors.As(err, &clash) || clash.Field != tt.field {
				t.Errorf("CreateProduct: got %v, want a ProductClashError on %s", err, tt.field)
			}
			checkDiff(t, "first product after the clash", getProduct(t, s, first.ID), first)
		})
	}
	total, err := s.CountProducts(t.Context(), catalog.Query{}, 0)
	must(t, "CountProducts", err)
	if total != 1 {
		t.Errorf("products after clashes: got %d, want 1", total)
	}
}

func testProductUpdate(t *testing.T, s Store) {
	old := newProduct("prd_a", "SKN-001")
	old.Name.EN = "Snail Mucin Essence"
	old.Stock = 7
	createProducts(t, s, old)

	upd := old
	upd.SKU, upd.Slug, upd.Brand, upd.Category = "SKN-100", "green-tea-toner", "Innisfree", "makeup"
	upd.Name = souq.Localized{EN: "Green Tea Toner", AR: "تونر الشاي الأخضر"}
	upd.Description = souq.Localized{EN: "Fresh", AR: "منعش"}
	upd.Image = "https://cdn.example.com/toner.webp"
	upd.Prices = map[souq.MarketCode]int64{souq.SA: 6100, souq.OM: 4250} // AE dropped
	upd.Stock = 99                                                       // ignored
	upd.CreatedAt = at(time.Hour)                                        // ignored
	upd.UpdatedAt = at(2 * time.Hour)
	must(t, "UpdateProduct", s.UpdateProduct(t.Context(), upd, catalog.SearchText(upd)))

	want := upd
	want.Stock, want.CreatedAt = old.Stock, old.CreatedAt
	checkDiff(t, "Product after update", getProduct(t, s, old.ID), want)
	got, err := s.ProductBySlug(t.Context(), "green-tea-toner")
	must(t, "ProductBySlug(new slug)", err)
	checkDiff(t, "ProductBySlug(new slug)", got, want)
	_, err = s.ProductBySlug(t.Context(), old.Slug)
	checkKind(t, "ProductBySlug(old slug)", err, souq.ErrNotFound)

	for _, tt := range []struct {
		search string
		want   []souq.ID
	}{
		{"green tea", []souq.ID{old.ID}},
		{"snail", nil},
	} {
		checkList(t, s, catalog.Query{Terms: catalog.SearchTerms(tt.search)}, tt.want, len(tt.want))
	}
}

func testProductUpdateDuplicate(t *testing.T, s Store) {
	a, b := newProduct("prd_a", "SKN-001"), newProduct("prd_b", "SKN-002")
	createProducts(t, s, a, b)
	tests := []struct {
		name    string
		sku     string
		slug    string
		wantErr error
	}{
		{"SKU of another product", a.SKU, b.Slug, souq.ErrConflict},
		{"slug of another product", b.SKU, a.Slug, souq.ErrConflict},
		{"own SKU and slug", b.SKU, b.Slug, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b
			p.SKU, p.Slug = tt.sku, tt.slug
			err := s.UpdateProduct(t.Context(), p, catalog.SearchText(p))
			if tt.wantErr == nil {
				must(t, "UpdateProduct", err)
				return
			}
			checkKind(t, "UpdateProduct", err, tt.wantErr)
			checkDiff(t, "product after refused update", getProduct(t, s, b.ID), b)
		})
	}
}

func testProductSetStock(t *testing.T, s Store) {
	p := newProduct("prd_a", "SKN-001")
	createProducts(t, s, p)
	for _, tt := range []struct {
		quantity int
		at       time.Time
	}{{0, at(time.Minute)}, {250, at(2 * time.Minute)}} {
		must(t, "SetStock", s.SetStock(t.Context(), p.ID, tt.quantity, tt.at))
		want := p
		want.Stock, want.UpdatedAt = tt.quantity, tt.at
		checkDiff(t, "Product after SetStock", getProduct(t, s, p.ID), want)
	}
}

// catalogFixture is a small catalog for listing tests.
func catalogFixture() []souq.Product {
	snail := newProduct("prd_1", "SKN-001")
	snail.Brand, snail.Category = "Cosrx", "skincare"
	snail.Name = souq.Localized{EN: "Snail Mucin Essence", AR: "خلاصة مخاط الحلزون"}
	snail.Prices = map[souq.MarketCode]int64{souq.AE: 8900, souq.SA: 9200}

	lipstick := newProduct("prd_2", "MKP-002")
	lipstick.Brand, lipstick.Category = "Huda Beauty", "makeup"
	lipstick.Name = souq.Localized{EN: "Liquid Matte Lipstick", AR: "أحمر شفاه سائل مطفي"}
	lipstick.Prices = map[souq.MarketCode]int64{souq.AE: 9900}

	sunscreen := newProduct("prd_3", "SUN-003")
	sunscreen.Brand, sunscreen.Category = "La Roche-Posay", "suncare"
	sunscreen.Name = souq.Localized{EN: "Anthelios Sunscreen SPF 50", AR: "واقي الشمس أنثيليوس"}
	sunscreen.Prices = map[souq.MarketCode]int64{souq.SA: 12000, souq.KW: 4500}

	cleanser := newProduct("prd_4", "SKN-004")
	cleanser.Brand, cleanser.Category = "Cosrx", "skincare"
	cleanser.Name = souq.Localized{EN: "Low pH Good Morning Gel Cleanser", AR: "غسول جل الصباح"}
	cleanser.Prices = map[souq.MarketCode]int64{souq.AE: 4500}

	return []souq.Product{snail, lipstick, sunscreen, cleanser}
}

func testListFilters(t *testing.T, s Store) {
	fixture := catalogFixture()
	createProducts(t, s, fixture...)
	tests := []struct {
		name string
		q    catalog.Query
		want []souq.ID // in the default (featured) order: newest first, ties by id
	}{
		{"no filter", catalog.Query{}, []souq.ID{"prd_1", "prd_2", "prd_3", "prd_4"}},
		{"category", catalog.Query{Category: "skincare"}, []souq.ID{"prd_1", "prd_4"}},
		{"brand", catalog.Query{Brand: "Huda Beauty"}, []souq.ID{"prd_2"}},
		{"market AE", catalog.Query{Market: souq.AE}, []souq.ID{"prd_1", "prd_2", "prd_4"}},
		{"market KW", catalog.Query{Market: souq.KW}, []souq.ID{"prd_3"}},
		{"market without products", catalog.Query{Market: souq.BH}, nil},
		{"category and market", catalog.Query{Category: "skincare", Market: souq.SA}, []souq.ID{"prd_1"}},
		{"brand and category", catalog.Query{Brand: "Cosrx", Category: "makeup"}, nil},
		{"unknown category", catalog.Query{Category: "fragrance"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkList(t, s, tt.q, tt.want, len(tt.want))
		})
	}
	// A listing carries whole products, prices included.
	got, err := s.ListProducts(t.Context(), catalog.Query{Brand: "Huda Beauty"})
	must(t, "ListProducts", err)
	checkDiff(t, "listed product", got, []souq.Product{fixture[1]})
}

// checkList lists q and compares the ids, and counts q and compares the
// total, with no limit and with limits below, at and above it.
func checkList(t *testing.T, s Store, q catalog.Query, want []souq.ID, wantTotal int) {
	t.Helper()
	got, err := s.ListProducts(t.Context(), q)
	must(t, "ListProducts", err)
	checkDiff(t, "listed ids", ids(got), want)
	for _, limit := range []int{0, wantTotal - 1, wantTotal, wantTotal + 1} {
		if limit < 0 {
			continue
		}
		total, err := s.CountProducts(t.Context(), q, limit)
		must(t, "CountProducts", err)
		if want := wantTotal; limit > 0 {
			if want = min(wantTotal, limit); total != want {
				t.Errorf("total up to %d: got %d, want %d", limit, total, want)
			}
		} else if total != want {
			t.Errorf("total: got %d, want %d", total, want)
		}
	}
}

func testListSearch(t *testing.T, s Store) {
	createProducts(t, s, catalogFixture()...)
	tests := []struct {
		search string
		q      catalog.Query
		want   []souq.ID
	}{
		{search: "snail", want: []souq.ID{"prd_1"}},
		{search: "SNA", want: []souq.ID{"prd_1"}},                     // prefix, any case
		{search: "ail", want: nil},                                    // not the start of a word
		{search: "lip matte", want: []souq.ID{"prd_2"}},               // every term, any order
		{search: "lipstick snail", want: nil},                         // terms are ANDed
		{search: "cosrx", want: []souq.ID{"prd_1", "prd_4"}},          // brand
		{search: "skn-004", want: []souq.ID{"prd_4"}},                 // SKU
		{search: "spf 50", want: []souq.ID{"prd_3"}},                  // digits
		{search: "sun care", want: []souq.ID{"prd_3"}},                // category name
		{search: "الحلزون", want: []souq.ID{"prd_1"}},                 // Arabic word
		{search: "الحلز", want: []souq.ID{"prd_1"}},                   // Arabic prefix
		{search: "أحمر شفاه", want: []souq.ID{"prd_2"}},               // hamza folded on both sides
		{search: "الشمس", want: []souq.ID{"prd_3"}},                   // Arabic, product name
		{search: "العناية", want: []souq.ID{"prd_1", "prd_4"}},        // Arabic category name, ة folded
		{search: "مخاط شفاه", want: nil},                              // Arabic terms are ANDed
		{search: "gel", q: catalog.Query{Market: souq.SA}, want: nil}, // search and market filter
		{search: "cosrx", q: catalog.Query{Market: souq.SA}, want: []souq.ID{"prd_1"}},
		{search: "zzz", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.search, func(t *testing.T) {
			q := tt.q
			q.Terms = catalog.SearchTerms(tt.search)
			checkList(t, s, q, tt.want, len(tt.want))
		})
	}
}

func testListPagination(t *testing.T, s Store) {
	var products []souq.Product
	for i := range 5 {
		p := newProduct("prd_"+string(rune('a'+i)), "SKN-00"+string(rune('1'+i)))
		p.CreatedAt = at(time.Duration(i) * time.Minute) // prd_e is newest
		products = append(products, p)
	}
	createProducts(t, s, products...)
	tests := []struct {
		offset, limit int
		want          []souq.ID
	}{
		{0, 2, []souq.ID{"prd_e", "prd_d"}},
		{2, 2, []souq.ID{"prd_c", "prd_b"}},
		{4, 2, []souq.ID{"prd_a"}},
		{5, 2, nil},
		{1, 10, []souq.ID{"prd_d", "prd_c", "prd_b", "prd_a"}},
	}
	for _, tt := range tests {
		q := catalog.Query{Sort: catalog.SortNewest, Offset: tt.offset, Limit: tt.limit}
		checkList(t, s, q, tt.want, 5)
	}
}

func testListSort(t *testing.T, s Store) {
	p := func(id, name string, created time.Duration, prices map[souq.MarketCode]int64) souq.Product {
		pr := newProduct(id, "SKU-"+id[len(id)-1:]+"00")
		pr.Name.EN, pr.CreatedAt, pr.Prices = name, at(created), prices
		return pr
	}
	createProducts(t, s,
		p("prd_c", "banana Cream", time.Hour, map[souq.MarketCode]int64{souq.AE: 300, souq.SA: 100}),
		p("prd_a", "Cherry Balm", 2*time.Hour, map[souq.MarketCode]int64{souq.AE: 100}),
		p("prd_d", "Aloe Gel", time.Hour, map[souq.MarketCode]int64{souq.AE: 100}),
		p("prd_b", "Cherry Balm", 0, map[souq.MarketCode]int64{souq.AE: 200}),
		p("prd_e", "Date Scrub", 3*time.Hour, map[souq.MarketCode]int64{souq.SA: 50}),
	)
	tests := []struct {
		sort   catalog.Sort
		market souq.MarketCode
		want   []souq.ID
	}{
		{catalog.SortFeatured, "", []souq.ID{"prd_e", "prd_a", "prd_c", "prd_d", "prd_b"}},
		{catalog.SortNewest, "", []souq.ID{"prd_e", "prd_a", "prd_c", "prd_d", "prd_b"}},
		{catalog.SortName, "", []souq.ID{"prd_d", "prd_c", "prd_a", "prd_b", "prd_e"}},
		{catalog.SortPriceAsc, souq.AE, []souq.ID{"prd_a", "prd_d", "prd_b", "prd_c"}},
		{catalog.SortPriceDsc, souq.AE, []souq.ID{"prd_c", "prd_b", "prd_d", "prd_a"}}, // ties by id descending
		{catalog.SortPriceAsc, souq.SA, []souq.ID{"prd_e", "prd_c"}},
		{catalog.SortPriceDsc, souq.SA, []souq.ID{"prd_c", "prd_e"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.sort)+"/"+string(tt.market), func(t *testing.T) {
			checkList(t, s, catalog.Query{Sort: tt.sort, Market: tt.market}, tt.want, len(tt.want))
			// Paging through one item at a time gives the same order.
			var paged []souq.ID
			for i := range tt.want {
				got, err := s.ListProducts(t.Context(), catalog.Query{Sort: tt.sort, Market: tt.market, Offset: i, Limit: 1})
				must(t, "ListProducts", err)
				paged = append(paged, ids(got)...)
			}
			checkDiff(t, "one product per page", paged, tt.want)
			// So does following keyset positions.
			checkDiff(t, "one product per keyset page", keysetPages(t, s, catalog.Query{Sort: tt.sort, Market: tt.market}, 1), tt.want)
		})
	}
}

func testProductCounts(t *testing.T, s Store) {
	got, err := s.ProductCounts(t.Context(), "")
	must(t, "ProductCounts of an empty catalog", err)
	checkDiff(t, "ProductCounts of an empty catalog", got, []catalog.GroupCount{})

	fixture := catalogFixture()
	third := fixture[3]
	third.ID, third.SKU, third.Slug = "prd_5", "SKN-005", "third-cosrx"
	createProducts(t, s, append(fixture, third)...)
	got, err = s.ProductCounts(t.Context(), "")
	must(t, "ProductCounts", err)
	checkDiff(t, "ProductCounts", sortCounts(got), []catalog.GroupCount{
		{Category: "makeup", Brand: "Huda Beauty", Count: 1},
		{Category: "skincare", Brand: "Cosrx", Count: 3},
		{Category: "suncare", Brand: "La Roche-Posay", Count: 1},
	})

	// In Saudi Arabia only the snail essence and the sunscreen are sold.
	got, err = s.ProductCounts(t.Context(), souq.SA)
	must(t, "ProductCounts in SA", err)
	checkDiff(t, "ProductCounts in SA", sortCounts(got), []catalog.GroupCount{
		{Category: "skincare", Brand: "Cosrx", Count: 1},
		{Category: "suncare", Brand: "La Roche-Posay", Count: 1},
	})

	// A product's new category and brand are counted where they now are,
	// in every market it is sold in.
	moved := fixture[0]
	moved.Category, moved.Brand = "makeup", "Huda Beauty"
	must(t, "UpdateProduct", s.UpdateProduct(t.Context(), moved, catalog.SearchText(moved)))
	got, err = s.ProductCounts(t.Context(), souq.SA)
	must(t, "ProductCounts in SA after update", err)
	checkDiff(t, "ProductCounts in SA after update", sortCounts(got), []catalog.GroupCount{
		{Category: "makeup", Brand: "Huda Beauty", Count: 1},
		{Category: "suncare", Brand: "La Roche-Posay", Count: 1},
	})
}

func sortCounts(c []catalog.GroupCount) []catalog.GroupCount {
	c = slices.Clone(c)
	slices.SortFunc(c, func(a, b catalog.GroupCount) int {
		return strings.Compare(a.Category+"\x00"+a.Brand, b.Category+"\x00"+b.Brand)
	})
	return c
}

// keysetPages lists q from the start to the end, limit products a page,
// each page after the last product of the one before, and returns the ids.
func keysetPages(t *testing.T, s Store, q catalog.Query, limit int) []souq.ID {
	t.Helper()
	var out []souq.ID
	q.Limit = limit
	for range 10_000 {
		got, err := s.ListProducts(t.Context(), q)
		must(t, "ListProducts", err)
		out = append(out, ids(got)...)
		if len(got) < limit {
			return out
		}
		last := got[len(got)-1]
		q.After = &catalog.Position{ID: last.ID, Created: last.CreatedAt, Name: last.Name.EN, Amount: last.Prices[q.Market]}
	}
	t.Fatalf("keyset paging of %+v did not end", q)
	return nil
}

func testProductStocks(t *testing.T, s Store) {
	createProducts(t, s, catalogFixture()...)
	must(t, "SetStock(prd_2)", s.SetStock(t.Context(), "prd_2", 0, t0))
	must(t, "SetStock(prd_3)", s.SetStock(t.Context(), "prd_3", 17, t0))
	got, err := s.Stocks(t.Context(), []souq.ID{"prd_2", "prd_3", "prd_missing"})
	must(t, "Stocks", err)
	checkDiff(t, "Stocks", got, map[souq.ID]int{"prd_2": 0, "prd_3": 17})
	got, err = s.Stocks(t.Context(), nil)
	must(t, "Stocks(nil)", err)
	checkDiff(t, "Stocks(nil)", got, map[souq.ID]int{})
}

func testProductsByID(t *testing.T, s Store) {
	fixture := catalogFixture()
	createProducts(t, s, fixture...)
	byID := map[souq.ID]souq.Product{}
	for _, p := range fixture {
		byID[p.ID] = p
	}
	got, err := s.ProductsByID(t.Context(), []souq.ID{"prd_3", "prd_missing", "prd_1"})
	must(t, "ProductsByID", err)
	checkDiff(t, "ProductsByID", got, []souq.Product{byID["prd_1"], byID["prd_3"]})
	got, err = s.ProductsByID(t.Context(), nil)
	must(t, "ProductsByID(nil)", err)
	checkDiff(t, "ProductsByID(nil)", got, []souq.Product{})
}

func testProductImages(t *testing.T, s Store) {
	fixture := catalogFixture()
	createProducts(t, s, fixture...)
	images := []souq.Image{
		{Key: "products/prd_1/aaaa", Width: 1024, Height: 1024, Widths: []int{320, 640, 1024}},
		{Key: "products/prd_1/bbbb", Width: 640, Height: 480, Widths: []int{320, 640}},
	}
	must(t, "SetProductImages", s.SetProductImages(t.Context(), "prd_1", images, t0.Add(time.Minute)))
	got, err := s.Product(t.Context(), "prd_1")
	must(t, "Product", err)
	checkDiff(t, "Product(prd_1).Images", got.Images, images)
	if !got.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("UpdatedAt: got %v, want %v", got.UpdatedAt, t0.Add(time.Minute))
	}
	list, err := s.ListProducts(t.Context(), catalog.Query{Brand: got.Brand, Limit: 10})
	must(t, "ListProducts", err)
	if len(list) == 0 || list[0].ID != "prd_1" {
		t.Fatalf("ListProducts(brand %s): got %d products, want prd_1 first", got.Brand, len(list))
	}
	checkDiff(t, "ListProducts: prd_1's images", list[0].Images, images)
	byID, err := s.ProductsByID(t.Context(), []souq.ID{"prd_1"})
	must(t, "ProductsByID", err)
	checkDiff(t, "ProductsByID: prd_1's images", byID[0].Images, images)
	// An update of the product's other fields keeps its images.
	got.Name.EN = "Renamed"
	must(t, "UpdateProduct", s.UpdateProduct(t.Context(), got, catalog.SearchText(got)))
	got, err = s.Product(t.Context(), "prd_1")
	must(t, "Product", err)
	checkDiff(t, "images after UpdateProduct", got.Images, images)
	must(t, "SetProductImages(nil)", s.SetProductImages(t.Context(), "prd_1", nil, t0.Add(time.Minute)))
	got, err = s.Product(t.Context(), "prd_1")
	must(t, "Product", err)
	if len(got.Images) != 0 {
		t.Errorf("images after clearing: got %v, want none", got.Images)
	}
	checkKind(t, "SetProductImages(missing)", s.SetProductImages(t.Context(), "prd_missing", images, t0), souq.ErrNotFound)
}

func testAddProductImage(t *testing.T, s Store) {
	createProducts(t, s, catalogFixture()...)
	img := func(k string) souq.Image {
		return souq.Image{Key: "products/prd_2/" + k, Width: 640, Height: 640, Widths: []int{320, 640}}
	}
	got, err := s.AddProductImage(t.Context(), "prd_2", img("a"), 3, t0)
	must(t, "AddProductImage(a)", err)
	checkDiff(t, "images after a", got, []souq.Image{img("a")})
	got, err = s.AddProductImage(t.Context(), "prd_2", img("a"), 3, t0)
	must(t, "AddProductImage(a again)", err)
	checkDiff(t, "images after a again", got, []souq.Image{img("a")})
	// Concurrent additions all land, up to the limit.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for _, k := range []string{"b", "c", "d", "e"} {
		wg.Go(func() {
			_, err := s.AddProductImage(t.Context(), "prd_2", img(k), 3, t0)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	conflicts := 0
	for err := range errs {
		switch {
		case errors.Is(err, souq.ErrConflict):
			conflicts++
		case err != nil:
			t.Errorf("concurrent AddProductImage: %v", err)
		}
	}
	p, err := s.Product(t.Context(), "prd_2")
	must(t, "Product", err)
	if len(p.Images) != 3 || conflicts != 2 {
		t.Errorf("after 4 concurrent additions with a limit of 3: %d images and %d conflicts, want 3 and 2", len(p.Images), conflicts)
	}
	_, err = s.AddProductImage(t.Context(), "prd_missing", img("x"), 3, t0)
	checkKind(t, "AddProductImage(missing)", err, souq.ErrNotFound)
}

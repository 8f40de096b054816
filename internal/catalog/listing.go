package catalog

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Paging and search limits for listings.
const (
	DefaultPageSize = 24
	MaxPageSize     = 100
	// MaxPagedItems is how deep page numbers reach: page × page_size may
	// be at most this. Deeper products are reached with cursors
	// (ListInput.Cursor, Page.NextCursor), which are as fast at any depth.
	MaxPagedItems = 2400
	// SearchCountCap is the most matches a search counts; above it the
	// total is given as "at least" (Page.TotalExact false).
	SearchCountCap = 1000
	// MaxSearchLength bounds a search query, in bytes.
	MaxSearchLength = 200
)

// QueryTimeout bounds the database work of one listing or facets request;
// past it the request fails (the API answers 503 with Retry-After) and the
// query stops, as it does when the caller's context ends.
const QueryTimeout = 2 * time.Second

// listTTL is how long a listing page is served from memory as fresh;
// for listStale more it is still served while one request's worth of work
// reads it again in the background, so a popular page never makes a
// shopper wait for the database. The stock a listing shows may so lag by
// up to listTTL+listStale (the order transaction's conditional decrement
// decides what sells). Product, price and stock changes made through this
// service make every cached page stale at once; sale prices are applied to
// cached pages at each request, so a sale starts and ends on time.
const (
	listTTL   = time.Second
	listStale = time.Second
)

// countsTTL is how long a market's product counts per category and brand
// (facets, and the totals of listings without search) are served from
// memory as fresh, and countsStale how long more while they are read again
// in the background. They change only when products are created or their
// prices change, which through this service clears them at once; changes
// made by another instance are seen within countsTTL+countsStale.
const (
	countsTTL   = 10 * time.Second
	countsStale = 10 * time.Second
)

// maxCachedListings bounds the listing cache; past it the cache starts
// afresh.
const maxCachedListings = 10_000

// ListInput is a listing request as a shopper makes it.
type ListInput struct {
	Market   souq.Market
	Category string
	Brand    string
	Search   string
	Sort     Sort
	Page     int
	PageSize int
	// Cursor, from an earlier page's NextCursor with the same sort,
	// starts the page after that page's last product; Page is then not
	// given.
	Cursor string
	// Sale keeps only the products on sale now (the running sale's);
	// such a listing is paged by Page only, and sorted as the sale page
	// when Sort is SortFeatured.
	Sale bool
}

// Page is one page of offers.
type Page struct {
	Items    []Offer
	Total    int
	Page     int // 0 for a page reached by cursor
	PageSize int
	// TotalExact is false when Total is a lower bound: a search matching
	// more than SearchCountCap products.
	TotalExact bool
	// NextCursor reads the next page; empty on the last page.
	NextCursor string
}

// List returns one page of the products sold in the input's market.
// Pages are read through a short-lived cache (see listTTL).
func (s *Service) List(ctx context.Context, in ListInput) (Page, error) {
	q, err := in.query()
	if err != nil {
		return Page{}, err
	}
	if in.Sale {
		return s.listSale(ctx, in, q)
	}
	now := s.now()
	l, err := s.listings.pages.fetch(ctx, listingKey(q), s.listings.generation(), func(ctx context.Context) (listing, error) {
		return s.loadListing(ctx, q)
	})
	if err != nil {
		return Page{}, err
	}
	sales, err := s.activeSales(ctx)
	if err != nil {
		return Page{}, err
	}
	page := Page{Total: l.total, TotalExact: l.exact, Page: in.Page, PageSize: q.Limit, NextCursor: l.next,
		Items: make([]Offer, 0, len(l.products))}
	for _, pr := range l.products {
		page.Items = append(page.Items, offer(pr, in.Market, sales, now))
	}
	return page, nil
}

// query validates a listing request and turns it into a store query.
func (in *ListInput) query() (Query, error) {
	var p souq.Problems
	if in.PageSize == 0 {
		in.PageSize = DefaultPageSize
	}
	if in.Page == 0 && in.Cursor == "" {
		in.Page = 1
	}
	if in.PageSize < 1 || in.PageSize > MaxPageSize {
		p.Add("page_size", "must be between 1 and %d", MaxPageSize)
	}
	switch {
	case in.Cursor != "" && in.Page != 0:
		p.Add("cursor", "give page or cursor, not both")
	case in.Cursor == "" && in.Page < 1:
		p.Add("page", "must be at least 1")
	case in.Cursor == "" && in.PageSize >= 1 && in.Page > MaxPagedItems/in.PageSize:
		p.Add("page", "page × page_size must be at most %d; read deeper pages with cursor=next_cursor of the page before", MaxPagedItems)
	}
	switch in.Sort {
	case SortFeatured, SortName, SortNewest, SortPriceAsc, SortPriceDsc:
	default:
		p.Add("sort", "must be one of name, newest, price_asc, price_desc")
	}
	if len(in.Search) > MaxSearchLength {
		p.Add("q", "must be at most %d characters", MaxSearchLength)
	}
	q := Query{
		Category: strings.TrimSpace(in.Category),
		Brand:    strings.TrimSpace(in.Brand),
		Terms:    SearchTerms(in.Search),
		Market:   in.Market.Code,
		Sort:     in.Sort,
		Offset:   (in.Page - 1) * in.PageSize,
		Limit:    in.PageSize,
	}
	if in.Cursor != "" && in.Sale {
		p.Add("cursor", "a listing of the sale is paged with page, not cursor")
	} else if in.Cursor != "" {
		after, err := decodeCursor(in.Cursor, in.Sort)
		if err != nil {
			p.Add("cursor", "%v", err)
		}
		q.After, q.Offset = &after, 0
	}
	return q, p.Err()
}

// listing is a page as read from the store, before pricing.
type listing struct {
	products []souq.Product
	total    int
	exact    bool
	next     string
}

// loadListing reads a page and its total from the store, within
// QueryTimeout.
func (s *Service) loadListing(ctx context.Context, q Query) (listing, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	page := q
	page.Limit = q.Limit + 1 // one more tells whether a next page exists
	products, err := s.store.ListProducts(ctx, page)
	if err != nil {
		return listing{}, fmt.Errorf("list products: %w", err)
	}
	l := listing{products: products, exact: true}
	if len(products) > q.Limit {
		l.products = products[:q.Limit]
		l.next = encodeCursor(q.Sort, position(l.products[q.Limit-1], q.Market))
	}
	if len(q.Terms) == 0 {
		counts, err := s.productCounts(ctx, q.Market)
		if err != nil {
			return listing{}, err
		}
		for _, g := range counts {
			if (q.Category == "" || g.Category == q.Category) && (q.Brand == "" || g.Brand == q.Brand) {
				l.total += g.Count
			}
		}
		return l, nil
	}
	n, err := s.searchCount(ctx, q)
	if err != nil {
		return listing{}, err
	}
	l.total = n
	if n > SearchCountCap {
		seen := q.Offset + len(l.products)
		if l.next != "" {
			seen++
		}
		l.total, l.exact = max(SearchCountCap, seen), false
	}
	return l, nil
}

// searchCount counts a search's matches up to SearchCountCap+1, cached
// like the product counts (see countsTTL): the matches change only when
// products do, not with stock, and all the pages and sorts of a search
// share the count.
func (s *Service) searchCount(ctx context.Context, q Query) (int, error) {
	q.Sort, q.After, q.Offset, q.Limit = "", nil, 0, 0
	return s.listings.searches.fetch(ctx, listingKey(q), s.listings.generation(), func(ctx context.Context) (int, error) {
		n, err := s.store.CountProducts(ctx, q, SearchCountCap+1)
		if err != nil {
			return 0, fmt.Errorf("count products: %w", err)
		}
		return n, nil
	})
}

// Facets returns the categories and brands of the products sold in a
// market, with their counts, each list ordered by value.
func (s *Service) Facets(ctx context.Context, m souq.Market) (Facets, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	counts, err := s.productCounts(ctx, m.Code)
	if err != nil {
		return Facets{}, fmt.Errorf("facets: %w", err)
	}
	cats, brands := map[string]int{}, map[string]int{}
	for _, g := range counts {
		cats[g.Category] += g.Count
		brands[g.Brand] += g.Count
	}
	return Facets{Categories: facetList(cats), Brands: facetList(brands)}, nil
}

func facetList(counts map[string]int) []Facet {
	out := make([]Facet, 0, len(counts))
	for v, n := range counts {
		out = append(out, Facet{Value: v, Count: n})
	}
	slices.SortFunc(out, func(a, b Facet) int { return cmp.Compare(a.Value, b.Value) })
	return out
}

// productCounts returns a market's product counts per category and brand,
// cached (see countsTTL).
func (s *Service) productCounts(ctx context.Context, m souq.MarketCode) ([]GroupCount, error) {
	return s.listings.counts.fetch(ctx, m, s.listings.generation(), func(ctx context.Context) ([]GroupCount, error) {
		c, err := s.store.ProductCounts(ctx, m)
		if err != nil {
			return nil, fmt.Errorf("count products: %w", err)
		}
		return c, nil
	})
}

// position is a product's place in a listing sorted for market m.
func position(p souq.Product, m souq.MarketCode) Position {
	return Position{ID: p.ID, Created: p.CreatedAt, Name: p.Name.EN, Amount: p.Prices[m]}
}

// cursor is the content of a cursor: the sort it belongs to and the last
// product's position in it.
type cursor struct {
	Sort    Sort    `json:"s,omitempty"`
	ID      souq.ID `json:"i"`
	Created int64   `json:"c,omitempty"` // unix µs
	Name    string  `json:"n,omitempty"`
	Amount  int64   `json:"a,omitempty"`
}

// encodeCursor makes the opaque cursor of a position: base64url JSON.
func encodeCursor(sort Sort, p Position) string {
	c := cursor{Sort: sort, ID: p.ID}
	switch sort {
	case SortName:
		c.Name = p.Name
	case SortPriceAsc, SortPriceDsc:
		c.Amount = p.Amount
	default:
		c.Created = p.Created.UnixMicro()
	}
	b, _ := json.Marshal(c) // a struct of strings and numbers always encodes
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor made by encodeCursor for the given sort.
func decodeCursor(s string, sort Sort) (Position, error) {
	bad := fmt.Errorf("is not a next_cursor of this listing")
	if len(s) > 400 {
		return Position{}, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Position{}, bad
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || !strings.HasPrefix(string(c.ID), souq.ProductPrefix) {
		return Position{}, bad
	}
	if c.Sort != sort {
		return Position{}, fmt.Errorf("belongs to sort %q, not %q: keep the sort when following next_cursor", cmp.Or(string(c.Sort), "featured"), cmp.Or(string(sort), "featured"))
	}
	return Position{ID: c.ID, Created: time.UnixMicro(c.Created).UTC(), Name: c.Name, Amount: c.Amount}, nil
}

// listingKey identifies a store query in the listing cache.
func listingKey(q Query) string {
	var b strings.Builder
	for _, part := range []string{string(q.Market), q.Category, q.Brand, strings.Join(q.Terms, " "), string(q.Sort),
		strconv.Itoa(q.Offset), strconv.Itoa(q.Limit)} {
		b.WriteString(part)
		b.WriteByte(0)
	}
	if a := q.After; a != nil {
		fmt.Fprintf(&b, "%s\x00%d\x00%s\x00%d", a.ID, a.Created.UnixMicro(), a.Name, a.Amount)
	}
	return b.String()
}

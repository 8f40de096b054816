package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// Listings and search
//
// A listing reads its page through an index that serves both its filter
// and its order, and stops at the page's end, so its cost follows the page
// and not the catalogue (migrations/0001_init.sql has the indexes):
//
//   - featured and newest: products (created_at DESC, id), or the
//     (category, …) or (brand, …) index when one of those filters is set;
//   - name: products (lower(name_en COLLATE "C"), id) and its category and
//     brand twins: ASCII letters folded, bytes compared, as SQLite's
//     NOCASE does, so both engines list names in one order;
//   - price in a market: product_prices (market, amount, product_id) and
//     its category and brand twins, the price table carrying a copy of its
//     product's category and brand.
//
// The planner picks among these from its statistics; for a broad filter
// (a category of half the catalogue) it may walk the unfiltered index of
// the order instead, which costs the page divided by the filter's share.
// Either way nothing is sorted. A keyset position (Query.After) is a range
// of the same index, so a page is as fast at any depth; an offset costs
// its length. Ids are compared bytewise (COLLATE "C") whatever the
// database's default collation.
//
// Search terms are a tsquery of prefixes ('term':* & …) over the products'
// generated tsvector, which has a GIN index. The index finds the matches
// but not in the listing's order, so a page of a search is read in one of
// two ways, and the adapter, not the planner, chooses:
//
//   - the walk: the listing's index is read in order, at most the offset
//     and walkFactor rows per product of the page, each row's tsvector
//     checked. When the terms match that many of the listing's first rows
//     the page is full, and that was the whole cost: a term most products
//     have costs little more than a listing without terms.
//   - the matches, when the walk did not fill the page: every match within
//     the filters is read through the GIN index (or the table, when the
//     planner finds that cheaper) into a materialised set of ids and sort
//     keys, the page is sorted out of it and its products read. The cost
//     follows the number of matches, and the failed walk says they are
//     sparse where the listing starts, so usually few.
//
// Left to itself, the planner chooses between such plans by its estimate
// of how many products match, as if the matches were spread evenly along
// the listing's order. They are not: the variants of one product line sit
// together in name order, a brand's products in one category. On 100,000
// demo products (demo.LargeCatalogue) on the 2-core test server, its plans
// took 0.2–0.8 s for a page of a term 1.5% of the products have in name or
// price order, or of a brand searched in another category, walking tens of
// thousands of rows to fill the page; read as above, the slowest page
// measured took 40 ms (a term 11% of the products have, cheap ones
// first: a failed walk, then 11,000 matches), most 1–25 ms.
//
// A search is planned for its terms on every call (see planned), as its
// plan depends on them. CountProducts leaves the choice to the planner:
// a count has no order to follow, and its LIMIT stops either plan.
// TestListingPlans checks the plans on 20,000 demo products.

// walkFactor is how many rows of a listing the walk reads, past the
// offset, for each product of the page: it serves terms that match at
// least 1/walkFactor of the listing's first rows. The skipped rows of an
// offset are read once, so a deep page is walked only when nearly every
// row matches; else the matches cost no more at any depth.
const walkFactor = 20

// listing is a listing's statement in parts: products are p, their prices
// in the market of a price sort pp.
type listing struct {
	args  []any
	from  string   // FROM and JOINs
	conds []string // filters and keyset position
	terms string   // the terms' condition, "" without terms
	// keys are the expressions the listing is ordered by and dirs their
	// directions ("" or " DESC").
	keys, dirs [2]string
}

// arg adds an argument and returns its placeholder.
func (l *listing) arg(v any) string {
	l.args = append(l.args, v)
	return "$" + strconv.Itoa(len(l.args))
}

// newListing takes q apart; it returns ok false when q's terms match
// nothing (see tsQuery).
func newListing(q catalog.Query) (l *listing, ok bool) {
	l = &listing{}
	tsq, ok := tsQuery(q.Terms)
	if !ok {
		return nil, false
	}
	priced := q.Market != "" && (q.Sort == catalog.SortPriceAsc || q.Sort == catalog.SortPriceDsc)
	sort := q.Sort
	if (sort == catalog.SortPriceAsc || sort == catalog.SortPriceDsc) && !priced {
		sort = catalog.SortFeatured
	}
	filterTable := "p"
	if priced {
		l.from = `product_prices pp JOIN products p ON p.id = pp.product_id`
		l.conds = append(l.conds, "pp.market = "+l.arg(string(q.Market)))
		filterTable = "pp" // so that the price index takes the filters
	} else {
		l.from = `products p`
		if q.Market != "" {
			l.conds = append(l.conds, "EXISTS (SELECT 1 FROM product_prices pp WHERE pp.product_id = p.id AND pp.market = "+l.arg(string(q.Market))+")")
		}
	}
	if q.Category != "" {
		l.conds = append(l.conds, filterTable+".category = "+l.arg(q.Category))
	}
	if q.Brand != "" {
		l.conds = append(l.conds, filterTable+".brand = "+l.arg(q.Brand))
	}
	if tsq != "" {
		l.terms = "p.search @@ " + l.arg(tsq) + "::tsquery"
	}
	switch sort {
	case catalog.SortName:
		l.keys, l.dirs = [2]string{`lower(p.name_en COLLATE "C")`, "p.id"}, [2]string{}
	case catalog.SortPriceAsc:
		l.keys, l.dirs = [2]string{"pp.amount", "pp.product_id"}, [2]string{}
	case catalog.SortPriceDsc:
		l.keys, l.dirs = [2]string{"pp.amount", "pp.product_id"}, [2]string{" DESC", " DESC"}
	default:
		l.keys, l.dirs = [2]string{"p.created_at", "p.id"}, [2]string{" DESC", ""}
	}
	if a := q.After; a != nil {
		switch sort {
		case catalog.SortName:
			l.conds = append(l.conds, `(lower(p.name_en COLLATE "C"), p.id) > (lower(`+l.arg(a.Name)+`::text COLLATE "C"), `+l.arg(string(a.ID))+`)`)
		case catalog.SortPriceAsc:
			l.conds = append(l.conds, "(pp.amount, pp.product_id) > ("+l.arg(a.Amount)+", "+l.arg(string(a.ID))+")")
		case catalog.SortPriceDsc:
			l.conds = append(l.conds, "(pp.amount, pp.product_id) < ("+l.arg(a.Amount)+", "+l.arg(string(a.ID))+")")
		default:
			c, id := l.arg(a.Created), l.arg(string(a.ID))
			l.conds = append(l.conds, "p.created_at <= "+c, "(p.created_at < "+c+" OR p.id > "+id+")")
		}
	}
	return l, true
}

// where is the WHERE clause of conds and more, "" when all are empty.
func where(conds []string, more ...string) string {
	var all []string
	for _, c := range append(slices.Clip(conds), more...) {
		if c != "" {
			all = append(all, c)
		}
	}
	if len(all) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(all, " AND ")
}

// orderBy is the ORDER BY list of the listing's keys, or of the columns
// k0 and k1 of table alias t holding them.
func (l *listing) orderBy(t string) string {
	keys := l.keys
	if t != "" {
		keys = [2]string{t + ".k0", t + ".k1"}
	}
	return keys[0] + l.dirs[0] + ", " + keys[1] + l.dirs[1]
}

// pageSQL is the page of a listing without terms, read in order. Limit
// and offset are the last two arguments.
func (l *listing) pageSQL() string {
	return `SELECT ` + productColumns + ` FROM ` + l.from + where(l.conds) +
		` ORDER BY ` + l.orderBy("") + ` LIMIT ` + l.arg(nil) + ` OFFSET ` + l.arg(nil)
}

// walkSQL is the walk of a search (see the top of this file): the terms
// checked on at most rows rows of the listing read in order. Limit and
// offset are the last two arguments.
func (l *listing) walkSQL(rows int) string {
	inner := `SELECT p.*, ` + l.keys[0] + ` AS k0, ` + l.keys[1] + ` AS k1 FROM ` + l.from + where(l.conds) +
		` ORDER BY ` + l.orderBy("") + ` LIMIT ` + l.arg(rows)
	return `SELECT ` + productColumns + ` FROM (` + inner + `) p WHERE ` + l.terms +
		` ORDER BY ` + l.orderBy("p") + ` LIMIT ` + l.arg(nil) + ` OFFSET ` + l.arg(nil)
}

// matchSQL is the matches of a search (see the top of this file): every
// match read through the full-text index with its sort keys, the page
// sorted out of them, then its products read. Limit and offset are the
// last two arguments.
func (l *listing) matchSQL() string {
	return `WITH m AS MATERIALIZED (SELECT p.id, ` + l.keys[0] + ` AS k0, ` + l.keys[1] + ` AS k1 FROM ` + l.from +
		where(l.conds, l.terms) + `)
		SELECT ` + productColumns + ` FROM (SELECT id, k0, k1 FROM m ORDER BY ` + l.orderBy("m") +
		` LIMIT ` + l.arg(nil) + ` OFFSET ` + l.arg(nil) + `) page JOIN products p ON p.id = page.id ORDER BY ` + l.orderBy("page")
}

// countSQL counts the listing's products, terms included, up to a limit
// given as the last argument.
func (l *listing) countSQL() string {
	return `SELECT COUNT(*) FROM (SELECT 1 FROM ` + l.from + where(l.conds, l.terms) + ` LIMIT ` + l.arg(nil) + `) s`
}

// maxWordBytes is the longest word PostgreSQL puts in a tsvector or a
// tsquery (2047 bytes): a longer term is a prefix of no indexed word.
const maxWordBytes = 2047

// tsQuery builds a tsquery in which every term must be the prefix of a
// word: 'term1':* & 'term2':*. Each term is one quoted lexeme (quotes and
// backslashes doubled), cast to tsquery rather than parsed by to_tsquery,
// so no term is read as tsquery syntax or split by the text parser; the
// catalog normalises terms as it normalises the search text. It returns
// "" when there are no terms, and ok false when a term can be the prefix
// of no stored word (too long, or holding a NUL or invalid UTF-8, which
// PostgreSQL text cannot hold): the search then matches nothing.
func tsQuery(terms []string) (query string, ok bool) {
	var parts []string
	for _, t := range terms {
		t = strings.TrimSpace(t)
		switch {
		case t == "":
			continue
		case len(t) > maxWordBytes || strings.ContainsRune(t, 0) || !utf8.ValidString(t):
			return "", false
		}
		t = strings.ReplaceAll(strings.ReplaceAll(t, `\`, `\\`), `'`, `''`)
		parts = append(parts, `'`+t+`':*`)
	}
	return strings.Join(parts, " & "), true
}

// planned returns the arguments of a statement of l, preceded for a
// search by the mode that plans it for its terms on every call (an unnamed
// statement, of which pgx caches only the description): a statement
// prepared once would after five calls be given a generic plan, which
// guesses how many products the terms match. Listings without terms have
// one best plan whatever their arguments, and keep theirs prepared.
func (l *listing) planned() []any {
	if l.terms != "" {
		return append([]any{pgx.QueryExecModeCacheDescribe}, l.args...)
	}
	return l.args
}

// ListProducts returns one page of the products matching q in q.Sort
// order, from q.After when set, else from q.Offset; a Limit of 0 or less
// returns every product from there on. Price sorts order by the prices of
// q.Market and, without a market, fall back to the featured order. A page
// of a search is read by the walk and, when that does not fill it, by the
// matches (see the top of this file).
func (db *DB) ListProducts(ctx context.Context, q catalog.Query) ([]souq.Product, error) {
	l, ok := newListing(q)
	if !ok {
		return []souq.Product{}, nil
	}
	offset := max(q.Offset, 0)
	if q.After != nil {
		offset = 0
	}
	var limit any // NULL: no limit
	if q.Limit > 0 {
		limit = q.Limit
	}
	if l.terms == "" {
		return db.listPage(ctx, l, l.pageSQL(), limit, offset)
	}
	if q.Limit > 0 {
		walk := *l // with arguments of its own
		walk.args = slices.Clone(l.args)
		page, err := db.listPage(ctx, &walk, walk.walkSQL(offset+walkFactor*q.Limit), limit, offset)
		if err != nil || len(page) == q.Limit {
			return page, err
		}
	}
	return db.listPage(ctx, l, l.matchSQL(), limit, offset)
}

// listPage runs query, a statement of l whose last two arguments are the
// limit and the offset, and returns its products.
func (db *DB) listPage(ctx context.Context, l *listing, query string, limit, offset any) ([]souq.Product, error) {
	l.args[len(l.args)-2], l.args[len(l.args)-1] = limit, offset
	rows, err := db.pool.Query(ctx, query, l.planned()...)
	if err != nil {
		return nil, unavailable(fmt.Errorf("list products: %w", err))
	}
	products, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (souq.Product, error) { return scanProduct(row) })
	if err != nil {
		return nil, unavailable(fmt.Errorf("list products: %w", err))
	}
	return products, nil
}

// CountProducts counts the products matching q (its sort and paging
// aside), stopping at limit when limit is above 0. With terms, the
// planner reads the matches through the GIN index, or the catalogue in
// its own order when most products match, until the limit.
func (db *DB) CountProducts(ctx context.Context, q catalog.Query, limit int) (int, error) {
	q.After, q.Sort = nil, catalog.SortFeatured // the same products in any order
	l, ok := newListing(q)
	if !ok {
		return 0, nil
	}
	query := l.countSQL()
	if limit > 0 {
		l.args[len(l.args)-1] = limit
	}
	var n int
	if err := db.pool.QueryRow(ctx, query, l.planned()...).Scan(&n); err != nil {
		return 0, unavailable(fmt.Errorf("count products: %w", err))
	}
	return n, nil
}

// ProductCounts counts products per category and brand pair; with market
// set, only those priced in that market (from an index of the price table
// alone).
func (db *DB) ProductCounts(ctx context.Context, market souq.MarketCode) ([]catalog.GroupCount, error) {
	query := `SELECT category, brand, COUNT(*) FROM products GROUP BY category, brand`
	var args []any
	if market != "" {
		query = `SELECT category, brand, COUNT(*) FROM product_prices WHERE market = $1 GROUP BY category, brand`
		args = []any{string(market)}
	}
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, unavailable(fmt.Errorf("count products per category and brand: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (catalog.GroupCount, error) {
		var g catalog.GroupCount
		err := row.Scan(&g.Category, &g.Brand, &g.Count)
		return g, err
	})
	if err != nil {
		return nil, unavailable(fmt.Errorf("count products per category and brand: %w", err))
	}
	return out, nil
}

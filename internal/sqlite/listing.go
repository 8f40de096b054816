package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// Listings and search
//
// A listing reads its page through an index that serves both its filter
// and its order, and stops at the page's end, so its cost follows the page
// and not the catalogue (migration 0003 has the indexes):
//
//   - featured and newest: products (created_at DESC, id), or the
//     (category, …) or (brand, …) index when one of those filters is set;
//   - name: products (name_en NOCASE, id) and its category and brand twins;
//   - price in a market: product_prices (market, amount, product_id) and its
//     category and brand twins, the price table carrying a copy of its
//     product's category and brand.
//
// The join order is fixed with CROSS JOIN and the driving index with
// INDEXED BY, so the plan does not depend on table statistics (ANALYZE);
// TestListingPlans checks every shape's plan on a database with them. A keyset
// position (Query.After) is a range on the same index, so a page is as fast
// at any depth; an offset costs its length.
//
// With search terms the plan depends on how many products match them, which
// a first statement counts in the full-text index up to narrowSearch+1
// matches (for words of two letters or more its cost is bounded by that
// number; a one-letter word merges the lists of every word it starts,
// some 10–15 ms on 100,000 products):
//
//   - at most narrowSearch matches: the matches are read from the full-text
//     index, joined to their products and sorted: cost follows the matches,
//     of which there are few.
//   - more: the listing's own index is read in order and each row's search
//     text is checked for every term (a prefix of a word: instr on the text
//     and the term both with a leading space), until the page is full. With
//     that many matches, on average at least one row in 1 + N/narrowSearch
//     matches, so a page costs its length times that on average; an order
//     that puts the matches last (the dearer serums in price order) costs
//     more, and a filter that excludes nearly all matches costs most
//     (docs/catalog.md gives figures).
//
// Both give the full-text index's answer: search text is normalised by the
// catalog to words of letters and digits separated by single spaces, which
// is exactly how the index's tokenizer splits it.

// narrowSearch is the most matches for which a search reads them all.
const narrowSearch = 1000

// listSQL builds a listing statement and its arguments: the page of q when
// count is false, else the products matching q up to a LIMIT given as the
// last argument by the caller. narrow reads the matches from the full-text
// index (see above); otherwise terms are checked row by row.
func listSQL(q catalog.Query, narrow, count bool) (string, []any) {
	var (
		b     strings.Builder
		args  []any
		conds []string
	)
	priced := q.Market != "" && (q.Sort == catalog.SortPriceAsc || q.Sort == catalog.SortPriceDsc)
	sort := q.Sort
	if (sort == catalog.SortPriceAsc || sort == catalog.SortPriceDsc) && !priced {
		sort = catalog.SortFeatured
	}
	if count {
		b.WriteString(`SELECT COUNT(*) FROM (SELECT 1`)
	} else {
		b.WriteString(`SELECT ` + productColumns +
			`, (SELECT group_concat(pr.market || ':' || pr.amount) FROM product_prices pr WHERE pr.product_id = p.id)`)
	}
	match := ftsMatch(q.Terms)
	searching := match != ""
	switch {
	case searching && narrow:
		b.WriteString(` FROM (SELECT rowid AS pk FROM products_fts WHERE products_fts MATCH ?) m CROSS JOIN products p ON p.pk = m.pk`)
		args = append(args, match)
		if q.Market != "" {
			b.WriteString(` CROSS JOIN product_prices pp ON pp.product_id = p.id AND pp.market = ?`)
			args = append(args, string(q.Market))
		}
	case priced:
		b.WriteString(` FROM product_prices pp INDEXED BY ` + listingIndex(q, "product_prices_market", "product_prices_category", "product_prices_brand") +
			` CROSS JOIN products p ON p.id = pp.product_id`)
		conds = append(conds, "pp.market = ?")
		args = append(args, string(q.Market))
	default:
		index := listingIndex(q, "products_created_at", "products_category_created", "products_brand_created")
		if sort == catalog.SortName {
			index = listingIndex(q, "products_name_en", "products_category_name", "products_brand_name")
		}
		b.WriteString(` FROM products p INDEXED BY ` + index)
		if q.Market != "" {
			b.WriteString(` CROSS JOIN product_prices pp ON pp.product_id = p.id AND pp.market = ?`)
			args = append(args, string(q.Market))
		}
	}
	// Filter on the driving table's columns, so its index takes them.
	filterTable := "p"
	if priced && !(searching && narrow) {
		filterTable = "pp"
	}
	if q.Category != "" {
		conds = append(conds, filterTable+".category = ?")
		args = append(args, q.Category)
	}
	if q.Brand != "" {
		conds = append(conds, filterTable+".brand = ?")
		args = append(args, q.Brand)
	}
	if searching && !narrow {
		for _, t := range q.Terms {
			if t = strings.TrimSpace(t); t != "" {
				conds = append(conds, `instr(' ' || p.search_text, ?) > 0`)
				args = append(args, " "+t)
			}
		}
	}
	var order string
	switch sort {
	case catalog.SortName:
		order = "p.name_en COLLATE NOCASE, p.id"
	case catalog.SortPriceAsc:
		order = "pp.amount, pp.product_id"
	case catalog.SortPriceDsc:
		order = "pp.amount DESC, pp.product_id DESC"
	default:
		order = "p.created_at DESC, p.id"
	}
	if a := q.After; a != nil && !count {
		switch sort {
		case catalog.SortName:
			conds = append(conds, "p.name_en COLLATE NOCASE >= ?", "NOT (p.name_en = ? COLLATE NOCASE AND p.id <= ?)")
			args = append(args, a.Name, a.Name, string(a.ID))
		case catalog.SortPriceAsc:
			conds = append(conds, "pp.amount >= ?", "NOT (pp.amount = ? AND pp.product_id <= ?)")
			args = append(args, a.Amount, a.Amount, string(a.ID))
		case catalog.SortPriceDsc:
			conds = append(conds, "pp.amount <= ?", "NOT (pp.amount = ? AND pp.product_id >= ?)")
			args = append(args, a.Amount, a.Amount, string(a.ID))
		default:
			c := micros(a.Created)
			conds = append(conds, "p.created_at <= ?", "NOT (p.created_at = ? AND p.id <= ?)")
			args = append(args, c, c, string(a.ID))
		}
	}
	if len(conds) > 0 {
		b.WriteString(" WHERE " + strings.Join(conds, " AND "))
	}
	if count {
		b.WriteString(` LIMIT ?)`)
		return b.String(), args
	}
	b.WriteString(" ORDER BY " + order + " LIMIT ? OFFSET ?")
	return b.String(), args
}

// listingIndex names the index a listing reads: by brand when it filters
// on brand (a brand is usually the narrower filter), else by category when
// it filters on category, else the whole catalogue's.
func listingIndex(q catalog.Query, all, category, brand string) string {
	switch {
	case q.Brand != "":
		return brand
	case q.Category != "":
		return category
	}
	return all
}

// ListProducts returns one page of the products matching q in q.Sort
// order, from q.After when set, else from q.Offset; a Limit of 0 or less
// returns every product from there on. Price sorts order by the prices of
// q.Market and, without a market, fall back to the featured order.
func (db *DB) ListProducts(ctx context.Context, q catalog.Query) ([]souq.Product, error) {
	narrow, err := db.narrowSearch(ctx, q.Terms)
	if err != nil {
		return nil, err
	}
	query, args := listSQL(q, narrow, false)
	limit, offset := q.Limit, max(q.Offset, 0)
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	if q.After != nil {
		offset = 0
	}
	products := []souq.Product{}
	err = db.queryRead(ctx, query, append(args, limit, offset), func(rows *sql.Rows) error {
		p, err := scanListed(rows)
		if err != nil {
			return err
		}
		products = append(products, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	return products, nil
}

// CountProducts counts the products matching q (its sort and paging
// aside), stopping at limit when limit is above 0.
func (db *DB) CountProducts(ctx context.Context, q catalog.Query, limit int) (int, error) {
	if limit <= 0 {
		limit = -1
	}
	q.After = nil
	// Counting reads the matches from the full-text index: it stops at
	// limit matching products either way, and this way it reads only
	// products that match the terms.
	query, args := listSQL(q, true, true)
	var n int
	err := db.queryRead(ctx, query, append(args, limit), func(rows *sql.Rows) error { return rows.Scan(&n) })
	if err != nil {
		return 0, fmt.Errorf("count products: %w", err)
	}
	return n, nil
}

// narrowSearch reports whether terms match at most narrowSearch products
// (true too when there are no terms, which it does not ask the database).
func (db *DB) narrowSearch(ctx context.Context, terms []string) (bool, error) {
	match := ftsMatch(terms)
	if match == "" {
		return true, nil
	}
	var n int
	err := db.queryRead(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM products_fts WHERE products_fts MATCH ? LIMIT ?)`,
		[]any{match, narrowSearch + 1}, func(rows *sql.Rows) error { return rows.Scan(&n) })
	if err != nil {
		return false, fmt.Errorf("count search matches: %w", err)
	}
	return n <= narrowSearch, nil
}

// ProductCounts counts products per category and brand pair; with market
// set, only those priced in that market (from an index of the price table
// alone).
func (db *DB) ProductCounts(ctx context.Context, market souq.MarketCode) ([]catalog.GroupCount, error) {
	query := `SELECT category, brand, COUNT(*) FROM products GROUP BY category, brand`
	var args []any
	if market != "" {
		query = `SELECT category, brand, COUNT(*) FROM product_prices WHERE market = ? GROUP BY category, brand`
		args = []any{string(market)}
	}
	out := []catalog.GroupCount{}
	err := db.queryRead(ctx, query, args, func(rows *sql.Rows) error {
		var g catalog.GroupCount
		if err := rows.Scan(&g.Category, &g.Brand, &g.Count); err != nil {
			return err
		}
		out = append(out, g)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count products per category and brand: %w", err)
	}
	return out, nil
}

// ftsMatch builds an FTS5 query in which every term must be the prefix of a
// word: "term1"* AND "term2"*. Each term is quoted (quotes doubled) so that
// no term is read as FTS syntax. It returns "" when there are no terms.
func ftsMatch(terms []string) string {
	var parts []string
	for _, t := range terms {
		if t = strings.TrimSpace(t); t != "" {
			parts = append(parts, `"`+strings.ReplaceAll(t, `"`, `""`)+`"*`)
		}
	}
	return strings.Join(parts, " AND ")
}

// scanListed reads a row of productColumns followed by the product's
// prices as "market:amount,…".
func scanListed(rows *sql.Rows) (souq.Product, error) {
	var (
		p                souq.Product
		created, updated int64
		images           string
		prices           sql.NullString
	)
	err := rows.Scan(&p.ID, &p.SKU, &p.Slug, &p.Brand, &p.Category, &p.Name.EN, &p.Name.AR,
		&p.Description.EN, &p.Description.AR, &p.Image, &p.Stock, &created, &updated, &images, &prices)
	if err != nil {
		return p, err
	}
	if err := decodeImages(images, &p); err != nil {
		return p, err
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	p.Prices = map[souq.MarketCode]int64{}
	for pair := range strings.SplitSeq(prices.String, ",") {
		if pair == "" {
			continue
		}
		market, amount, ok := strings.Cut(pair, ":")
		n, err := strconv.ParseInt(amount, 10, 64)
		if !ok || err != nil {
			return p, fmt.Errorf("price %q of %s is not market:amount", pair, p.ID)
		}
		p.Prices[souq.MarketCode(market)] = n
	}
	return p, nil
}

// maxReadStmts bounds the statements kept prepared on the reader pool. The
// listing shapes number a few hundred (filters, sort, search plan, number
// of terms, keyset or offset); past the bound a statement is parsed per
// call.
const maxReadStmts = 2000

// readStmts holds statements prepared on the reader pool, by SQL text.
type readStmts struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// queryRead runs a read-only query on the reader pool through a statement
// prepared once (database/sql prepares it on each connection once), and
// calls scan for every row. ctx ends the query: its cancellation
// interrupts SQLite mid-statement.
func (db *DB) queryRead(ctx context.Context, query string, args []any, scan func(rows *sql.Rows) error) error {
	st, err := db.readStmt(ctx, query)
	if err != nil {
		return err
	}
	if st == nil {
		return queryRows(ctx, db.read, query, args, scan)
	}
	rows, err := st.QueryContext(ctx, args...)
	return eachRow(rows, err, scan)
}

// readStmt returns the prepared statement for query, preparing it on first
// use; nil when the cache is full. Preparing takes a connection from the
// pool, so it happens outside the lock: a new shape waiting for a busy
// pool must not hold up the queries whose statements are ready.
func (db *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	c := &db.readStmts
	c.mu.Lock()
	st, ok := c.stmts[query]
	full := len(c.stmts) >= maxReadStmts
	c.mu.Unlock()
	if ok || full {
		return st, nil
	}
	st, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if have, ok := c.stmts[query]; ok { // prepared meanwhile by another call
		_ = st.Close()
		return have, nil
	}
	if c.stmts == nil {
		c.stmts = make(map[string]*sql.Stmt)
	}
	c.stmts[query] = st
	return st, nil
}

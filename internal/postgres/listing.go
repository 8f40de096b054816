package postgres

import (
	"context"
	"fmt"
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
//   - name: products (lower(name_en) COLLATE "C", id) and its category and
//     brand twins: ASCII letters folded, bytes compared, as SQLite's
//     NOCASE does, so both engines list names in one order;
//   - price in a market: product_prices (market, amount, product_id) and
//     its category and brand twins, the price table carrying a copy of its
//     product's category and brand.
//
// A keyset position (Query.After) is a range of the same index, so a page
// is as fast at any depth; an offset costs its length. Ids are compared
// bytewise (COLLATE "C") whatever the database's default collation.
//
// Search terms are a tsquery of prefixes ('term':* & …) over the products'
// generated tsvector, which has a GIN index. PostgreSQL's planner, unlike
// SQLite's, weighs how many products the terms match from its statistics:
// for a rare term it reads the matches from the GIN index and sorts them;
// for a common one it walks the listing's index in order and checks each
// row's tsvector until the page is full. TestListingPlans checks both.

// listSQL builds a listing statement and its arguments: the page of q
// (LIMIT and OFFSET are the last two arguments, added by the caller), or,
// with count, the count of its products up to a LIMIT given as the last
// argument by the caller.
func listSQL(q catalog.Query, count bool) (string, []any) {
	var (
		b     strings.Builder
		args  []any
		conds []string
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	priced := q.Market != "" && (q.Sort == catalog.SortPriceAsc || q.Sort == catalog.SortPriceDsc)
	sort := q.Sort
	if (sort == catalog.SortPriceAsc || sort == catalog.SortPriceDsc) && !priced {
		sort = catalog.SortFeatured
	}
	if count {
		b.WriteString(`SELECT COUNT(*) FROM (SELECT 1`)
	} else {
		b.WriteString(`SELECT ` + productColumns)
	}
	filterTable := "p"
	if priced {
		b.WriteString(` FROM product_prices pp JOIN products p ON p.id = pp.product_id`)
		conds = append(conds, "pp.market = "+arg(string(q.Market)))
		filterTable = "pp"
	} else {
		b.WriteString(` FROM products p`)
		if q.Market != "" {
			conds = append(conds, "EXISTS (SELECT 1 FROM product_prices pp WHERE pp.product_id = p.id AND pp.market = "+arg(string(q.Market))+")")
		}
	}
	if q.Category != "" {
		conds = append(conds, filterTable+".category = "+arg(q.Category))
	}
	if q.Brand != "" {
		conds = append(conds, filterTable+".brand = "+arg(q.Brand))
	}
	switch tsq, ok := tsQuery(q.Terms); {
	case !ok:
		conds = append(conds, "FALSE")
	case tsq != "":
		conds = append(conds, "p.search @@ "+arg(tsq)+"::tsquery")
	}
	var order string
	switch sort {
	case catalog.SortName:
		order = `lower(p.name_en COLLATE "C"), p.id`
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
			conds = append(conds, `(lower(p.name_en COLLATE "C"), p.id) > (lower(`+arg(a.Name)+`::text COLLATE "C"), `+arg(string(a.ID))+`)`)
		case catalog.SortPriceAsc:
			conds = append(conds, "(pp.amount, pp.product_id) > ("+arg(a.Amount)+", "+arg(string(a.ID))+")")
		case catalog.SortPriceDsc:
			conds = append(conds, "(pp.amount, pp.product_id) < ("+arg(a.Amount)+", "+arg(string(a.ID))+")")
		default:
			c, id := arg(a.Created), arg(string(a.ID))
			conds = append(conds, "p.created_at <= "+c, "(p.created_at < "+c+" OR p.id > "+id+")")
		}
	}
	if len(conds) > 0 {
		b.WriteString(" WHERE " + strings.Join(conds, " AND "))
	}
	if count {
		b.WriteString(` LIMIT $` + strconv.Itoa(len(args)+1) + `) s`)
		return b.String(), args
	}
	b.WriteString(" ORDER BY " + order + " LIMIT $" + strconv.Itoa(len(args)+1) + " OFFSET $" + strconv.Itoa(len(args)+2))
	return b.String(), args
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

// planned returns the arguments of q's statement, preceded for a search
// by the mode that plans it for its terms on every call (an unnamed
// statement, of which pgx caches only the description): the best plan
// depends on how many products the terms match (see the top of this
// file), and a statement prepared once would after five calls be given a
// generic plan that guesses that number. Listings without terms have one
// best plan whatever their arguments, and keep theirs prepared.
func planned(q catalog.Query, args []any) []any {
	if len(q.Terms) > 0 {
		return append([]any{pgx.QueryExecModeCacheDescribe}, args...)
	}
	return args
}

// ListProducts returns one page of the products matching q in q.Sort
// order, from q.After when set, else from q.Offset; a Limit of 0 or less
// returns every product from there on. Price sorts order by the prices of
// q.Market and, without a market, fall back to the featured order.
func (db *DB) ListProducts(ctx context.Context, q catalog.Query) ([]souq.Product, error) {
	query, args := listSQL(q, false)
	var limit any // NULL: no limit
	if q.Limit > 0 {
		limit = q.Limit
	}
	offset := max(q.Offset, 0)
	if q.After != nil {
		offset = 0
	}
	rows, err := db.pool.Query(ctx, query, planned(q, append(args, limit, offset))...)
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
// aside), stopping at limit when limit is above 0.
func (db *DB) CountProducts(ctx context.Context, q catalog.Query, limit int) (int, error) {
	q.After = nil
	query, args := listSQL(q, true)
	var lim any
	if limit > 0 {
		lim = limit
	}
	var n int
	if err := db.pool.QueryRow(ctx, query, planned(q, append(args, lim))...).Scan(&n); err != nil {
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

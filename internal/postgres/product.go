package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// productColumns are the columns scanProduct reads, from table alias p,
// the product's prices last as a JSON object {market: amount}.
const productColumns = `p.id, p.sku, p.slug, p.brand, p.category, p.name_en, p.name_ar,
	p.description_en, p.description_ar, p.image, p.stock, p.created_at, p.updated_at, p.images,
	(SELECT COALESCE(json_object_agg(pr.market, pr.amount), '{}') FROM product_prices pr WHERE pr.product_id = p.id)`

// scanProduct reads one row of productColumns.
func scanProduct(row pgx.Row) (souq.Product, error) {
	var p souq.Product
	err := row.Scan(&p.ID, &p.SKU, &p.Slug, &p.Brand, &p.Category, &p.Name.EN, &p.Name.AR,
		&p.Description.EN, &p.Description.AR, &p.Image, &p.Stock, &p.CreatedAt, &p.UpdatedAt, &p.Images, &p.Prices)
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	if p.Prices == nil {
		p.Prices = map[souq.MarketCode]int64{}
	}
	if p.Images == nil {
		p.Images = []souq.Image{}
	}
	return p, err
}

// AddProductImage appends img to a product's images (see
// catalog.Store): the product's row is locked while its images are read
// and written.
func (db *DB) AddProductImage(ctx context.Context, id souq.ID, img souq.Image, limit int, at time.Time) ([]souq.Image, error) {
	var images []souq.Image
	err := db.writeTx(ctx, func(tx pgx.Tx) error {
		images = nil
		err := tx.QueryRow(ctx, `SELECT images FROM products WHERE id = $1 FOR UPDATE`, id).Scan(&images)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("product %s: %w", id, souq.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("add image to %s: %w", id, err)
		}
		if slices.ContainsFunc(images, func(i souq.Image) bool { return i.Key == img.Key }) {
			return nil
		}
		if len(images) >= limit {
			return fmt.Errorf("product %s has %d images: %w", id, len(images), souq.ErrConflict)
		}
		images = append(images, img)
		_, err = tx.Exec(ctx, `UPDATE products SET images = $1, updated_at = GREATEST(updated_at, $2) WHERE id = $3`, images, at, id)
		return err
	})
	if images == nil {
		images = []souq.Image{}
	}
	return images, err
}

// SetProductImages replaces a product's images; ErrNotFound if there is
// no such product.
func (db *DB) SetProductImages(ctx context.Context, id souq.ID, images []souq.Image, at time.Time) error {
	if images == nil {
		images = []souq.Image{}
	}
	tag, err := db.pool.Exec(ctx, `UPDATE products SET images = $1, updated_at = GREATEST(updated_at, $2) WHERE id = $3`, images, at, id)
	if err != nil {
		return unavailable(fmt.Errorf("set images of %s: %w", id, err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("product %s: %w", id, souq.ErrNotFound)
	}
	return nil
}

// ProductsByID returns the products with the given ids that exist, with
// their prices, in id order.
func (db *DB) ProductsByID(ctx context.Context, ids []souq.ID) ([]souq.Product, error) {
	out := []souq.Product{}
	if len(ids) == 0 {
		return out, nil
	}
	list := make([]string, len(ids))
	for i, id := range ids {
		list[i] = string(id)
	}
	rows, err := db.pool.Query(ctx, `SELECT `+productColumns+` FROM products p WHERE p.id = ANY($1) ORDER BY p.id`, list)
	if err != nil {
		return nil, unavailable(fmt.Errorf("products by id: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, fmt.Errorf("products by id: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("products by id: %w", err))
	}
	return out, nil
}

// Product returns a product by id; ErrNotFound if there is none.
func (db *DB) Product(ctx context.Context, id souq.ID) (souq.Product, error) {
	return db.productWhere(ctx, "p.id = $1", id, fmt.Sprintf("product %s", id))
}

// ProductBySlug returns a product by slug; ErrNotFound if there is none.
func (db *DB) ProductBySlug(ctx context.Context, slug string) (souq.Product, error) {
	return db.productWhere(ctx, "p.slug = $1", slug, fmt.Sprintf("product with slug %q", slug))
}

func (db *DB) productWhere(ctx context.Context, cond string, arg any, what string) (souq.Product, error) {
	p, err := scanProduct(db.pool.QueryRow(ctx, `SELECT `+productColumns+` FROM products p WHERE `+cond, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return souq.Product{}, fmt.Errorf("%s: %w", what, souq.ErrNotFound)
	}
	if err != nil {
		return souq.Product{}, unavailable(fmt.Errorf("get %s: %w", what, err))
	}
	return p, nil
}

// CreateProduct stores a new product with its search text. A duplicate id,
// SKU or slug is a *catalog.ProductClashError naming the field.
func (db *DB) CreateProduct(ctx context.Context, p souq.Product, searchText string) error {
	return db.CreateProducts(ctx, []catalog.NewProduct{{Product: p, SearchText: searchText}})
}

// CreateProducts stores new products in one transaction: all of them or,
// on the first duplicate id, SKU or slug (in the order of ps, then id, SKU,
// slug; a *catalog.ProductClashError), none. Duplicates are looked for in
// one query, then the rows are written with COPY, so an import of
// thousands of products costs a few round trips.
//
// A clashing product another writer commits between the check and the
// write breaks a unique constraint instead; the transaction is then run
// again, and its check names the clash as it names any other.
func (db *DB) CreateProducts(ctx context.Context, ps []catalog.NewProduct) error {
	if len(ps) == 0 {
		return nil
	}
	var err error
	for range 3 {
		err = db.writeTx(ctx, func(tx pgx.Tx) error { return createProducts(ctx, tx, ps) })
		if sqlState(err) != codeUniqueViolation {
			return err
		}
	}
	if len(ps) == 1 {
		return clashOf(err, ps[0].Product)
	}
	return fmt.Errorf("%w: %w", souq.ErrConflict, err)
}

// createProducts checks ps for clashes and writes them in tx.
func createProducts(ctx context.Context, tx pgx.Tx, ps []catalog.NewProduct) error {
	if err := batchClash(ctx, tx, ps); err != nil {
		return err
	}
	var prices [][]any
	products := make([][]any, len(ps))
	for i, np := range ps {
		p := np.Product
		products[i] = []any{string(p.ID), p.SKU, p.Slug, p.Brand, p.Category, p.Name.EN, p.Name.AR,
			p.Description.EN, p.Description.AR, p.Image, p.Stock, p.CreatedAt, p.UpdatedAt, np.SearchText}
		for market, amount := range p.Prices {
			prices = append(prices, []any{string(p.ID), string(market), amount, p.Category, p.Brand})
		}
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"products"}, []string{"id", "sku", "slug", "brand", "category",
		"name_en", "name_ar", "description_en", "description_ar", "image", "stock", "created_at", "updated_at", "search_text"},
		pgx.CopyFromRows(products))
	if err != nil {
		return fmt.Errorf("insert products: %w", err)
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"product_prices"}, []string{"product_id", "market", "amount", "category", "brand"},
		pgx.CopyFromRows(prices))
	if err != nil {
		return fmt.Errorf("insert prices: %w", err)
	}
	return nil
}

// batchClash returns a *catalog.ProductClashError for the first product of
// ps whose id, SKU or slug a stored product or an earlier product of ps
// already has.
func batchClash(ctx context.Context, tx pgx.Tx, ps []catalog.NewProduct) error {
	ids, skus, slugs := make([]string, len(ps)), make([]string, len(ps)), make([]string, len(ps))
	for i, np := range ps {
		ids[i], skus[i], slugs[i] = string(np.Product.ID), np.Product.SKU, np.Product.Slug
	}
	taken := map[string]map[string]bool{"id": {}, "sku": {}, "slug": {}}
	rows, err := tx.Query(ctx, `SELECT id, sku, slug FROM products WHERE id = ANY($1) OR sku = ANY($2) OR slug = ANY($3)`, ids, skus, slugs)
	if err != nil {
		return fmt.Errorf("check products for duplicates: %w", err)
	}
	var id, sku, slug string
	_, err = pgx.ForEachRow(rows, []any{&id, &sku, &slug}, func() error {
		taken["id"][id], taken["sku"][sku], taken["slug"][slug] = true, true, true
		return nil
	})
	if err != nil {
		return fmt.Errorf("check products for duplicates: %w", err)
	}
	for i := range ps {
		for _, f := range []struct{ field, value string }{{"id", ids[i]}, {"sku", skus[i]}, {"slug", slugs[i]}} {
			if taken[f.field][f.value] {
				return &catalog.ProductClashError{Field: f.field, Value: f.value}
			}
			taken[f.field][f.value] = true
		}
	}
	return nil
}

// clashOf turns a unique violation of products that a concurrent writer
// caused (after the check) in writing p into a *catalog.ProductClashError
// naming the field and p's value of it.
func clashOf(err error, p souq.Product) error {
	if sqlState(err) != codeUniqueViolation {
		return err
	}
	switch constraintOf(err) {
	case "products_pkey":
		return &catalog.ProductClashError{Field: "id", Value: string(p.ID)}
	case "products_sku_key":
		return &catalog.ProductClashError{Field: "sku", Value: p.SKU}
	case "products_slug_key":
		return &catalog.ProductClashError{Field: "slug", Value: p.Slug}
	}
	return fmt.Errorf("%w: %w", souq.ErrConflict, err)
}

// UpdateProduct replaces every field of an existing product except its
// stock and creation time; ErrNotFound if there is none, a
// *catalog.ProductClashError on a duplicate SKU or slug.
func (db *DB) UpdateProduct(ctx context.Context, p souq.Product, searchText string) error {
	return db.writeTx(ctx, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM products WHERE id = $1`, p.ID).Scan(&n); err != nil {
			return fmt.Errorf("update product %s: %w", p.ID, err)
		}
		if n == 0 {
			return fmt.Errorf("product %s: %w", p.ID, souq.ErrNotFound)
		}
		var sku, slug string
		err := tx.QueryRow(ctx, `SELECT sku, slug FROM products WHERE id <> $1 AND (sku = $2 OR slug = $3)
			ORDER BY sku = $2 DESC LIMIT 1`, p.ID, p.SKU, p.Slug).Scan(&sku, &slug)
		switch {
		case err == nil && sku == p.SKU:
			return &catalog.ProductClashError{Field: "sku", Value: p.SKU}
		case err == nil:
			return &catalog.ProductClashError{Field: "slug", Value: p.Slug}
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("check product %s for duplicates: %w", p.ID, err)
		}
		_, err = tx.Exec(ctx, `UPDATE products SET sku = $1, slug = $2, brand = $3, category = $4,
			name_en = $5, name_ar = $6, description_en = $7, description_ar = $8, image = $9,
			updated_at = $10, search_text = $11 WHERE id = $12`,
			p.SKU, p.Slug, p.Brand, p.Category, p.Name.EN, p.Name.AR, p.Description.EN, p.Description.AR,
			p.Image, p.UpdatedAt, searchText, p.ID)
		if err != nil {
			return clashOf(fmt.Errorf("update product %s: %w", p.ID, err), p)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM product_prices WHERE product_id = $1`, p.ID); err != nil {
			return fmt.Errorf("update prices of %s: %w", p.ID, err)
		}
		markets, amounts := make([]string, 0, len(p.Prices)), make([]int64, 0, len(p.Prices))
		for m, a := range p.Prices {
			markets, amounts = append(markets, string(m)), append(amounts, a)
		}
		_, err = tx.Exec(ctx, `INSERT INTO product_prices (product_id, market, amount, category, brand)
			SELECT $1, m, a, $4, $5 FROM unnest($2::text[], $3::bigint[]) AS d(m, a)`, p.ID, markets, amounts, p.Category, p.Brand)
		if err != nil {
			return fmt.Errorf("update prices of %s: %w", p.ID, err)
		}
		return nil
	})
}

// SetStock sets a product's stock level; ErrNotFound if there is none.
func (db *DB) SetStock(ctx context.Context, id souq.ID, quantity int, at time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE products SET stock = $1, updated_at = $2 WHERE id = $3`, quantity, at, id)
	if err != nil {
		return unavailable(fmt.Errorf("set stock of %s: %w", id, err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("product %s: %w", id, souq.ErrNotFound)
	}
	return nil
}

// Stocks returns the stock levels of the products with the given ids that
// exist.
func (db *DB) Stocks(ctx context.Context, ids []souq.ID) (map[souq.ID]int, error) {
	out := make(map[souq.ID]int, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	list := make([]string, len(ids))
	for i, id := range ids {
		list[i] = string(id)
	}
	rows, err := db.pool.Query(ctx, `SELECT id, stock FROM products WHERE id = ANY($1)`, list)
	if err != nil {
		return nil, unavailable(fmt.Errorf("stocks: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id    string
			stock int
		)
		if err := rows.Scan(&id, &stock); err != nil {
			return nil, fmt.Errorf("stocks: %w", err)
		}
		out[souq.ID(id)] = stock
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("stocks: %w", err))
	}
	return out, nil
}

// LowStock implements catalog.Store. It scans the products: an index on
// stock would make every stock decrement update every index of the row
// (no HOT update), the flash sale's hottest write.
func (db *DB) LowStock(ctx context.Context, atMost, limit int) ([]catalog.StockLevel, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, stock FROM products WHERE stock <= $1 ORDER BY stock, id LIMIT $2`, atMost, limit)
	if err != nil {
		return nil, unavailable(fmt.Errorf("low stock: %w", err))
	}
	defer rows.Close()
	out := []catalog.StockLevel{}
	for rows.Next() {
		var (
			id    string
			stock int
		)
		if err := rows.Scan(&id, &stock); err != nil {
			return nil, fmt.Errorf("low stock: %w", err)
		}
		out = append(out, catalog.StockLevel{ProductID: souq.ID(id), Stock: stock})
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("low stock: %w", err))
	}
	return out, nil
}

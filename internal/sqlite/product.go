package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// productColumns are the columns scanProduct reads, from table alias p.
const productColumns = `p.id, p.sku, p.slug, p.brand, p.category, p.name_en, p.name_ar,
	p.description_en, p.description_ar, p.image, p.stock, p.created_at, p.updated_at, p.images`

// scanProduct reads one row of productColumns; prices are loaded separately.
func scanProduct(row interface{ Scan(...any) error }) (souq.Product, error) {
	var (
		p                souq.Product
		created, updated int64
		images           string
	)
	err := row.Scan(&p.ID, &p.SKU, &p.Slug, &p.Brand, &p.Category, &p.Name.EN, &p.Name.AR,
		&p.Description.EN, &p.Description.AR, &p.Image, &p.Stock, &created, &updated, &images)
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	p.Prices = map[souq.MarketCode]int64{}
	if err == nil {
		err = decodeImages(images, &p)
	}
	return p, err
}

// decodeImages reads the images column into p.Images.
func decodeImages(s string, p *souq.Product) error {
	p.Images = []souq.Image{}
	if err := json.Unmarshal([]byte(s), &p.Images); err != nil {
		return fmt.Errorf("product %s: images: %w", p.ID, err)
	}
	return nil
}

// AddProductImage appends img to a product's images (see
// catalog.Store).
func (db *DB) AddProductImage(ctx context.Context, id souq.ID, img souq.Image, limit int, at time.Time) ([]souq.Image, error) {
	var images []souq.Image
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var raw string
		err := tx.QueryRowContext(ctx, `SELECT images FROM products WHERE id = ?`, id).Scan(&raw)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("product %s: %w", id, souq.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("add image to %s: %w", id, err)
		}
		p := souq.Product{ID: id}
		if err := decodeImages(raw, &p); err != nil {
			return err
		}
		images = p.Images
		if slices.ContainsFunc(images, func(i souq.Image) bool { return i.Key == img.Key }) {
			return nil
		}
		if len(images) >= limit {
			return fmt.Errorf("product %s has %d images: %w", id, len(images), souq.ErrConflict)
		}
		images = append(images, img)
		data, err := json.Marshal(images)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE products SET images = ?, updated_at = max(updated_at, ?) WHERE id = ?`, string(data), micros(at), id)
		return err
	})
	return images, err
}

// SetProductImages replaces a product's images; ErrNotFound if there is
// no such product.
func (db *DB) SetProductImages(ctx context.Context, id souq.ID, images []souq.Image, at time.Time) error {
	if images == nil {
		images = []souq.Image{}
	}
	data, err := json.Marshal(images)
	if err != nil {
		return fmt.Errorf("set images of %s: %w", id, err)
	}
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		n, err := rowsAffected(tx.ExecContext(ctx, `UPDATE products SET images = ?, updated_at = max(updated_at, ?) WHERE id = ?`, string(data), micros(at), id))
		if err != nil {
			return fmt.Errorf("set images of %s: %w", id, err)
		}
		if n == 0 {
			return fmt.Errorf("product %s: %w", id, souq.ErrNotFound)
		}
		return nil
	})
}

// ProductsByID returns the products with the given ids that exist, with
// their prices, in id order.
func (db *DB) ProductsByID(ctx context.Context, ids []souq.ID) ([]souq.Product, error) {
	out := []souq.Product{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		err := queryIn(ctx, tx, `SELECT `+productColumns+` FROM products p WHERE p.id IN (?)`, args, func(rows *sql.Rows) error {
			p, err := scanProduct(rows)
			out = append(out, p)
			return err
		})
		if err != nil {
			return fmt.Errorf("products by id: %w", err)
		}
		ptrs := make([]*souq.Product, len(out))
		for i := range out {
			ptrs[i] = &out[i]
		}
		return loadPrices(ctx, tx, ptrs)
	})
	slices.SortFunc(out, func(a, b souq.Product) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out, err
}

// Product returns a product by id; ErrNotFound if there is none.
func (db *DB) Product(ctx context.Context, id souq.ID) (souq.Product, error) {
	return db.productWhere(ctx, "p.id = ?", id, fmt.Sprintf("product %s", id))
}

// ProductBySlug returns a product by slug; ErrNotFound if there is none.
func (db *DB) ProductBySlug(ctx context.Context, slug string) (souq.Product, error) {
	return db.productWhere(ctx, "p.slug = ?", slug, fmt.Sprintf("product with slug %q", slug))
}

func (db *DB) productWhere(ctx context.Context, cond string, arg any, what string) (souq.Product, error) {
	var p souq.Product
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = scanProduct(tx.QueryRowContext(ctx, `SELECT `+productColumns+` FROM products p WHERE `+cond, arg))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", what, souq.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("get %s: %w", what, err)
		}
		return loadPrices(ctx, tx, []*souq.Product{&p})
	})
	return p, err
}

// loadPrices fills in the prices of the given products.
func loadPrices(ctx context.Context, q queryer, products []*souq.Product) error {
	if len(products) == 0 {
		return nil
	}
	byID := make(map[souq.ID]*souq.Product, len(products))
	args := make([]any, len(products))
	for i, p := range products {
		byID[p.ID] = p
		args[i] = p.ID
	}
	err := queryIn(ctx, q, `SELECT product_id, market, amount FROM product_prices WHERE product_id IN (?)`, args,
		func(rows *sql.Rows) error {
			var (
				id     souq.ID
				market souq.MarketCode
				amount int64
			)
			if err := rows.Scan(&id, &market, &amount); err != nil {
				return err
			}
			byID[id].Prices[market] = amount
			return nil
		})
	if err != nil {
		return fmt.Errorf("load prices: %w", err)
	}
	return nil
}

// The statements that create products, prepared at Open.
const (
	sqlProductClash  = `SELECT id, sku, slug FROM products WHERE id = ? OR sku = ? OR slug = ?`
	sqlInsertProduct = `INSERT INTO products (id, sku, slug, brand, category, name_en, name_ar,
		description_en, description_ar, image, stock, created_at, updated_at, search_text)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlInsertPrice = `INSERT INTO product_prices (product_id, market, amount, category, brand) VALUES (?, ?, ?, ?, ?)`
)

// productWriter is what writing a product needs from a transaction: a
// *sql.Tx, or a preparedTx.
type productWriter interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// CreateProduct stores a new product with its search text. A duplicate id,
// SKU or slug is an ErrConflict naming the field.
func (db *DB) CreateProduct(ctx context.Context, p souq.Product, searchText string) error {
	return db.CreateProducts(ctx, []catalog.NewProduct{{Product: p, SearchText: searchText}})
}

// CreateProducts stores new products in one transaction: all of them or,
// on the first duplicate id, SKU or slug (an ErrConflict naming the field),
// none.
//
// Its statements are prepared once on the writer connection, so an import
// of thousands of products does not parse the same SQL for each.
func (db *DB) CreateProducts(ctx context.Context, ps []catalog.NewProduct) error {
	return db.writeTx(ctx, func(sqlTx *sql.Tx) error {
		tx := preparedTx{Tx: sqlTx, db: db}
		for _, np := range ps {
			p := np.Product
			if err := productClash(ctx, tx, p, true); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, sqlInsertProduct,
				p.ID, p.SKU, p.Slug, p.Brand, p.Category, p.Name.EN, p.Name.AR, p.Description.EN, p.Description.AR,
				p.Image, p.Stock, micros(p.CreatedAt), micros(p.UpdatedAt), np.SearchText)
			if err != nil {
				return fmt.Errorf("insert product %s: %w", p.ID, err)
			}
			if err := insertPrices(ctx, tx, p); err != nil {
				return err
			}
		}
		return nil
	})
}

// UpdateProduct replaces every field of an existing product except its stock
// and creation time; ErrNotFound if there is none, ErrConflict on a
// duplicate SKU or slug.
func (db *DB) UpdateProduct(ctx context.Context, p souq.Product, searchText string) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		var exists int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM products WHERE id = ?`, p.ID).Scan(&exists)
		if err != nil {
			return fmt.Errorf("update product %s: %w", p.ID, err)
		}
		if exists == 0 {
			return fmt.Errorf("product %s: %w", p.ID, souq.ErrNotFound)
		}
		if err := productClash(ctx, tx, p, false); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE products SET sku = ?, slug = ?, brand = ?, category = ?,
			name_en = ?, name_ar = ?, description_en = ?, description_ar = ?, image = ?,
			updated_at = ?, search_text = ? WHERE id = ?`,
			p.SKU, p.Slug, p.Brand, p.Category, p.Name.EN, p.Name.AR, p.Description.EN, p.Description.AR,
			p.Image, micros(p.UpdatedAt), searchText, p.ID)
		if err != nil {
			return fmt.Errorf("update product %s: %w", p.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM product_prices WHERE product_id = ?`, p.ID); err != nil {
			return fmt.Errorf("update prices of %s: %w", p.ID, err)
		}
		return insertPrices(ctx, tx, p)
	})
}

// productClash returns an ErrConflict naming the first of id (when
// creating), SKU and slug that another product already has. It runs inside
// the write transaction, so no other writer can slip in between.
func productClash(ctx context.Context, tx productWriter, p souq.Product, creating bool) error {
	query := sqlProductClash
	if !creating {
		query = `SELECT id, sku, slug FROM products WHERE id <> ? AND (sku = ? OR slug = ?)`
	}
	rows, err := tx.QueryContext(ctx, query, p.ID, p.SKU, p.Slug)
	if err != nil {
		return fmt.Errorf("check product %s for duplicates: %w", p.ID, err)
	}
	defer rows.Close()
	var idClash, skuClash, slugClash bool
	for rows.Next() {
		var id souq.ID
		var sku, slug string
		if err := rows.Scan(&id, &sku, &slug); err != nil {
			return fmt.Errorf("check product %s for duplicates: %w", p.ID, err)
		}
		idClash = idClash || (creating && id == p.ID)
		skuClash = skuClash || sku == p.SKU
		slugClash = slugClash || slug == p.Slug
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check product %s for duplicates: %w", p.ID, err)
	}
	switch {
	case idClash:
		return &catalog.ProductClashError{Field: "id", Value: string(p.ID)}
	case skuClash:
		return &catalog.ProductClashError{Field: "sku", Value: p.SKU}
	case slugClash:
		return &catalog.ProductClashError{Field: "slug", Value: p.Slug}
	}
	return nil
}

func insertPrices(ctx context.Context, tx productWriter, p souq.Product) error {
	for market, amount := range p.Prices {
		_, err := tx.ExecContext(ctx, sqlInsertPrice, p.ID, string(market), amount, p.Category, p.Brand)
		if err != nil {
			return fmt.Errorf("insert price of %s in %s: %w", p.ID, market, err)
		}
	}
	return nil
}

// SetStock sets a product's stock level; ErrNotFound if there is none.
func (db *DB) SetStock(ctx context.Context, id souq.ID, quantity int, at time.Time) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		n, err := rowsAffected(tx.ExecContext(ctx, `UPDATE products SET stock = ?, updated_at = ? WHERE id = ?`,
			quantity, micros(at), id))
		if err != nil {
			return fmt.Errorf("set stock of %s: %w", id, err)
		}
		if n == 0 {
			return fmt.Errorf("product %s: %w", id, souq.ErrNotFound)
		}
		return nil
	})
}

// Stocks returns the stock levels of the products with the given ids that
// exist.
func (db *DB) Stocks(ctx context.Context, ids []souq.ID) (map[souq.ID]int, error) {
	out := make(map[souq.ID]int, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("stocks: %w", err)
	}
	err = db.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, stock FROM products WHERE id IN (SELECT value FROM json_each(?))`, string(list))
		if err != nil {
			return fmt.Errorf("stocks: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				id    souq.ID
				stock int
			)
			if err := rows.Scan(&id, &stock); err != nil {
				return fmt.Errorf("stocks: %w", err)
			}
			out[id] = stock
		}
		return rows.Err()
	})
	return out, err
}

// LowStock implements catalog.Store. It scans the products: there is no
// index on stock, which every order's stock decrement would have to
// update (BenchmarkLowStock measures the scan).
func (db *DB) LowStock(ctx context.Context, atMost, limit int) ([]catalog.StockLevel, error) {
	out := []catalog.StockLevel{}
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, stock FROM products WHERE stock <= ? ORDER BY stock, id LIMIT ?`, atMost, limit)
		if err != nil {
			return fmt.Errorf("low stock: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var l catalog.StockLevel
			if err := rows.Scan(&l.ProductID, &l.Stock); err != nil {
				return fmt.Errorf("low stock: %w", err)
			}
			out = append(out, l)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

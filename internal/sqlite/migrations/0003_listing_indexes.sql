-- Listings read one page through an index that serves both their filter and
-- their sort, whatever the catalogue's size (see listing.go).
--
-- Category and brand are copied into product_prices (kept in step by
-- CreateProducts and UpdateProduct, which rewrite a product's prices), so
-- that a price-sorted listing in one market and one category or brand is a
-- range of one index.
ALTER TABLE product_prices ADD COLUMN category TEXT NOT NULL DEFAULT '';
ALTER TABLE product_prices ADD COLUMN brand TEXT NOT NULL DEFAULT '';
UPDATE product_prices SET
    category = (SELECT category FROM products WHERE products.id = product_prices.product_id),
    brand = (SELECT brand FROM products WHERE products.id = product_prices.product_id);
CREATE INDEX product_prices_category ON product_prices (market, category, amount, product_id);
CREATE INDEX product_prices_brand ON product_prices (market, brand, amount, product_id);
-- Counts per category and brand in a market, read from the index alone.
CREATE INDEX product_prices_counts ON product_prices (market, category, brand);

DROP INDEX products_category;
DROP INDEX products_brand;
CREATE INDEX products_category_created ON products (category, created_at DESC, id);
CREATE INDEX products_category_name ON products (category, name_en COLLATE NOCASE, id);
CREATE INDEX products_brand_created ON products (brand, created_at DESC, id);
CREATE INDEX products_brand_name ON products (brand, name_en COLLATE NOCASE, id);

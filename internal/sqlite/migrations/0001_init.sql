-- Souq schema, version 1. Times are INTEGER unix microseconds (UTC); money is
-- INTEGER minor units of the market's currency.

CREATE TABLE products (
    pk             INTEGER PRIMARY KEY, -- stable rowid for the FTS index
    id             TEXT    NOT NULL UNIQUE,
    sku            TEXT    NOT NULL UNIQUE,
    slug           TEXT    NOT NULL UNIQUE,
    brand          TEXT    NOT NULL,
    category       TEXT    NOT NULL,
    name_en        TEXT    NOT NULL,
    name_ar        TEXT    NOT NULL,
    description_en TEXT    NOT NULL DEFAULT '',
    description_ar TEXT    NOT NULL DEFAULT '',
    image          TEXT    NOT NULL DEFAULT '',
    stock          INTEGER NOT NULL CHECK (stock >= 0),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    search_text    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX products_category ON products (category);
CREATE INDEX products_brand ON products (brand);
CREATE INDEX products_created_at ON products (created_at DESC, id);
CREATE INDEX products_name_en ON products (name_en COLLATE NOCASE, id);

CREATE TABLE product_prices (
    product_id TEXT    NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    market     TEXT    NOT NULL,
    amount     INTEGER NOT NULL,
    PRIMARY KEY (product_id, market)
) WITHOUT ROWID;
CREATE INDEX product_prices_market ON product_prices (market, amount, product_id);

-- Full-text index over products.search_text (external content: the text is
-- stored once, in products). Search text is already normalised by the
-- catalog, so the tokenizer only splits on spaces and must not fold further.
CREATE VIRTUAL TABLE products_fts USING fts5 (
    search_text,
    content = 'products',
    content_rowid = 'pk',
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '2 3'
);
CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_fts (rowid, search_text) VALUES (new.pk, new.search_text);
END;
CREATE TRIGGER products_fts_update AFTER UPDATE OF search_text ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, search_text) VALUES ('delete', old.pk, old.search_text);
    INSERT INTO products_fts (rowid, search_text) VALUES (new.pk, new.search_text);
END;
CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, search_text) VALUES ('delete', old.pk, old.search_text);
END;

CREATE TABLE sales (
    id         TEXT    PRIMARY KEY,
    name_en    TEXT    NOT NULL,
    name_ar    TEXT    NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX sales_ends_at ON sales (ends_at);

CREATE TABLE sale_prices (
    sale_id    TEXT    NOT NULL REFERENCES sales (id) ON DELETE CASCADE,
    product_id TEXT    NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    market     TEXT    NOT NULL,
    amount     INTEGER NOT NULL,
    PRIMARY KEY (sale_id, product_id, market)
) WITHOUT ROWID;
CREATE INDEX sale_prices_product_id ON sale_prices (product_id);

CREATE TABLE carts (
    id         TEXT    PRIMARY KEY,
    market     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX carts_updated_at ON carts (updated_at);

-- position keeps the order in which items were first added.
CREATE TABLE cart_items (
    cart_id    TEXT    NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    product_id TEXT    NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    position   INTEGER NOT NULL,
    PRIMARY KEY (cart_id, product_id)
) WITHOUT ROWID;

CREATE TABLE orders (
    id                TEXT    PRIMARY KEY,
    status            TEXT    NOT NULL,
    market            TEXT    NOT NULL,
    currency          TEXT    NOT NULL,
    total             INTEGER NOT NULL,
    vat               INTEGER NOT NULL,
    customer_name     TEXT    NOT NULL,
    customer_email    TEXT    NOT NULL,
    customer_phone    TEXT    NOT NULL,
    ship_line1        TEXT    NOT NULL,
    ship_line2        TEXT    NOT NULL,
    ship_area         TEXT    NOT NULL,
    ship_city         TEXT    NOT NULL,
    ship_country      TEXT    NOT NULL,
    payment_method    TEXT    NOT NULL,
    payment_provider  TEXT    NOT NULL,
    payment_reference TEXT    NOT NULL,
    cart_id           TEXT    NOT NULL,
    access_token_hash TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX orders_created_at ON orders (created_at DESC, id DESC);

CREATE TABLE order_lines (
    order_id         TEXT    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no          INTEGER NOT NULL,
    product_id       TEXT    NOT NULL REFERENCES products (id),
    sku              TEXT    NOT NULL,
    name_en          TEXT    NOT NULL,
    name_ar          TEXT    NOT NULL,
    brand            TEXT    NOT NULL,
    category         TEXT    NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price       INTEGER NOT NULL,
    on_sale          INTEGER NOT NULL CHECK (on_sale IN (0, 1)),
    line_total       INTEGER NOT NULL,
    vat              INTEGER NOT NULL,
    vat_basis_points INTEGER NOT NULL,
    PRIMARY KEY (order_id, line_no)
) WITHOUT ROWID;
CREATE INDEX order_lines_product_id ON order_lines (product_id);

CREATE TABLE outbox (
    id           TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL,
    payload      BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    published_at INTEGER
);
CREATE INDEX outbox_pending ON outbox (created_at) WHERE published_at IS NULL;

CREATE TABLE idempotency_keys (
    key        TEXT    PRIMARY KEY,
    hash       TEXT    NOT NULL,
    in_flight  INTEGER NOT NULL CHECK (in_flight IN (0, 1)),
    status     INTEGER NOT NULL DEFAULT 0,
    body       BLOB,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- Souq schema for PostgreSQL, version 1: the same tables as the SQLite
-- store's, in PostgreSQL's types. Money is bigint minor units of the
-- market's currency; times are timestamptz (microseconds, as Go keeps them).
-- Columns that order listings (ids, names) compare bytewise (COLLATE "C"),
-- as SQLite does, whatever the database's default collation.

CREATE TABLE products (
    id             text        COLLATE "C" PRIMARY KEY,
    sku            text        NOT NULL UNIQUE,
    slug           text        NOT NULL UNIQUE,
    brand          text        NOT NULL,
    category       text        NOT NULL,
    name_en        text        NOT NULL,
    name_ar        text        NOT NULL,
    description_en text        NOT NULL DEFAULT '',
    description_ar text        NOT NULL DEFAULT '',
    image          text        NOT NULL DEFAULT '',
    stock          integer     NOT NULL CHECK (stock >= 0),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    -- Normalised by the catalog (catalog.SearchText): words of letters and
    -- digits separated by single spaces, so the 'simple' configuration,
    -- which only splits and lower-cases, indexes exactly those words; a
    -- search word is a prefix query (word:*).
    search_text    text        NOT NULL DEFAULT '',
    search         tsvector    GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED
);
CREATE INDEX products_search ON products USING gin (search);
-- Listings read a page through an index serving filter and order. Names
-- order as SQLite's NOCASE does, whatever the database's locale: ASCII
-- letters folded (lower() under "C" folds nothing else), bytes compared.
CREATE INDEX products_created ON products (created_at DESC, id);
CREATE INDEX products_name ON products ((lower(name_en COLLATE "C")), id);
CREATE INDEX products_category_created ON products (category, created_at DESC, id);
CREATE INDEX products_category_name ON products (category, (lower(name_en COLLATE "C")), id);
CREATE INDEX products_brand_created ON products (brand, created_at DESC, id);
CREATE INDEX products_brand_name ON products (brand, (lower(name_en COLLATE "C")), id);

-- Category and brand are copied from the product (rewritten with its
-- prices), so that a price-sorted listing in a market and a category or
-- brand is a range of one index.
CREATE TABLE product_prices (
    product_id text   COLLATE "C" NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    market     text   NOT NULL,
    amount     bigint NOT NULL,
    category   text   NOT NULL,
    brand      text   NOT NULL,
    PRIMARY KEY (product_id, market)
);
CREATE INDEX product_prices_market ON product_prices (market, amount, product_id);
CREATE INDEX product_prices_category ON product_prices (market, category, amount, product_id);
CREATE INDEX product_prices_brand ON product_prices (market, brand, amount, product_id);
CREATE INDEX product_prices_counts ON product_prices (market, category, brand);

-- Sales may not overlap in time: the exclusion constraint refuses an
-- overlapping sale whatever the concurrency, in every replica.
CREATE TABLE sales (
    id         text        PRIMARY KEY,
    name_en    text        NOT NULL,
    name_ar    text        NOT NULL,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    CHECK (ends_at > starts_at),
    CONSTRAINT sales_no_overlap EXCLUDE USING gist (tstzrange(starts_at, ends_at) WITH &&)
);
CREATE INDEX sales_ends_at ON sales (ends_at);

CREATE TABLE sale_prices (
    sale_id    text   NOT NULL REFERENCES sales (id) ON DELETE CASCADE,
    product_id text   NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    market     text   NOT NULL,
    amount     bigint NOT NULL,
    PRIMARY KEY (sale_id, product_id, market)
);
CREATE INDEX sale_prices_product_id ON sale_prices (product_id);

CREATE TABLE carts (
    id         text        PRIMARY KEY,
    market     text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX carts_updated_at ON carts (updated_at);

-- position keeps the order in which items were first added.
CREATE TABLE cart_items (
    cart_id    text    NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    product_id text    NOT NULL,
    quantity   integer NOT NULL CHECK (quantity > 0),
    position   integer NOT NULL,
    PRIMARY KEY (cart_id, product_id)
);

CREATE TABLE orders (
    id                text        COLLATE "C" PRIMARY KEY,
    status            text        NOT NULL,
    market            text        NOT NULL,
    currency          text        NOT NULL,
    total             bigint      NOT NULL,
    vat               bigint      NOT NULL,
    customer_name     text        NOT NULL,
    customer_email    text        NOT NULL,
    customer_phone    text        NOT NULL,
    ship_line1        text        NOT NULL,
    ship_line2        text        NOT NULL,
    ship_area         text        NOT NULL,
    ship_city         text        NOT NULL,
    ship_country      text        NOT NULL,
    payment_method    text        NOT NULL,
    payment_provider  text        NOT NULL,
    payment_reference text        NOT NULL,
    cart_id           text        NOT NULL,
    access_token_hash text        NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX orders_created_at ON orders (created_at DESC, id DESC);

CREATE TABLE order_lines (
    order_id         text    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no          integer NOT NULL,
    product_id       text    NOT NULL REFERENCES products (id),
    sku              text    NOT NULL,
    name_en          text    NOT NULL,
    name_ar          text    NOT NULL,
    brand            text    NOT NULL,
    category         text    NOT NULL,
    quantity         integer NOT NULL CHECK (quantity > 0),
    unit_price       bigint  NOT NULL,
    on_sale          boolean NOT NULL,
    line_total       bigint  NOT NULL,
    vat              bigint  NOT NULL,
    vat_basis_points integer NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
CREATE INDEX order_lines_product_id ON order_lines (product_id);

-- seq orders the outbox as it was written (the relay reads pending rows in
-- that order).
CREATE TABLE outbox (
    seq          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           text        NOT NULL UNIQUE,
    name         text        NOT NULL,
    payload      bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    published_at timestamptz
);
CREATE INDEX outbox_pending ON outbox (created_at, seq) WHERE published_at IS NULL;
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Claims in flight are rows here, seen by every replica; owner is the
-- process holding one.
CREATE TABLE idempotency_keys (
    key        text        PRIMARY KEY,
    hash       text        NOT NULL,
    owner      text        NOT NULL DEFAULT '',
    in_flight  boolean     NOT NULL,
    status     integer     NOT NULL DEFAULT 0,
    body       bytea,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

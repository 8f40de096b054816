-- The units each product is offered with in a sale, for its sell-through.
CREATE TABLE sale_units (
    sale_id    TEXT    NOT NULL REFERENCES sales (id) ON DELETE CASCADE,
    product_id TEXT    NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    units      INTEGER NOT NULL CHECK (units >= 0),
    PRIMARY KEY (sale_id, product_id)
) WITHOUT ROWID;

-- Delivery (package delivery): each market's settings as delivery.Settings
-- JSON, and the fees each order was charged (minor units, VAT-inclusive,
-- part of total).
CREATE TABLE delivery_settings (
	market     TEXT PRIMARY KEY,
	settings   TEXT NOT NULL,
	updated_at INTEGER NOT NULL
);

ALTER TABLE orders ADD COLUMN delivery_fee INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN cod_fee INTEGER NOT NULL DEFAULT 0;

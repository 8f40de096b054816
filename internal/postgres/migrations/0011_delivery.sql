-- Delivery (package delivery): each market's settings as delivery.Settings
-- JSON, and the fees each order was charged (minor units, VAT-inclusive,
-- part of total).
CREATE TABLE delivery_settings (
	market     text PRIMARY KEY,
	settings   jsonb NOT NULL,
	updated_at timestamptz NOT NULL
);

ALTER TABLE orders ADD COLUMN delivery_fee bigint NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN cod_fee bigint NOT NULL DEFAULT 0;

-- Webhooks (package webhook): the merchant's endpoints, one delivery per
-- event and endpoint with the record of its attempts, and the products
-- whose low stock has been announced.
CREATE TABLE webhook_endpoints (
	id          TEXT PRIMARY KEY,
	url         TEXT NOT NULL,
	events      TEXT NOT NULL, -- event types, comma-separated
	description TEXT NOT NULL DEFAULT '',
	secret      TEXT NOT NULL,
	created_at  INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
	id              TEXT PRIMARY KEY,
	endpoint_id     TEXT NOT NULL,
	event_id        TEXT NOT NULL,
	event_type      TEXT NOT NULL,
	payload         BLOB NOT NULL,
	status          TEXT NOT NULL, -- pending, delivered, failed
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	last_status     INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	delivered_at    INTEGER,
	created_at      INTEGER NOT NULL,
	UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, created_at);

CREATE TABLE webhook_stock_low (
	product_id TEXT PRIMARY KEY,
	marked_at  INTEGER NOT NULL
);

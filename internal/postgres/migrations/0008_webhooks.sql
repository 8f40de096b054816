-- Webhooks (package webhook): the merchant's endpoints, one delivery per
-- event and endpoint with the record of its attempts, and the products
-- whose low stock has been announced.
CREATE TABLE webhook_endpoints (
	id          text PRIMARY KEY,
	url         text NOT NULL,
	events      text[] NOT NULL,
	description text NOT NULL DEFAULT '',
	secret      text NOT NULL,
	created_at  timestamptz NOT NULL
);

CREATE TABLE webhook_deliveries (
	id              text PRIMARY KEY,
	endpoint_id     text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	event_id        text NOT NULL,
	event_type      text NOT NULL,
	payload         bytea NOT NULL,
	status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL,
	last_status     integer NOT NULL DEFAULT 0,
	last_error      text NOT NULL DEFAULT '',
	delivered_at    timestamptz,
	created_at      timestamptz NOT NULL,
	UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, created_at);

CREATE TABLE webhook_stock_low (
	product_id text PRIMARY KEY,
	marked_at  timestamptz NOT NULL
);

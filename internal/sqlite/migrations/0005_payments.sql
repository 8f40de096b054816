-- Card payments confirmed by the provider (docs/payments.md). A card order
-- waits in pending_payment, its stock held, until the provider confirms the
-- payment or it times out. payment_due_at is when the payment sweeper next
-- looks at an order by itself (an unpaid order's release, a refund's
-- retry); completed_at is when its "Order Completed" event was written.
ALTER TABLE orders ADD COLUMN payment_status  TEXT    NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN payment_capture TEXT    NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN payment_failure TEXT    NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN payment_refund  TEXT    NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN payment_due_at  INTEGER;
ALTER TABLE orders ADD COLUMN refunded_at     INTEGER;
ALTER TABLE orders ADD COLUMN completed_at    INTEGER;
ALTER TABLE orders ADD COLUMN cancelled_at    INTEGER;

-- Orders placed before: every one was confirmed when placed, and a
-- cancellation was its last change.
UPDATE orders SET completed_at = created_at;
UPDATE orders SET cancelled_at = updated_at WHERE status = 'cancelled';
UPDATE orders SET payment_status = 'captured', payment_capture = 'automatic'
    WHERE payment_method = 'card' AND status = 'paid';
UPDATE orders SET payment_status = 'canceled', payment_capture = 'automatic'
    WHERE payment_method = 'card' AND status = 'cancelled';

CREATE INDEX orders_payment_due ON orders (payment_due_at) WHERE payment_due_at IS NOT NULL;

-- Webhook deliveries already handled, by provider and event id: a
-- provider delivers an event at least once.
CREATE TABLE payment_events (
    provider    TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (provider, id)
) WITHOUT ROWID;
CREATE INDEX payment_events_received ON payment_events (received_at);

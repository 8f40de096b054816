-- Card payments confirmed by the provider (docs/payments.md). A card order
-- waits in pending_payment, its stock held, until the provider confirms the
-- payment or it times out. payment_due_at is when the payment sweeper next
-- looks at an order by itself (an unpaid order's release, a refund's
-- retry); completed_at is when its "Order Completed" event was written.
ALTER TABLE orders
    ADD COLUMN payment_status  text NOT NULL DEFAULT '',
    ADD COLUMN payment_capture text NOT NULL DEFAULT '',
    ADD COLUMN payment_failure text NOT NULL DEFAULT '',
    ADD COLUMN payment_refund  text NOT NULL DEFAULT '',
    ADD COLUMN payment_due_at  timestamptz,
    ADD COLUMN refunded_at     timestamptz,
    ADD COLUMN completed_at    timestamptz,
    ADD COLUMN cancelled_at    timestamptz;

-- Orders placed before: every one was confirmed when placed, and a
-- cancellation was its last change.
UPDATE orders SET completed_at = created_at,
    cancelled_at = CASE WHEN status = 'cancelled' THEN updated_at END,
    payment_status = CASE WHEN payment_method <> 'card' THEN ''
        WHEN status = 'paid' THEN 'captured' ELSE 'canceled' END,
    payment_capture = CASE WHEN payment_method = 'card' THEN 'automatic' ELSE '' END;

CREATE INDEX orders_payment_due ON orders (payment_due_at) WHERE payment_due_at IS NOT NULL;

-- Webhook deliveries already handled, by provider and event id: a
-- provider delivers an event at least once.
CREATE TABLE payment_events (
    provider    text        COLLATE "C" NOT NULL,
    id          text        COLLATE "C" NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (provider, id)
);
CREATE INDEX payment_events_received ON payment_events (received_at);

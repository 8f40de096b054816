-- Published outbox rows are deleted after a retention (souq serve
-- --outbox-retention); this index finds the oldest of them.
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;

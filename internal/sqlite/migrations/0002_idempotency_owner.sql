-- The process that holds an in-flight idempotency claim, so that a process
-- starting on this database can release the claims of processes that died
-- holding them (checkout.Service.ReleaseDeadClaims).
ALTER TABLE idempotency_keys ADD COLUMN owner TEXT NOT NULL DEFAULT '';

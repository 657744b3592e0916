-- Webhooks: where a batch's completion is posted, the account's default and signing secret, and the outbox.
ALTER TABLE batches ADD COLUMN webhook_url TEXT;

-- One row per account that has a default URL or a secret. The secret is kept as issued ("whsec_" + base64): it
-- signs, so it must stay readable (unlike an API key, which is only compared and kept hashed).
CREATE TABLE account_webhooks (
    account_id       TEXT PRIMARY KEY,
    url              TEXT,
    secret           TEXT,
    disabled_at      BIGINT,
    disabled_reason  TEXT,
    updated_at       BIGINT NOT NULL
);

-- The outbox: one event per batch that left PROCESSING with somewhere to go, written in the transaction that
-- completed it. No personal data: the body is rendered from the batch at each attempt.
CREATE TABLE webhook_events (
    id               TEXT PRIMARY KEY,
    batch_id         TEXT NOT NULL UNIQUE,
    account_id       TEXT NOT NULL,
    url              TEXT NOT NULL,
    from_default     INTEGER NOT NULL,
    created_at       BIGINT NOT NULL,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    last_attempt_at  BIGINT,
    last_status      TEXT,
    lease_owner      TEXT,
    lease_until      BIGINT
);
CREATE INDEX webhook_events_due ON webhook_events (state, next_attempt_at);
CREATE INDEX webhook_events_by_account ON webhook_events (account_id, created_at);

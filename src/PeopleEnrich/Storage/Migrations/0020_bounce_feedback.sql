-- Bounce feedback (POST /api/v2/people/bounces).

-- The address each account was last charged for an email on (most_probable_email, DELIVERABLE or HIGH_PROBABILITY), kept for
-- Bounces:RefundWindow so that a reported bounce is refunded even after the request's stored answers are gone
-- (Retention:Results). Only the SHA-256 of the lower-case address: the table names no one. refunded_at is set once, by a
-- conditional UPDATE, which is what makes two concurrent reports of one address refund once.
CREATE TABLE charged_addresses (
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    address_hash TEXT NOT NULL,
    batch_id     TEXT NOT NULL,
    item_idx     INTEGER NOT NULL,
    credits      BIGINT NOT NULL,
    charged_at   BIGINT NOT NULL,
    refunded_at  BIGINT NULL,
    PRIMARY KEY (account_id, address_hash)
);
CREATE INDEX charged_addresses_by_time ON charged_addresses (charged_at);

-- Addresses reported to bounce: INVALID from then on for every account, and no support for their domain's pattern.
-- reply is only the reported reply's codes ("550 5.1.1"), never its text.
CREATE TABLE bounced_addresses (
    domain      TEXT NOT NULL,
    local_part  TEXT NOT NULL,
    bounced_at  BIGINT NOT NULL,
    reply       TEXT NULL,
    reported_at BIGINT NOT NULL,
    PRIMARY KEY (domain, local_part)
);

-- A refund is a ledger entry of its own, naming the charged item: an item has one settlement and at most one refund.
ALTER TABLE credit_entries ADD COLUMN refunded BIGINT NOT NULL DEFAULT 0;
DROP INDEX credit_entries_once_per_item;
CREATE UNIQUE INDEX credit_entries_once_per_item ON credit_entries (batch_id, item_idx, kind) WHERE batch_id IS NOT NULL;

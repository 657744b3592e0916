-- One script for both providers: the Migrator replaces {{BLOB}} and {{IDENTITY}} with each one's types.
-- Times are Unix milliseconds (BIGINT) on both providers, so that SQL comparisons agree everywhere.
CREATE TABLE accounts (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    total_credits    BIGINT NOT NULL DEFAULT 0,
    used_credits     BIGINT NOT NULL DEFAULT 0,
    reserved_credits BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    CONSTRAINT accounts_ledger_never_negative
        CHECK (used_credits >= 0 AND reserved_credits >= 0 AND used_credits + reserved_credits <= total_credits)
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    prefix     TEXT NOT NULL UNIQUE,
    hash       {{BLOB}} NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT NULL
);

CREATE TABLE batches (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    item_count      INTEGER NOT NULL,
    created_at      BIGINT NOT NULL,
    idempotency_key TEXT NULL,
    body_hash       {{BLOB}} NULL
);
CREATE UNIQUE INDEX batches_idempotency ON batches (account_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE items (
    batch_id         TEXT NOT NULL REFERENCES batches (id),
    idx              INTEGER NOT NULL,
    account_id       TEXT NOT NULL REFERENCES accounts (id),
    firstname        TEXT NOT NULL,
    lastname         TEXT NOT NULL,
    domain           TEXT NOT NULL,
    company_name     TEXT NULL,
    linkedin_url     TEXT NULL,
    fields           INTEGER NOT NULL,
    custom_json      TEXT NULL,
    reserved_credits BIGINT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    available_at     BIGINT NOT NULL,
    lease_owner      TEXT NULL,
    lease_until      BIGINT NULL,
    last_error       TEXT NULL,
    result_json      TEXT NULL,
    charged_credits  BIGINT NULL,
    completed_at     BIGINT NULL,
    PRIMARY KEY (batch_id, idx)
);
CREATE INDEX items_ready ON items (available_at) WHERE status = 'PROCESSING';

-- One row per grant and per settled item: the audit trail that accounts.used_credits must always equal.
CREATE TABLE credit_entries (
    id         {{IDENTITY}},
    account_id TEXT NOT NULL REFERENCES accounts (id),
    kind       TEXT NOT NULL,
    granted    BIGINT NOT NULL DEFAULT 0,
    charged    BIGINT NOT NULL DEFAULT 0,
    released   BIGINT NOT NULL DEFAULT 0,
    batch_id   TEXT NULL,
    item_idx   INTEGER NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX credit_entries_once_per_item ON credit_entries (batch_id, item_idx) WHERE batch_id IS NOT NULL;

CREATE TABLE directory_contacts (
    contact_key  TEXT PRIMARY KEY,
    linkedin_key TEXT NULL,
    first_key    TEXT NULL,
    last_key     TEXT NULL,
    domain       TEXT NULL,
    firstname    TEXT NULL,
    lastname     TEXT NULL,
    company_name TEXT NULL,
    linkedin_url TEXT NULL,
    email        TEXT NULL,
    phone_e164   TEXT NULL,
    phone_region TEXT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX directory_by_linkedin ON directory_contacts (linkedin_key) WHERE linkedin_key IS NOT NULL;
CREATE INDEX directory_by_name ON directory_contacts (domain, first_key, last_key);

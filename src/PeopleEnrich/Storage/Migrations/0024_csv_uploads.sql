-- A CSV uploaded through the console (POST /api/v2/people/csv/enrich): the file as sent, so that its enriched copy
-- keeps every input column and row, the columns chosen, and the requests of 100 it was split into (in order).
CREATE TABLE csv_uploads (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    file_name       TEXT NOT NULL,
    content         {{BLOB}} NOT NULL,
    columns_json    TEXT NOT NULL,
    fields          INTEGER NOT NULL,
    row_count       INTEGER NOT NULL,
    item_count      INTEGER NOT NULL,
    batch_ids_json  TEXT NOT NULL,
    sent_rows_json  TEXT NOT NULL,
    skipped_json    TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    idempotency_key TEXT NULL,
    body_hash       {{BLOB}} NULL
);
CREATE UNIQUE INDEX csv_uploads_idempotency ON csv_uploads (account_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX csv_uploads_by_account ON csv_uploads (account_id, created_at);

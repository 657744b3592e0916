-- An account's requests, newest first, a page at a time (GET /api/v2/people/enrich): the keyset is (created_at, id).
CREATE INDEX batches_by_account ON batches (account_id, created_at, id);

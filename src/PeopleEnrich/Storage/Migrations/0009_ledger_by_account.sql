-- credits history reads one account's ledger newest first.
CREATE INDEX credit_entries_by_account ON credit_entries (account_id, created_at);

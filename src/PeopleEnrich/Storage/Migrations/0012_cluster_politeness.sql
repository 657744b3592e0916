-- What the processes sharing this database agree on, so that politeness holds for the deployment, not per process.

-- Claims with a heartbeat: slot N of a named limit (an SMTP host's sessions, a domain's lane) belongs to one
-- process until until_at; the holder renews its claims while it lives, so a dead process's claims free themselves.
CREATE TABLE cluster_leases (
    name     TEXT NOT NULL,
    slot     INTEGER NOT NULL,
    holder   TEXT NOT NULL,
    until_at BIGINT NOT NULL,
    PRIMARY KEY (name, slot)
);
CREATE INDEX cluster_leases_by_holder ON cluster_leases (holder);

-- Pacing (a session gap at a mail host, an upstream's requests per second): the theoretical arrival time of the
-- next request (GCRA), moved on atomically by each one who takes a turn.
CREATE TABLE cluster_pacing (
    name    TEXT PRIMARY KEY,
    next_at BIGINT NOT NULL
);

-- Budgets over sliding windows (RCPT commands a minute, a day): what was spent in each bucket of a window
-- (a sixtieth of it); the budget's row in cluster_budgets is locked while one process checks and spends.
CREATE TABLE cluster_budgets (
    name       TEXT PRIMARY KEY,
    touched_at BIGINT NOT NULL
);
CREATE TABLE cluster_budget_spent (
    name      TEXT NOT NULL,
    window_ms BIGINT NOT NULL,
    bucket    BIGINT NOT NULL,
    spent     BIGINT NOT NULL,
    PRIMARY KEY (name, window_ms, bucket)
);

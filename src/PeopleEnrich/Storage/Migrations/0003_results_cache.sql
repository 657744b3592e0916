-- Completed answers, reused for Cache:Ttl so that the same person asked again costs no traffic.
-- One row per person (as submitted) and asked fields; looked up by name or LinkedIn, always within the domain.
CREATE TABLE results_cache (
    cache_key    TEXT NOT NULL,
    fields       INTEGER NOT NULL,
    domain       TEXT NOT NULL,
    first_key    TEXT NOT NULL,
    last_key     TEXT NOT NULL,
    linkedin_key TEXT NULL,
    result       TEXT NOT NULL,
    stored_at    BIGINT NOT NULL,
    PRIMARY KEY (cache_key, fields)
);

CREATE INDEX results_cache_by_name ON results_cache (domain, last_key, first_key);
CREATE INDEX results_cache_by_linkedin ON results_cache (linkedin_key);

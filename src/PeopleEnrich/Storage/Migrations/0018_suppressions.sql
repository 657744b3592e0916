-- People and domains that asked not to be processed (opt-out, and every erasure): never crawled, probed, sent to an
-- upstream, nor returned. value is the match key: an address (lower-case), a domain, a LinkedIn profile key, or
-- "first|last|domain" name keys; domain is the domain it belongs to (null for a LinkedIn profile).
CREATE TABLE suppressions (
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    domain     TEXT NULL,
    reason     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE INDEX suppressions_by_domain ON suppressions (domain);

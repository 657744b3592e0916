-- One crawl of each company's website (the website source): what it found, as JSON, person by person
-- to be read later. Trusted for Knowledge:Ttl from crawled_at, like the rest of a domain's knowledge.
CREATE TABLE website_crawls (
    domain        TEXT PRIMARY KEY,
    crawled_at    BIGINT NOT NULL,
    pages_fetched INTEGER NOT NULL,
    findings      TEXT NOT NULL
);

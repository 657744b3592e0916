-- What is known of each mail domain, shared by every worker and process (the email finder).
CREATE TABLE domain_knowledge (
    domain        TEXT PRIMARY KEY,
    catch_all     INTEGER NULL,
    catch_all_at  BIGINT NULL
);

-- Each distinct address seen at a domain (verified by its server, or listed by the directory), with
-- the patterns it follows (comma-separated): the evidence a domain's pattern is learned from.
CREATE TABLE domain_addresses (
    domain         TEXT NOT NULL,
    local_part     TEXT NOT NULL,
    patterns       TEXT NOT NULL,
    from_directory INTEGER NOT NULL DEFAULT 0,
    seen_at        BIGINT NOT NULL,
    PRIMARY KEY (domain, local_part)
);

-- Times an item was put off (greylisting) rather than failed: bounded separately from attempts.
ALTER TABLE items ADD COLUMN deferrals INTEGER NOT NULL DEFAULT 0;

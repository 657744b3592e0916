-- Mail hosts not to be asked for a while, shared by every process: one that refused us (block lists,
-- reputation; for Smtp:BlockCooldown) or one that could not be reached (for Smtp:UnreachableTtl).
CREATE TABLE mail_host_standing (
    host       TEXT PRIMARY KEY,
    refused_us INTEGER NOT NULL,
    why        TEXT NOT NULL,
    until_at   BIGINT NOT NULL,
    -- when it was last seen: refusals naming a block list from several unrelated hosts within a short
    -- window pause all probing (our address is listed)
    seen_at    BIGINT NOT NULL
);

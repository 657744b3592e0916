-- What the email finder learns of a greylisting domain, shared by every process on the database (issue 9: one retry
-- schedule per domain, shared by its people, whichever process claims each of them on its retry). Times are
-- milliseconds since the epoch. Only greylisting domains have rows here, and they expire (GreylistSchedules.KeptFor).
--
-- The domain's rounds: when it first deferred us (the schedule counts from there), its latest deferral (rounds end
-- when nobody was deferred there for two of the schedule's longest gaps), its delay as its answers showed it (the least
-- time between a recipient's first deferral and its first answer), and when a person coming back was first answered.
CREATE TABLE greylist_rounds (
    domain        TEXT PRIMARY KEY,
    first_at      BIGINT NOT NULL,
    last_at       BIGINT NOT NULL,
    delay_ms      BIGINT,
    answering_at  BIGINT
);

-- Each recipient the domain's server deferred (planted): asking it again costs one RCPT, a new one two, and it passes
-- the domain's delay after its first deferral. Its shape and its latest deferral, with the process that heard it
-- (a random name for the process's life), tell the other processes which shapes the round's people planted.
CREATE TABLE greylist_planted (
    address      TEXT PRIMARY KEY,
    domain       TEXT NOT NULL,
    shape        TEXT,
    planted_at   BIGINT NOT NULL,
    deferred_at  BIGINT NOT NULL,
    member       TEXT NOT NULL
);
CREATE INDEX greylist_planted_by_domain ON greylist_planted (domain, deferred_at);
CREATE INDEX greylist_planted_by_age ON greylist_planted (planted_at);

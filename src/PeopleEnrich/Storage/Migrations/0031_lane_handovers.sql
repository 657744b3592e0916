-- What a domain's lane heard of its people's address shapes, handed over when it ends (one lane per domain in the
-- cluster) to the lane of another process that waited for the domain meanwhile: its people then go on from it, as
-- they would have had they joined the lane in its own process, instead of guessing the domain's shape from scratch.
-- Shapes and counts only, no address: the last shape found, and per shape how many people were found and how many had
-- an address rejected. A row counts only for a lane that was waiting when it was written; it is swept after an hour.
-- Times are milliseconds since the epoch; member is the writing process's life (a random name).
CREATE TABLE lane_handovers (
    domain     TEXT PRIMARY KEY,
    tags       TEXT NOT NULL,
    handed_at  BIGINT NOT NULL,
    member     TEXT NOT NULL
);
CREATE INDEX lane_handovers_by_age ON lane_handovers (handed_at);

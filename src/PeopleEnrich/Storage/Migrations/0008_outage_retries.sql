-- Times an item was put off because a source could not check something (a time-out, DNS or a mail server that
-- did not answer), bounded by Waterfall:OutageRetryAfter; apart from greylisting's deferrals, so neither budget spends the other's.
ALTER TABLE items ADD COLUMN outage_retries INTEGER NOT NULL DEFAULT 0;

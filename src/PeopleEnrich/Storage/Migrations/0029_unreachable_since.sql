-- When a mail host's current run of failed connections began: its domains' people are answered "did not answer" at
-- once only once it has failed for as long as an item's outage retries last (Waterfall:OutageRetryAfter), so that a
-- moment's failure of a mail host many domains share does not answer everyone there with no retry. Null in rows from
-- before: taken as seen_at.
ALTER TABLE mail_host_standing ADD COLUMN since_at BIGINT;

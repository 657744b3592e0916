-- Times an item's lease ran out in a worker's hands (it died, or lost the database) and another claim took it over:
-- apart from attempts, so that an operator sees how often work changed hands. The heartbeat renews one process's
-- leases in one UPDATE by owner, hence the index.
ALTER TABLE items ADD COLUMN takeovers INTEGER NOT NULL DEFAULT 0;
CREATE INDEX items_by_lease_owner ON items (lease_owner) WHERE lease_owner IS NOT NULL;

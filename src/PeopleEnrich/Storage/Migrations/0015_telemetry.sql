-- Whose lease an item's last claim took over: the owner whose lease had run out unsettled (a dead or stuck worker),
-- NULL when the item was free. Counted as a lease take-over, and said in the worker's log.
ALTER TABLE items ADD COLUMN previous_owner TEXT NULL;
-- The W3C traceparent of the request that submitted the batch (NULL when it was not traced), so that the workers'
-- spans for its items continue the request's trace, however much later and in whichever process they run.
ALTER TABLE batches ADD COLUMN trace_parent TEXT NULL;

-- A claim's holder is one life of a process; its member is the process's lasting name (Workers:Id, or the name kept in
-- .peopleenrich/), the one its items' leases carry. A process started again under that name releases its previous
-- life's claims at once, and a process that takes over a dead member's items releases its claims with them, instead
-- of both waiting for Cluster:LeaseTtl. NULL for claims of processes that run no workers.
ALTER TABLE cluster_leases ADD COLUMN member TEXT;
CREATE INDEX cluster_leases_by_member ON cluster_leases (member) WHERE member IS NOT NULL;

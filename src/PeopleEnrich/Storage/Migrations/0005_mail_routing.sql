-- Where each domain's mail goes, as DNS last said (MX hosts with their addresses, or that it takes no mail),
-- and when: shared by every process, and what the finder falls back on while DNS does not answer.
ALTER TABLE domain_knowledge ADD COLUMN routing TEXT NULL;
ALTER TABLE domain_knowledge ADD COLUMN routing_at BIGINT NULL;

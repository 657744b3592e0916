-- Evidence kept so that every returned address and number can be explained (GET …/evidence).
-- The catch-all probe's answer: the MX host asked and its reply line, as JSON.
ALTER TABLE domain_knowledge ADD COLUMN catch_all_evidence TEXT NULL;
-- The file and line a directory contact was imported from.
ALTER TABLE directory_contacts ADD COLUMN source_file TEXT NULL;
ALTER TABLE directory_contacts ADD COLUMN source_line INTEGER NULL;

-- Each worker process looks every half minute for erasures made since its last look (people erase runs in a process
-- of its own), to forget the erased addresses it holds in memory: by the time they were added, not by a scan.
CREATE INDEX suppressions_by_age ON suppressions (created_at);

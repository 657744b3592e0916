-- Who changed what with an admin command, and when. Rows are only ever inserted: the program has no
-- UPDATE or DELETE of this table (the operator's database tools are the only way to change it).
CREATE TABLE audit_entries (
    id         {{IDENTITY}},
    at         BIGINT NOT NULL,
    os_user    TEXT NOT NULL,
    command    TEXT NOT NULL,
    arguments  TEXT NOT NULL,
    outcome    TEXT NOT NULL
);
CREATE INDEX audit_entries_by_time ON audit_entries (at);

-- How many recipients a mail host takes in one session, learnt from its "too many recipients" (Microsoft 365: one),
-- shared by every process for Smtp:HostLimitsTtl, so that no process relearns it with a recipient asked twice.
-- A limit is kept under the host's name and under its mail service's (the host's parent domain when the name has
-- three or more labels: x-com.mail.protection.outlook.com is mail.protection.outlook.com), so that one limit learnt
-- at a service serves every domain on it.
CREATE TABLE mail_host_limits (
    name       TEXT PRIMARY KEY,
    recipients INTEGER NOT NULL,
    learnt_at  BIGINT NOT NULL
);

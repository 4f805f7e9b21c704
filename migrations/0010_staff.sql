-- The comune's staff: a person (by fiscal code) with roles in one comune.
-- A person with roles in two comuni has two rows and acts in one at a time.
-- They log in through the comune's OpenID providers, or, where the comune
-- has none, with a local password (argon2id, PHC string) and a TOTP second
-- factor; repeated failures lock the account for a while.
CREATE TABLE staff (
    comune TEXT NOT NULL REFERENCES comuni (code),
    fiscal_code TEXT NOT NULL,
    display_name TEXT NOT NULL,
    roles TEXT NOT NULL,                          -- comma-separated role slugs
    password_hash TEXT,                           -- argon2id PHC string; NULL: no local password
    totp_secret TEXT,                             -- base32; NULL: no local second factor
    totp_last_step BIGINT,                        -- the last TOTP step accepted: a code works once
    failed_logins BIGINT NOT NULL DEFAULT 0,      -- consecutive failures
    locked_until BIGINT,                          -- no login before this, after too many failures
    created_at BIGINT NOT NULL,
    disabled_at BIGINT,                           -- a member who left: no login, kept for the audit
    PRIMARY KEY (comune, fiscal_code)
);
CREATE INDEX staff_by_person ON staff (fiscal_code);

-- The citizen portal's sessions, in the database so that every node of a
-- deployment sees the same ones. The cookie carries a random token; only
-- its SHA-256 is stored, so a copy of this table opens no session.
CREATE TABLE portal_sessions (
    token_hash TEXT PRIMARY KEY,                  -- SHA-256 (hex) of the cookie's token
    comune TEXT NOT NULL REFERENCES comuni (code),
    fiscal_code TEXT NOT NULL,                    -- the person logged in
    display_name TEXT NOT NULL,                   -- for the page header
    provider TEXT NOT NULL,                       -- 'demo', or the identity provider's id
    csrf TEXT NOT NULL,                           -- the token every form of the session carries
    created_at BIGINT NOT NULL,                   -- the absolute timeout counts from here
    last_seen BIGINT NOT NULL,                    -- the idle timeout counts from here
    privacy_read_at BIGINT                        -- when the privacy notice was acknowledged
);
CREATE INDEX portal_sessions_last_seen ON portal_sessions (last_seen);

-- The area personale lists a person's requests, made by them or about them.
CREATE INDEX requests_requester ON requests (comune, requester);
CREATE INDEX requests_holder ON requests (comune, holder);

-- The portal's request form carries a random key: the same form sent twice
-- (a double click, a reload) is one request. NULL for the API's requests.
ALTER TABLE requests ADD COLUMN form_key TEXT;
CREATE UNIQUE INDEX requests_form_key ON requests (comune, form_key);

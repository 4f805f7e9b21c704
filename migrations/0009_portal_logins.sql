-- Logins under way with an OpenID provider: made when the browser is sent
-- to the provider, taken (deleted) when it comes back. `state` names the
-- row by its SHA-256 only; the browser that started the login holds a
-- cookie whose SHA-256 must match, so a callback address sent to someone
-- else logs nobody in. The nonce and the PKCE verifier live only here.
CREATE TABLE portal_logins (
    state_hash TEXT PRIMARY KEY,                  -- SHA-256 (hex) of `state`
    browser_hash TEXT NOT NULL,                   -- SHA-256 (hex) of the login cookie's token
    comune TEXT NOT NULL REFERENCES comuni (code),
    provider TEXT NOT NULL,                       -- the provider's id in the configuration
    nonce TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX portal_logins_created_at ON portal_logins (created_at);

-- What logout needs from a provider's login: the ID token (the hint for its
-- end-session endpoint) and the access token (for its revocation endpoint).
-- NULL for the demo login.
ALTER TABLE portal_sessions ADD COLUMN id_token TEXT;
ALTER TABLE portal_sessions ADD COLUMN access_token TEXT;

-- Requests, their payments, API keys and the audit log.

-- A comune's fee schedule (TOML, see issuer::payments::fees); NULL = the
-- built-in defaults.
ALTER TABLE comuni ADD COLUMN fees TEXT;
-- The comune's treasury IBAN, credited by bollo virtuale payments.
ALTER TABLE comuni ADD COLUMN iban TEXT;

-- The stamp's reference when it is not printed on the certificate: the
-- IUBD of a marca da bollo digitale, known only after the final PDF was
-- paid for.
ALTER TABLE certificates ADD COLUMN bollo_reference TEXT;

-- A request for a certificate, from submission to release. States:
-- requested → prepared (PDF rendered, sealed, signed; certificate pending)
-- → awaiting_payment → issued; or refused (before a number is taken),
-- cancelled or expired (the pending certificate becomes void). Exempt
-- requests go from prepared straight to issued.
CREATE TABLE requests (
    comune TEXT NOT NULL REFERENCES comuni (code),
    id TEXT NOT NULL,                             -- opaque, random
    kind BIGINT NOT NULL,                         -- seal's kind code
    parts TEXT NOT NULL,                          -- contestuale: kind codes, comma-separated
    holder TEXT NOT NULL,                         -- fiscal code
    requester TEXT NOT NULL,                      -- fiscal code
    email TEXT,                                   -- where pagoPA sends the payer's receipt
    usage TEXT NOT NULL,                          -- as issuer::catalogue::parse_usage reads it
    channel TEXT NOT NULL CHECK (channel IN ('online', 'counter')),
    state TEXT NOT NULL CHECK (state IN ('requested', 'prepared', 'awaiting_payment',
                                         'issued', 'refused', 'cancelled', 'expired')),
    refusal TEXT,                                 -- why, for the requester
    certificate_id TEXT,
    payment_mode TEXT CHECK (payment_mode IN ('virtuale', 'marca')),
    amount_cents BIGINT CHECK (amount_cents >= 0),
    iupd TEXT,                                    -- debt position id (idempotency key)
    notice_number TEXT,                           -- codice avviso, 18 digits
    checkout_url TEXT,
    receipt_id TEXT,                              -- receipt that paid it, or the IUBD
    paid_at BIGINT,
    created_by TEXT NOT NULL,                     -- API key id
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    pay_by BIGINT,                                -- unpaid after this: expired
    PRIMARY KEY (comune, id),
    UNIQUE (comune, certificate_id),
    UNIQUE (comune, notice_number),
    UNIQUE (comune, receipt_id)
);
CREATE INDEX requests_by_state ON requests (state, updated_at);

-- API keys of the software that calls Sigillo (a comune's portal, counter
-- software). Only a SHA-256 of the secret is kept.
CREATE TABLE api_keys (
    id TEXT NOT NULL PRIMARY KEY,                 -- public part of the key
    comune TEXT NOT NULL REFERENCES comuni (code),
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('sportello', 'portale')),
    secret_sha256 TEXT NOT NULL,                  -- hex
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_keys_by_comune ON api_keys (comune);

-- Append-only audit log, hash-chained per comune: each entry's hash covers
-- the previous entry's hash and its own fields. No personal data: subjects
-- are opaque ids.
CREATE TABLE audit_heads (
    comune TEXT NOT NULL PRIMARY KEY REFERENCES comuni (code),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE audit_log (
    comune TEXT NOT NULL REFERENCES comuni (code),
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    event TEXT NOT NULL,
    subject TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (comune, seq)
);

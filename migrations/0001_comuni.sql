-- Migrations run unchanged on SQLite and PostgreSQL: integers are BIGINT,
-- text is TEXT, bytes are BYTEA (stored as blobs by SQLite), flags are
-- BIGINT 0/1, times are BIGINT unix seconds (UTC), dates are TEXT
-- YYYY-MM-DD. Ids are assigned by the application, never by the database.
-- Every row belongs to a comune, and the comune's ISTAT code is part of its key.

-- The comuni this deployment serves.
CREATE TABLE comuni (
    code TEXT NOT NULL PRIMARY KEY,               -- ISTAT code, 6 digits
    belfiore TEXT NOT NULL,                       -- cadastral code, e.g. H501
    name TEXT NOT NULL,
    province TEXT NOT NULL,                       -- abbreviation, e.g. RM
    creditor_fiscal_code TEXT NOT NULL,           -- pagoPA creditor, 11 digits
    verification_host TEXT NOT NULL,
    bollo_mode TEXT NOT NULL CHECK (bollo_mode IN ('virtuale', 'marca')),
    bollo_authorization TEXT,                     -- bollo virtuale only
    bollo_authorized_on TEXT,                     -- bollo virtuale only
    bollo_cents BIGINT NOT NULL CHECK (bollo_cents >= 0),
    diritti_bollo_cents BIGINT NOT NULL CHECK (diritti_bollo_cents >= 0),
    diritti_esente_cents BIGINT NOT NULL CHECK (diritti_esente_cents >= 0),
    demo BIGINT NOT NULL CHECK (demo IN (0, 1)),
    signer_kid TEXT,                              -- hex, 16 digits
    CHECK (bollo_mode = 'marca'
           OR (bollo_authorization IS NOT NULL AND bollo_authorized_on IS NOT NULL))
);

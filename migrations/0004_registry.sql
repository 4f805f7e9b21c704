-- The registry of issued certificates and its counters.

-- Last sequence number taken per comune and year. Taking a number updates
-- this row inside the transaction that inserts the certificate, so numbers
-- are gapless and unique across processes.
CREATE TABLE certificate_counters (
    comune TEXT NOT NULL REFERENCES comuni (code),
    year BIGINT NOT NULL,
    last_sequence BIGINT NOT NULL,
    PRIMARY KEY (comune, year)
);

-- Next free index in the comune's status list.
CREATE TABLE status_list_counters (
    comune TEXT NOT NULL PRIMARY KEY REFERENCES comuni (code),
    next_index BIGINT NOT NULL
);

CREATE TABLE certificates (
    comune TEXT NOT NULL REFERENCES comuni (code),
    id TEXT NOT NULL,                             -- opaque, random
    year BIGINT NOT NULL,
    sequence BIGINT NOT NULL,
    number TEXT NOT NULL,                         -- YYYY/NNNNNN
    kind BIGINT NOT NULL,                         -- seal's kind code
    holder TEXT NOT NULL,                         -- fiscal code
    usage TEXT NOT NULL,
    clause TEXT NOT NULL CHECK (clause IN ('standard', 'estero', 'immigrazione', 'giudiziario')),
    status TEXT NOT NULL
        CHECK (status IN ('pending', 'issued', 'revoked', 'superseded', 'expired', 'void')),
    created_at BIGINT NOT NULL,
    issued_at BIGINT,
    expires_at BIGINT,
    seal BYTEA NOT NULL,
    kid TEXT NOT NULL,                            -- hex
    pdf BYTEA NOT NULL,
    pdf_sha256 TEXT NOT NULL,                     -- hex
    status_index BIGINT NOT NULL,
    issued_by TEXT NOT NULL,
    revocation_reason TEXT,
    revoked_at BIGINT,
    PRIMARY KEY (comune, id),
    UNIQUE (comune, year, sequence),
    UNIQUE (comune, number),
    UNIQUE (comune, status_index)
);
CREATE INDEX certificates_by_creation ON certificates (comune, created_at);
CREATE INDEX certificates_by_holder ON certificates (comune, holder);

-- The clause of a certificate exchanged between public administrations
-- (exemption 10): art. 40's prohibition on producing it to the PA would
-- contradict its use, so it has a sentence of its own. A CHECK constraint
-- cannot be changed in place on SQLite: the table is rebuilt, the same way
-- on both databases. Nothing refers to it by foreign key.

CREATE TABLE certificates_new (
    comune TEXT NOT NULL REFERENCES comuni (code),
    id TEXT NOT NULL,                             -- opaque, random
    year BIGINT NOT NULL,
    sequence BIGINT NOT NULL,
    number TEXT NOT NULL,                         -- YYYY/NNNNNN
    kind BIGINT NOT NULL,                         -- seal's kind code
    holder TEXT NOT NULL,                         -- fiscal code
    usage TEXT NOT NULL,
    clause TEXT NOT NULL
        CHECK (clause IN ('standard', 'estero', 'immigrazione', 'giudiziario', 'amministrazione')),
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
    bollo_reference TEXT,
    PRIMARY KEY (comune, id),
    UNIQUE (comune, year, sequence),
    UNIQUE (comune, number),
    UNIQUE (comune, status_index)
);

INSERT INTO certificates_new (
    comune, id, year, sequence, number, kind, holder, usage, clause, status,
    created_at, issued_at, expires_at, seal, kid, pdf, pdf_sha256, status_index,
    issued_by, revocation_reason, revoked_at, bollo_reference
)
SELECT
    comune, id, year, sequence, number, kind, holder, usage, clause, status,
    created_at, issued_at, expires_at, seal, kid, pdf, pdf_sha256, status_index,
    issued_by, revocation_reason, revoked_at, bollo_reference
FROM certificates;

DROP TABLE certificates;
ALTER TABLE certificates_new RENAME TO certificates;
CREATE INDEX certificates_by_creation ON certificates (comune, created_at);
CREATE INDEX certificates_by_holder ON certificates (comune, holder);

-- The registry (anagrafe): people, their families and convivenze, where
-- they live, and the facts certificates state about them.

CREATE TABLE addresses (
    comune TEXT NOT NULL REFERENCES comuni (code),
    id BIGINT NOT NULL,
    street TEXT NOT NULL,
    number TEXT NOT NULL,
    unit TEXT,
    postcode TEXT NOT NULL,
    locality TEXT NOT NULL,
    PRIMARY KEY (comune, id)
);

CREATE TABLE people (
    comune TEXT NOT NULL REFERENCES comuni (code),
    id BIGINT NOT NULL,
    fiscal_code TEXT NOT NULL,
    surname TEXT NOT NULL,
    given_names TEXT NOT NULL,
    sex TEXT NOT NULL CHECK (sex IN ('M', 'F')),
    birth_date TEXT NOT NULL,
    birth_place TEXT NOT NULL,                    -- as printed: ROMA (RM)
    birth_place_code TEXT NOT NULL,               -- Belfiore or Z code
    citizenship TEXT NOT NULL,
    civil_status TEXT NOT NULL,
    registration TEXT NOT NULL CHECK (registration IN ('R', 'A', 'C')),
    cancelled_on TEXT,                            -- registration C only
    cancellation_reason TEXT,                     -- registration C only
    certifiability BIGINT NOT NULL CHECK (certifiability BETWEEN 0 AND 4),
    name_key TEXT NOT NULL,                       -- SURNAME GIVEN NAMES, uppercase
    name_key_reversed TEXT NOT NULL,              -- GIVEN NAMES SURNAME, uppercase
    PRIMARY KEY (comune, id),
    UNIQUE (comune, fiscal_code),
    CHECK ((registration = 'C') = (cancelled_on IS NOT NULL))
);
CREATE INDEX people_by_name ON people (comune, name_key);

CREATE TABLE families (
    comune TEXT NOT NULL REFERENCES comuni (code),
    id BIGINT NOT NULL,
    address_id BIGINT,                            -- none for families abroad
    PRIMARY KEY (comune, id),
    FOREIGN KEY (comune, address_id) REFERENCES addresses (comune, id)
);

CREATE TABLE family_members (
    comune TEXT NOT NULL,
    family_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    relationship BIGINT NOT NULL,                 -- ANPR code, 1 = head
    PRIMARY KEY (comune, person_id),
    FOREIGN KEY (comune, family_id) REFERENCES families (comune, id),
    FOREIGN KEY (comune, person_id) REFERENCES people (comune, id)
);
CREATE INDEX family_members_by_family ON family_members (comune, family_id);

CREATE TABLE convivenze (
    comune TEXT NOT NULL REFERENCES comuni (code),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    address_id BIGINT NOT NULL,
    head_id BIGINT,                               -- the responsible person
    PRIMARY KEY (comune, id),
    FOREIGN KEY (comune, address_id) REFERENCES addresses (comune, id),
    FOREIGN KEY (comune, head_id) REFERENCES people (comune, id)
);

CREATE TABLE convivenza_members (
    comune TEXT NOT NULL,
    convivenza_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    relationship BIGINT NOT NULL CHECK (relationship IN (24, 25)),
    PRIMARY KEY (comune, person_id),
    FOREIGN KEY (comune, convivenza_id) REFERENCES convivenze (comune, id),
    FOREIGN KEY (comune, person_id) REFERENCES people (comune, id)
);
CREATE INDEX convivenza_members_by_convivenza ON convivenza_members (comune, convivenza_id);

CREATE TABLE aire_registrations (
    comune TEXT NOT NULL,
    person_id BIGINT NOT NULL,
    country TEXT NOT NULL,
    address_abroad TEXT NOT NULL,
    registered_on TEXT NOT NULL,
    PRIMARY KEY (comune, person_id),
    FOREIGN KEY (comune, person_id) REFERENCES people (comune, id)
);

CREATE TABLE deaths (
    comune TEXT NOT NULL,
    person_id BIGINT NOT NULL,
    died_on TEXT NOT NULL,
    PRIMARY KEY (comune, person_id),
    FOREIGN KEY (comune, person_id) REFERENCES people (comune, id)
);

-- Marriages, civil unions and cohabitation contracts, one row per party.
CREATE TABLE unions (
    comune TEXT NOT NULL,
    id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('matrimonio', 'unione-civile', 'contratto-convivenza')),
    partner_name TEXT NOT NULL,
    celebrated_on TEXT NOT NULL,
    place TEXT NOT NULL,
    ended_on TEXT,
    PRIMARY KEY (comune, id),
    FOREIGN KEY (comune, person_id) REFERENCES people (comune, id)
);
CREATE INDEX unions_by_person ON unions (comune, person_id);

CREATE TABLE open_procedures (
    comune TEXT NOT NULL,
    id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    description TEXT NOT NULL,
    opened_on TEXT NOT NULL,
    PRIMARY KEY (comune, id),
    FOREIGN KEY (comune, person_id) REFERENCES people (comune, id)
);
CREATE INDEX open_procedures_by_person ON open_procedures (comune, person_id);

-- Town planning: zones of the plan in force and of an adopted plan,
-- constraints, and cadastral parcels with their zone shares.

CREATE TABLE zones (
    comune TEXT NOT NULL REFERENCES comuni (code),
    plan TEXT NOT NULL CHECK (plan IN ('vigente', 'adottato')),
    code TEXT NOT NULL,                           -- e.g. B2
    name TEXT NOT NULL,
    nta_articles TEXT NOT NULL,                   -- one article per line
    permitted_uses TEXT NOT NULL,
    PRIMARY KEY (comune, plan, code)
);

CREATE TABLE land_constraints (
    comune TEXT NOT NULL REFERENCES comuni (code),
    code TEXT NOT NULL,                           -- e.g. PAES
    description TEXT NOT NULL,
    norm TEXT NOT NULL,
    PRIMARY KEY (comune, code)
);

-- The subalterno is '' when the parcel has none, so that it can be part of
-- the key on both databases.
CREATE TABLE parcels (
    comune TEXT NOT NULL REFERENCES comuni (code),
    foglio TEXT NOT NULL,
    particella TEXT NOT NULL,
    subalterno TEXT NOT NULL,
    area_m2 BIGINT NOT NULL CHECK (area_m2 > 0),
    PRIMARY KEY (comune, foglio, particella, subalterno)
);

CREATE TABLE parcel_zones (
    comune TEXT NOT NULL,
    foglio TEXT NOT NULL,
    particella TEXT NOT NULL,
    subalterno TEXT NOT NULL,
    plan TEXT NOT NULL,
    zone_code TEXT NOT NULL,
    share_bp BIGINT NOT NULL CHECK (share_bp > 0 AND share_bp <= 10000),
    position BIGINT NOT NULL,                     -- order within the parcel and plan
    PRIMARY KEY (comune, foglio, particella, subalterno, plan, zone_code),
    FOREIGN KEY (comune, foglio, particella, subalterno)
        REFERENCES parcels (comune, foglio, particella, subalterno),
    FOREIGN KEY (comune, plan, zone_code) REFERENCES zones (comune, plan, code)
);

CREATE TABLE parcel_constraints (
    comune TEXT NOT NULL,
    foglio TEXT NOT NULL,
    particella TEXT NOT NULL,
    subalterno TEXT NOT NULL,
    constraint_code TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (comune, foglio, particella, subalterno, constraint_code),
    FOREIGN KEY (comune, foglio, particella, subalterno)
        REFERENCES parcels (comune, foglio, particella, subalterno),
    FOREIGN KEY (comune, constraint_code) REFERENCES land_constraints (comune, code)
);

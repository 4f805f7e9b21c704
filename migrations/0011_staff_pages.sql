-- Staff at the counter and in the back office.

-- A session is a citizen's (the portal) or a staff member's (the office
-- pages); each kind has its own cookie, and a page accepts only its kind.
-- A staff session's roles are read from `staff` on every request, so a
-- role taken away or an account disabled counts at once.
ALTER TABLE portal_sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'citizen'
    CHECK (kind IN ('citizen', 'staff'));
ALTER TABLE portal_logins ADD COLUMN kind TEXT NOT NULL DEFAULT 'citizen'
    CHECK (kind IN ('citizen', 'staff'));

-- A marca da bollo on paper, applied at the counter: its 14-digit
-- identifier. One stamp pays one certificate: the unique index refuses the
-- same identifier twice in the comune, whichever counter tries it and
-- however close together (NULLs, every other certificate, do not clash).
ALTER TABLE certificates ADD COLUMN marca_id TEXT;
CREATE UNIQUE INDEX certificates_marca ON certificates (comune, marca_id);

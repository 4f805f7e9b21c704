-- A third notification: the citizen's certificate was withdrawn (revoked,
-- or superseded by a later one). The event column's CHECK lists the events,
-- and SQLite cannot change a CHECK in place, so the table is made again
-- with the same columns and rows, on SQLite and PostgreSQL alike.
CREATE TABLE outbox_next (
    id TEXT PRIMARY KEY,
    comune TEXT NOT NULL REFERENCES comuni (code),
    request_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('certificate_ready', 'payment_expired',
                                         'certificate_withdrawn')),
    channel TEXT NOT NULL CHECK (channel IN ('io', 'email')),
    recipient TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    claimed_by TEXT,
    claimed_until BIGINT,
    sent_at BIGINT,
    outcome TEXT,
    last_error TEXT,
    UNIQUE (comune, request_id, event, channel)
);
INSERT INTO outbox_next (id, comune, request_id, event, channel, recipient, created_at,
                         next_attempt_at, attempts, claimed_by, claimed_until, sent_at,
                         outcome, last_error)
    SELECT id, comune, request_id, event, channel, recipient, created_at, next_attempt_at,
           attempts, claimed_by, claimed_until, sent_at, outcome, last_error
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_next RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);

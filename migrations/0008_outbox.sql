-- Notifications to send (App IO, e-mail), written in the same transaction
-- as the event they announce, so a crash loses none; each is one row per
-- request, event and channel, so the same event never makes two. A sender
-- claims a row for a while (claimed_until) before sending, so two nodes
-- draining the outbox do not both send it.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,                           -- random
    comune TEXT NOT NULL REFERENCES comuni (code),
    request_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('certificate_ready', 'payment_expired')),
    channel TEXT NOT NULL CHECK (channel IN ('io', 'email')),
    recipient TEXT NOT NULL,                       -- fiscal code (IO) or e-mail address
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    claimed_by TEXT,
    claimed_until BIGINT,
    sent_at BIGINT,
    outcome TEXT,                                  -- 'sent', 'not_allowed' (IO said no), 'gave_up', 'skipped' (channel off)
    last_error TEXT,                               -- without personal data
    UNIQUE (comune, request_id, event, channel)
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);

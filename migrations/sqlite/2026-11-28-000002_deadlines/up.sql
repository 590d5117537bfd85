-- Deadlines: the working-day calendar, timers, the notification outbox and the leases that
-- keep one background loop of each kind on SQLite.
CREATE TABLE calendar_years (
    year       INTEGER PRIMARY KEY,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE calendar_days (
    day  TEXT PRIMARY KEY,
    year INTEGER NOT NULL REFERENCES calendar_years (year),
    kind TEXT NOT NULL CHECK (kind IN ('off', 'work'))
);
CREATE INDEX calendar_days_year_idx ON calendar_days (year);

-- One row per running stage of a ticket; at most one running timer of a kind per ticket.
CREATE TABLE timers (
    id              TEXT PRIMARY KEY,
    ticket_id       TEXT NOT NULL REFERENCES tickets (id),
    kind            TEXT NOT NULL,
    started_at      TIMESTAMP NOT NULL,
    due_at          TIMESTAMP NOT NULL,
    warn_at         TIMESTAMP NOT NULL,
    warned_at       TIMESTAMP,
    level           INTEGER NOT NULL DEFAULT 0,
    next_fire_at    TIMESTAMP,
    last_fired_at   TIMESTAMP,
    ended_at        TIMESTAMP,
    outcome         TEXT CHECK (outcome IN ('met', 'late', 'cancelled')),
    duration        TEXT,
    extended_days   INTEGER NOT NULL DEFAULT 0,
    beyond_calendar BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX timers_one_running_per_kind ON timers (ticket_id, kind) WHERE ended_at IS NULL;
CREATE INDEX timers_ticket_idx ON timers (ticket_id);
-- What the scheduler claims: running timers by the next moment they must fire.
CREATE INDEX timers_next_fire_idx ON timers (next_fire_at) WHERE ended_at IS NULL AND next_fire_at IS NOT NULL;

-- The nearest deadline and highest escalation level of a ticket's running timers.
ALTER TABLE tickets ADD COLUMN due_at TIMESTAMP;
ALTER TABLE tickets ADD COLUMN escalation_level INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tickets_due_at_idx ON tickets (due_at);

-- Notifications written in the same transaction as the change they tell of.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    ticket_id       TEXT REFERENCES tickets (id),
    event_id        TEXT,
    template        TEXT NOT NULL,
    recipients      TEXT NOT NULL,
    data            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error      TEXT,
    sent_at         TIMESTAMP,
    message_id      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_ticket_idx ON outbox (ticket_id);

-- Who runs a background loop (scheduler, mailer) on SQLite, until when.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- The official calendar, 2024–2026 (State Council notices; see shared/reference/cn-holidays.md).
-- A year listed in calendar_years is known; its days here are the exceptions to Monday–Friday.
INSERT INTO calendar_years (year, updated_at) VALUES
    (2024, CURRENT_TIMESTAMP), (2025, CURRENT_TIMESTAMP), (2026, CURRENT_TIMESTAMP);
INSERT INTO calendar_days (day, year, kind) VALUES
    ('2024-01-01', 2024, 'off'),
    ('2024-02-04', 2024, 'work'),
    ('2024-02-10', 2024, 'off'),
    ('2024-02-11', 2024, 'off'),
    ('2024-02-12', 2024, 'off'),
    ('2024-02-13', 2024, 'off'),
    ('2024-02-14', 2024, 'off'),
    ('2024-02-15', 2024, 'off'),
    ('2024-02-16', 2024, 'off'),
    ('2024-02-17', 2024, 'off'),
    ('2024-02-18', 2024, 'work'),
    ('2024-04-04', 2024, 'off'),
    ('2024-04-05', 2024, 'off'),
    ('2024-04-06', 2024, 'off'),
    ('2024-04-07', 2024, 'work'),
    ('2024-04-28', 2024, 'work'),
    ('2024-05-01', 2024, 'off'),
    ('2024-05-02', 2024, 'off'),
    ('2024-05-03', 2024, 'off'),
    ('2024-05-04', 2024, 'off'),
    ('2024-05-05', 2024, 'off'),
    ('2024-05-11', 2024, 'work'),
    ('2024-06-10', 2024, 'off'),
    ('2024-09-14', 2024, 'work'),
    ('2024-09-15', 2024, 'off'),
    ('2024-09-16', 2024, 'off'),
    ('2024-09-17', 2024, 'off'),
    ('2024-09-29', 2024, 'work'),
    ('2024-10-01', 2024, 'off'),
    ('2024-10-02', 2024, 'off'),
    ('2024-10-03', 2024, 'off'),
    ('2024-10-04', 2024, 'off'),
    ('2024-10-05', 2024, 'off'),
    ('2024-10-06', 2024, 'off'),
    ('2024-10-07', 2024, 'off'),
    ('2024-10-12', 2024, 'work'),
    ('2025-01-01', 2025, 'off'),
    ('2025-01-26', 2025, 'work'),
    ('2025-01-28', 2025, 'off'),
    ('2025-01-29', 2025, 'off'),
    ('2025-01-30', 2025, 'off'),
    ('2025-01-31', 2025, 'off'),
    ('2025-02-01', 2025, 'off'),
    ('2025-02-02', 2025, 'off'),
    ('2025-02-03', 2025, 'off'),
    ('2025-02-04', 2025, 'off'),
    ('2025-02-08', 2025, 'work'),
    ('2025-04-04', 2025, 'off'),
    ('2025-04-05', 2025, 'off'),
    ('2025-04-06', 2025, 'off'),
    ('2025-04-27', 2025, 'work'),
    ('2025-05-01', 2025, 'off'),
    ('2025-05-02', 2025, 'off'),
    ('2025-05-03', 2025, 'off'),
    ('2025-05-04', 2025, 'off'),
    ('2025-05-05', 2025, 'off'),
    ('2025-05-31', 2025, 'off'),
    ('2025-06-01', 2025, 'off'),
    ('2025-06-02', 2025, 'off'),
    ('2025-09-28', 2025, 'work'),
    ('2025-10-01', 2025, 'off'),
    ('2025-10-02', 2025, 'off'),
    ('2025-10-03', 2025, 'off'),
    ('2025-10-04', 2025, 'off'),
    ('2025-10-05', 2025, 'off'),
    ('2025-10-06', 2025, 'off'),
    ('2025-10-07', 2025, 'off'),
    ('2025-10-08', 2025, 'off'),
    ('2025-10-11', 2025, 'work'),
    ('2026-01-01', 2026, 'off'),
    ('2026-01-02', 2026, 'off'),
    ('2026-01-03', 2026, 'off'),
    ('2026-01-04', 2026, 'work'),
    ('2026-02-14', 2026, 'work'),
    ('2026-02-15', 2026, 'off'),
    ('2026-02-16', 2026, 'off'),
    ('2026-02-17', 2026, 'off'),
    ('2026-02-18', 2026, 'off'),
    ('2026-02-19', 2026, 'off'),
    ('2026-02-20', 2026, 'off'),
    ('2026-02-21', 2026, 'off'),
    ('2026-02-22', 2026, 'off'),
    ('2026-02-23', 2026, 'off'),
    ('2026-02-28', 2026, 'work'),
    ('2026-04-04', 2026, 'off'),
    ('2026-04-05', 2026, 'off'),
    ('2026-04-06', 2026, 'off'),
    ('2026-05-01', 2026, 'off'),
    ('2026-05-02', 2026, 'off'),
    ('2026-05-03', 2026, 'off'),
    ('2026-05-04', 2026, 'off'),
    ('2026-05-05', 2026, 'off'),
    ('2026-05-09', 2026, 'work'),
    ('2026-06-19', 2026, 'off'),
    ('2026-06-20', 2026, 'off'),
    ('2026-06-21', 2026, 'off'),
    ('2026-09-20', 2026, 'work'),
    ('2026-09-25', 2026, 'off'),
    ('2026-09-26', 2026, 'off'),
    ('2026-09-27', 2026, 'off'),
    ('2026-10-01', 2026, 'off'),
    ('2026-10-02', 2026, 'off'),
    ('2026-10-03', 2026, 'off'),
    ('2026-10-04', 2026, 'off'),
    ('2026-10-05', 2026, 'off'),
    ('2026-10-06', 2026, 'off'),
    ('2026-10-07', 2026, 'off'),
    ('2026-10-10', 2026, 'work');

-- closedloop core schema (PostgreSQL). Ids are TEXT (UUIDv7) and times are UTC `timestamp`
-- so that one diesel schema serves both backends.
CREATE TABLE departments (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    head_email  TEXT,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    password_hash   TEXT,
    role            TEXT NOT NULL CHECK (role IN ('operator', 'department', 'supervisor', 'admin')),
    department_code TEXT REFERENCES departments (code),
    email           TEXT,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TIMESTAMP NOT NULL,
    CHECK (role <> 'department' OR department_code IS NOT NULL)
);

CREATE TABLE tickets (
    id                TEXT PRIMARY KEY,
    number            TEXT NOT NULL UNIQUE,
    state             TEXT NOT NULL,
    outcome           TEXT,
    channel           TEXT NOT NULL,
    category          TEXT NOT NULL,
    urgency           TEXT NOT NULL,
    enterprise_name   TEXT NOT NULL,
    credit_code       TEXT NOT NULL,
    contact_name      TEXT NOT NULL,
    contact_phone     TEXT NOT NULL,
    subject           TEXT NOT NULL,
    description       TEXT NOT NULL,
    lead_department   TEXT REFERENCES departments (code),
    pending_extension TEXT,
    merged_into       TEXT REFERENCES tickets (id),
    reopen_count      INTEGER NOT NULL DEFAULT 0,
    version           BIGINT NOT NULL,
    created_by        TEXT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    CHECK ((state = 'archived') = (outcome IS NOT NULL))
);
CREATE INDEX tickets_lead_department_idx ON tickets (lead_department, id);
CREATE INDEX tickets_state_idx ON tickets (state, id);
CREATE INDEX tickets_created_at_idx ON tickets (created_at);

-- Co-handling departments (协办) of a ticket; the lead (主办) is tickets.lead_department.
CREATE TABLE ticket_departments (
    ticket_id       TEXT NOT NULL REFERENCES tickets (id),
    department_code TEXT NOT NULL REFERENCES departments (code),
    PRIMARY KEY (ticket_id, department_code)
);
CREATE INDEX ticket_departments_department_idx ON ticket_departments (department_code, ticket_id);

-- The append-only timeline. `seq` is the ticket version the event produced, so a ticket
-- can never hold two events for one change.
CREATE TABLE ticket_events (
    id               TEXT PRIMARY KEY,
    ticket_id        TEXT NOT NULL REFERENCES tickets (id),
    seq              BIGINT NOT NULL,
    action           TEXT NOT NULL,
    actor_kind       TEXT NOT NULL,
    actor_username   TEXT,
    actor_role       TEXT,
    actor_department TEXT,
    from_state       TEXT,
    to_state         TEXT NOT NULL,
    level            INTEGER,
    payload          TEXT NOT NULL,
    at               TIMESTAMP NOT NULL,
    UNIQUE (ticket_id, seq)
);

CREATE FUNCTION closedloop_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ticket_events_append_only BEFORE UPDATE OR DELETE ON ticket_events
    FOR EACH ROW EXECUTE FUNCTION closedloop_refuse_change('ticket_events is append-only');
CREATE TRIGGER tickets_archived_read_only BEFORE UPDATE ON tickets
    FOR EACH ROW WHEN (OLD.state = 'archived')
    EXECUTE FUNCTION closedloop_refuse_change('an archived ticket never changes');

-- Human ticket numbers, one counter per year.
CREATE TABLE ticket_counters (
    year       INTEGER PRIMARY KEY,
    last_value BIGINT NOT NULL
);

CREATE TABLE idempotency_keys (
    username        TEXT NOT NULL,
    key             TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_body   TEXT NOT NULL,
    ticket_id       TEXT REFERENCES tickets (id),
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (username, key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

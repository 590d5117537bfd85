-- KPIs (DESIGN.md, "Wave 2 contract"): running sums of what each change counts for, per local
-- day, unit (a department's code, '' for the hotline), category and channel. A change appends
-- its counts to kpi_deltas in its own transaction (no row two writers wait on); the scheduler
-- folds them into kpi_counts. A report sums both.

-- What a ticket's history says, kept on it for the sums: whose `received` it is, and its first reply.
ALTER TABLE tickets ADD COLUMN first_department TEXT;
ALTER TABLE tickets ADD COLUMN replied_at TIMESTAMP;
ALTER TABLE tickets ADD COLUMN replied_by TEXT;
-- Who answers for a stage: a department, or the hotline (NULL).
ALTER TABLE timers ADD COLUMN department TEXT;

-- An archived ticket's case never changes; what the KPIs keep of its history (first department,
-- first reply) may be counted again from its timeline (`closedloop kpi rebuild`).
DROP TRIGGER tickets_archived_read_only ON tickets;
CREATE TRIGGER tickets_archived_read_only BEFORE UPDATE ON tickets
    FOR EACH ROW WHEN (OLD.state = 'archived' AND (
        NEW.id, NEW.number, NEW.state, NEW.outcome, NEW.channel, NEW.category, NEW.urgency,
        NEW.enterprise_name, NEW.credit_code, NEW.contact_name, NEW.contact_phone, NEW.subject,
        NEW.description, NEW.lead_department, NEW.pending_extension, NEW.merged_into,
        NEW.reopen_count, NEW.version, NEW.created_by, NEW.created_at, NEW.updated_at,
        NEW.due_at, NEW.escalation_level
    ) IS DISTINCT FROM (
        OLD.id, OLD.number, OLD.state, OLD.outcome, OLD.channel, OLD.category, OLD.urgency,
        OLD.enterprise_name, OLD.credit_code, OLD.contact_name, OLD.contact_phone, OLD.subject,
        OLD.description, OLD.lead_department, OLD.pending_extension, OLD.merged_into,
        OLD.reopen_count, OLD.version, OLD.created_by, OLD.created_at, OLD.updated_at,
        OLD.due_at, OLD.escalation_level
    ))
    EXECUTE FUNCTION closedloop_refuse_change('an archived ticket never changes');

CREATE TABLE kpi_counts (
    day                  TEXT NOT NULL,
    unit                 TEXT NOT NULL,
    category             TEXT NOT NULL,
    channel              TEXT NOT NULL,
    received             BIGINT NOT NULL DEFAULT 0,
    cases                BIGINT NOT NULL DEFAULT 0,
    replied              BIGINT NOT NULL DEFAULT 0,
    replied_3m           BIGINT NOT NULL DEFAULT 0,
    sign_ended           BIGINT NOT NULL DEFAULT 0,
    sign_met             BIGINT NOT NULL DEFAULT 0,
    handle_due           BIGINT NOT NULL DEFAULT 0,
    handle_ended         BIGINT NOT NULL DEFAULT 0,
    handle_met           BIGINT NOT NULL DEFAULT 0,
    interim_due          BIGINT NOT NULL DEFAULT 0,
    interim_ended        BIGINT NOT NULL DEFAULT 0,
    interim_met          BIGINT NOT NULL DEFAULT 0,
    feedback             BIGINT NOT NULL DEFAULT 0,
    satisfied            BIGINT NOT NULL DEFAULT 0,
    dissatisfied         BIGINT NOT NULL DEFAULT 0,
    returns              BIGINT NOT NULL DEFAULT 0,
    dispatched           BIGINT NOT NULL DEFAULT 0,
    supervised           BIGINT NOT NULL DEFAULT 0,
    supervised_automatic BIGINT NOT NULL DEFAULT 0,
    extensions           BIGINT NOT NULL DEFAULT 0,
    extensions_approved  BIGINT NOT NULL DEFAULT 0,
    extensions_denied    BIGINT NOT NULL DEFAULT 0,
    handled              BIGINT NOT NULL DEFAULT 0,
    handling_minutes     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, unit, category, channel)
);

-- Appended to, folded away: no key to keep up (the fold takes rows by their place, rowid or ctid).
CREATE TABLE kpi_deltas (
    day                  TEXT NOT NULL,
    unit                 TEXT NOT NULL,
    category             TEXT NOT NULL,
    channel              TEXT NOT NULL,
    received             BIGINT NOT NULL DEFAULT 0,
    cases                BIGINT NOT NULL DEFAULT 0,
    replied              BIGINT NOT NULL DEFAULT 0,
    replied_3m           BIGINT NOT NULL DEFAULT 0,
    sign_ended           BIGINT NOT NULL DEFAULT 0,
    sign_met             BIGINT NOT NULL DEFAULT 0,
    handle_due           BIGINT NOT NULL DEFAULT 0,
    handle_ended         BIGINT NOT NULL DEFAULT 0,
    handle_met           BIGINT NOT NULL DEFAULT 0,
    interim_due          BIGINT NOT NULL DEFAULT 0,
    interim_ended        BIGINT NOT NULL DEFAULT 0,
    interim_met          BIGINT NOT NULL DEFAULT 0,
    feedback             BIGINT NOT NULL DEFAULT 0,
    satisfied            BIGINT NOT NULL DEFAULT 0,
    dissatisfied         BIGINT NOT NULL DEFAULT 0,
    returns              BIGINT NOT NULL DEFAULT 0,
    dispatched           BIGINT NOT NULL DEFAULT 0,
    supervised           BIGINT NOT NULL DEFAULT 0,
    supervised_automatic BIGINT NOT NULL DEFAULT 0,
    extensions           BIGINT NOT NULL DEFAULT 0,
    extensions_approved  BIGINT NOT NULL DEFAULT 0,
    extensions_denied    BIGINT NOT NULL DEFAULT 0,
    handled              BIGINT NOT NULL DEFAULT 0,
    handling_minutes     BIGINT NOT NULL DEFAULT 0
);

-- When the sums were last counted again from the timeline. A database with tickets from before
-- this migration has no row yet: the service counts them at start (`closedloop kpi rebuild`).
CREATE TABLE kpi_rebuilds (
    name     TEXT PRIMARY KEY,
    built_at TIMESTAMP NOT NULL
);
INSERT INTO kpi_rebuilds (name, built_at) SELECT 'kpi', CURRENT_TIMESTAMP WHERE NOT EXISTS (SELECT 1 FROM tickets);

-- `overdue_open` at a moment: timers running then (still running, or ended after it) past due;
-- the running ones counted from the index alone.
CREATE INDEX timers_running_due_idx ON timers (due_at, started_at, department, ticket_id) WHERE ended_at IS NULL;
CREATE INDEX timers_ended_at_idx ON timers (ended_at);

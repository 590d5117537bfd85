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
DROP TRIGGER tickets_archived_read_only;
CREATE TRIGGER tickets_archived_read_only BEFORE UPDATE ON tickets
WHEN OLD.state = 'archived' AND (
    NEW.id IS NOT OLD.id OR NEW.number IS NOT OLD.number OR NEW.state IS NOT OLD.state OR
    NEW.outcome IS NOT OLD.outcome OR NEW.channel IS NOT OLD.channel OR
    NEW.category IS NOT OLD.category OR NEW.urgency IS NOT OLD.urgency OR
    NEW.enterprise_name IS NOT OLD.enterprise_name OR NEW.credit_code IS NOT OLD.credit_code OR
    NEW.contact_name IS NOT OLD.contact_name OR NEW.contact_phone IS NOT OLD.contact_phone OR
    NEW.subject IS NOT OLD.subject OR NEW.description IS NOT OLD.description OR
    NEW.lead_department IS NOT OLD.lead_department OR
    NEW.pending_extension IS NOT OLD.pending_extension OR
    NEW.merged_into IS NOT OLD.merged_into OR NEW.reopen_count IS NOT OLD.reopen_count OR
    NEW.version IS NOT OLD.version OR NEW.created_by IS NOT OLD.created_by OR
    NEW.created_at IS NOT OLD.created_at OR NEW.updated_at IS NOT OLD.updated_at OR
    NEW.due_at IS NOT OLD.due_at OR NEW.escalation_level IS NOT OLD.escalation_level)
BEGIN
    SELECT RAISE(ABORT, 'an archived ticket never changes');
END;

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

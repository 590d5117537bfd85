-- 一企一档: one record per credit code, written by every case that names it (the name as last
-- given; the earlier names are read from its cases by `tickets_credit_code_idx`).
CREATE TABLE enterprises (
    credit_code   TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP NOT NULL,
    ticket_count  BIGINT NOT NULL
);
INSERT INTO enterprises (credit_code, name, first_seen_at, last_seen_at, ticket_count)
SELECT credit_code,
       (SELECT t2.enterprise_name FROM tickets t2 WHERE t2.credit_code = t.credit_code
        ORDER BY t2.created_at DESC, t2.id DESC LIMIT 1),
       min(created_at), max(created_at), count(*)
FROM tickets t GROUP BY credit_code;
CREATE INDEX enterprises_name_idx ON enterprises (lower(name));
CREATE INDEX tickets_credit_code_idx ON tickets (credit_code, id);

-- A repeat of an earlier case (重复件): chosen at intake, or cited by a `reject` for a repeat.
ALTER TABLE tickets ADD COLUMN duplicate_of TEXT;
-- It is part of the case: fixed once the case is archived.
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
    NEW.due_at IS NOT OLD.due_at OR NEW.escalation_level IS NOT OLD.escalation_level OR
    NEW.duplicate_of IS NOT OLD.duplicate_of)
BEGIN
    SELECT RAISE(ABORT, 'an archived ticket never changes');
END;
CREATE INDEX tickets_duplicate_of_idx ON tickets (duplicate_of) WHERE duplicate_of IS NOT NULL;

-- The search terms of a case's subject and description (`domain::terms`, character pairs),
-- space-separated; FTS5's unicode61 tokenizer splits them at the spaces only, so each term is
-- one FTS5 token. The ticket's id is kept, not its rowid (a VACUUM may renumber rowids).
CREATE VIRTUAL TABLE ticket_terms USING fts5(
    ticket_id UNINDEXED,
    terms, tokenize = 'unicode61'
);

-- Cases logged before this migration get their terms from the service at its next start.
CREATE TABLE index_backfills (
    name TEXT PRIMARY KEY
);
INSERT INTO index_backfills (name) SELECT 'ticket_terms' WHERE EXISTS (SELECT 1 FROM tickets);

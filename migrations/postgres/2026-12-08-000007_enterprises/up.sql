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
ALTER TABLE tickets ADD COLUMN duplicate_of TEXT REFERENCES tickets (id);
-- It is part of the case: fixed once the case is archived.
DROP TRIGGER tickets_archived_read_only ON tickets;
CREATE TRIGGER tickets_archived_read_only BEFORE UPDATE ON tickets
    FOR EACH ROW WHEN (OLD.state = 'archived' AND (
        NEW.id, NEW.number, NEW.state, NEW.outcome, NEW.channel, NEW.category, NEW.urgency,
        NEW.enterprise_name, NEW.credit_code, NEW.contact_name, NEW.contact_phone, NEW.subject,
        NEW.description, NEW.lead_department, NEW.pending_extension, NEW.merged_into,
        NEW.reopen_count, NEW.version, NEW.created_by, NEW.created_at, NEW.updated_at,
        NEW.due_at, NEW.escalation_level, NEW.duplicate_of
    ) IS DISTINCT FROM (
        OLD.id, OLD.number, OLD.state, OLD.outcome, OLD.channel, OLD.category, OLD.urgency,
        OLD.enterprise_name, OLD.credit_code, OLD.contact_name, OLD.contact_phone, OLD.subject,
        OLD.description, OLD.lead_department, OLD.pending_extension, OLD.merged_into,
        OLD.reopen_count, OLD.version, OLD.created_by, OLD.created_at, OLD.updated_at,
        OLD.due_at, OLD.escalation_level, OLD.duplicate_of
    ))
    EXECUTE FUNCTION closedloop_refuse_change('an archived ticket never changes');
CREATE INDEX tickets_duplicate_of_idx ON tickets (duplicate_of) WHERE duplicate_of IS NOT NULL;

-- The search terms of a case's subject and description (`domain::terms`, character pairs),
-- space-separated, and the same as a tsvector made without any text search parser or locale
-- (kept, so ranking reads it rather than making it again per row); matched through the GIN
-- index as a tsquery of the same terms.
CREATE TABLE ticket_terms (
    ticket_id TEXT PRIMARY KEY REFERENCES tickets (id),
    terms     TEXT NOT NULL,
    vector    tsvector GENERATED ALWAYS AS (array_to_tsvector(string_to_array(terms, ' '))) STORED
);
CREATE INDEX ticket_terms_idx ON ticket_terms USING GIN (vector);

-- Cases logged before this migration get their terms from the service at its next start.
CREATE TABLE index_backfills (
    name TEXT PRIMARY KEY
);
INSERT INTO index_backfills (name) SELECT 'ticket_terms' WHERE EXISTS (SELECT 1 FROM tickets);

DROP TABLE index_backfills;
DROP TABLE ticket_terms;
DROP INDEX tickets_duplicate_of_idx;
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
ALTER TABLE tickets DROP COLUMN duplicate_of;
DROP INDEX tickets_credit_code_idx;
DROP TABLE enterprises;

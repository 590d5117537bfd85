DROP TABLE index_backfills;
DROP TABLE ticket_terms;
DROP INDEX tickets_duplicate_of_idx;
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
ALTER TABLE tickets DROP COLUMN duplicate_of;
DROP INDEX tickets_credit_code_idx;
DROP TABLE enterprises;

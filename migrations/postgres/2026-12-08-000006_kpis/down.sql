DROP INDEX timers_ended_at_idx;
DROP INDEX timers_running_due_idx;
DROP TABLE kpi_rebuilds;
DROP TABLE kpi_deltas;
DROP TABLE kpi_counts;
DROP TRIGGER tickets_archived_read_only ON tickets;
CREATE TRIGGER tickets_archived_read_only BEFORE UPDATE ON tickets
    FOR EACH ROW WHEN (OLD.state = 'archived')
    EXECUTE FUNCTION closedloop_refuse_change('an archived ticket never changes');
ALTER TABLE timers DROP COLUMN department;
ALTER TABLE tickets DROP COLUMN replied_by;
ALTER TABLE tickets DROP COLUMN replied_at;
ALTER TABLE tickets DROP COLUMN first_department;

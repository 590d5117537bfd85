DROP INDEX timers_ended_at_idx;
DROP INDEX timers_running_due_idx;
DROP TABLE kpi_rebuilds;
DROP TABLE kpi_deltas;
DROP TABLE kpi_counts;
DROP TRIGGER tickets_archived_read_only;
CREATE TRIGGER tickets_archived_read_only BEFORE UPDATE ON tickets
WHEN OLD.state = 'archived'
BEGIN
    SELECT RAISE(ABORT, 'an archived ticket never changes');
END;
ALTER TABLE timers DROP COLUMN department;
ALTER TABLE tickets DROP COLUMN replied_by;
ALTER TABLE tickets DROP COLUMN replied_at;
ALTER TABLE tickets DROP COLUMN first_department;

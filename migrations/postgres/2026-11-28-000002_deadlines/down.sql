DROP TABLE leases;
DROP TABLE outbox;
DROP INDEX tickets_due_at_idx;
ALTER TABLE tickets DROP COLUMN escalation_level;
ALTER TABLE tickets DROP COLUMN due_at;
DROP TABLE timers;
DROP TABLE calendar_days;
DROP TABLE calendar_years;

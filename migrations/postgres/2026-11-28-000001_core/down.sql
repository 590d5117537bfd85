DROP TABLE idempotency_keys;
DROP TABLE ticket_counters;
DROP TABLE ticket_events;
DROP TABLE ticket_departments;
DROP TABLE tickets;
DROP FUNCTION closedloop_refuse_change CASCADE;
DROP TABLE users;
DROP TABLE departments;

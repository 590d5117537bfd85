DROP INDEX outbox_status_idx;
DROP INDEX outbox_message_id_idx;
DROP INDEX outbox_due_idx;
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status = 'pending';

-- The mailer: a row being sent is 'sending' until its lease (next_attempt_at) runs out, so a crash
-- mid-send makes it due again; one row per Message-ID, which also keeps one digest per day.
DROP INDEX outbox_due_idx;
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE UNIQUE INDEX outbox_message_id_idx ON outbox (message_id);
CREATE INDEX outbox_status_idx ON outbox (status, id);

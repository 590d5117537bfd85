-- The queues of a department (待签收, 办理中 …): its cases in one state, newest first, read from one
-- index range however the statistics stand.
CREATE INDEX tickets_lead_state_idx ON tickets (lead_department, state, id);

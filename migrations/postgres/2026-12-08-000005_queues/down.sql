DROP INDEX tickets_lead_state_idx;

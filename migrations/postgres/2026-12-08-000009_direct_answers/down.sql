ALTER TABLE kpi_deltas DROP COLUMN answered;
ALTER TABLE kpi_counts DROP COLUMN answered;

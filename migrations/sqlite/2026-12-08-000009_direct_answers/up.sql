-- 直办率: cases archived by `answer` (outcome `answered`), counted beside `received`.
ALTER TABLE kpi_counts ADD COLUMN answered BIGINT NOT NULL DEFAULT 0;
ALTER TABLE kpi_deltas ADD COLUMN answered BIGINT NOT NULL DEFAULT 0;

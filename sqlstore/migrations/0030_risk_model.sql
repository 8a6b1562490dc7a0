-- The dissolution-risk model fitted on the firm's own history (see
-- docs/risk.md): one row, 'current', holding the model as JSON, when it was
-- fitted, and its track record on periods held back from fitting, as JSON.
-- No row means the documented prior stands in.
CREATE TABLE risk_models (
	name         TEXT PRIMARY KEY,
	model        TEXT NOT NULL,
	fitted_at    BIGINT NOT NULL,
	track_record TEXT NOT NULL
);

-- Figures the model reads that customer measures did not keep: effort
-- answers over 90 days, purchases (moments with revenue) and ratings over
-- 365 days.
ALTER TABLE customer_measures ADD COLUMN efforts_90d BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customer_measures ADD COLUMN effort_90d DOUBLE PRECISION;
ALTER TABLE customer_measures ADD COLUMN purchases_365d BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customer_measures ADD COLUMN rated_365d BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customer_measures ADD COLUMN rating_365d DOUBLE PRECISION;
-- Existing figures lack them: measure everyone again at the next sweep.
UPDATE customer_measures SET due_at = 0;

-- The risk model also reads the 365-day rating of moments that were not
-- misery: how the customer rates the firm when nothing went wrong
-- (docs/risk.md). Existing figures lack it: measure everyone again at the
-- next sweep.
ALTER TABLE customer_measures ADD COLUMN rated_calm_365d BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customer_measures ADD COLUMN rating_calm_365d DOUBLE PRECISION;
UPDATE customer_measures SET due_at = 0;

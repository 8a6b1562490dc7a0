-- Relationships: the figures kept per customer (health, risk and the
-- measures segment rules read), how each customer's stage was set and what
-- the stage rules propose, the rules themselves, and segments.

-- One row per customer, kept current in the transaction that records their
-- moments or changes their holdings or stage, and by the periodic sweep for
-- what time alone changes: due_at is when the figures next change with
-- nothing happening (a moment leaving a window, a silence growing long).
-- Customers without a row have not been measured yet; the sweep adds them.
CREATE TABLE customer_measures (
	customer_id      TEXT PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
	health           INTEGER NOT NULL,
	risk             INTEGER NOT NULL,
	moments_30d      BIGINT NOT NULL DEFAULT 0,
	moments_90d      BIGINT NOT NULL DEFAULT 0,
	moments_365d     BIGINT NOT NULL DEFAULT 0,
	rated_90d        BIGINT NOT NULL DEFAULT 0,
	rating_90d       DOUBLE PRECISION,
	rated_prior_90d  BIGINT NOT NULL DEFAULT 0,
	rating_prior_90d DOUBLE PRECISION,
	magic_90d        BIGINT NOT NULL DEFAULT 0,
	misery_30d       BIGINT NOT NULL DEFAULT 0,
	misery_90d       BIGINT NOT NULL DEFAULT 0,
	holdings         BIGINT NOT NULL DEFAULT 0,
	revenue_365d     DOUBLE PRECISION NOT NULL DEFAULT 0,
	cost_365d        DOUBLE PRECISION NOT NULL DEFAULT 0,
	referrals        BIGINT NOT NULL DEFAULT 0,
	last_moment_at   BIGINT,
	computed_at      BIGINT NOT NULL,
	due_at           BIGINT NOT NULL,
	-- The explanations come last, so that a segment rule scanning the
	-- figures above never reads past them.
	health_factors   TEXT NOT NULL DEFAULT '[]',
	risk_factors     TEXT NOT NULL DEFAULT '[]',
	-- The misery moments of the last 90 days ([{"t": touchpoint, "at": time}]),
	-- so that a new moment updates risk without reading the others again.
	misery_recent    TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX customer_measures_due ON customer_measures (due_at);
CREATE INDEX customer_measures_risk ON customer_measures (risk);

-- Running totals of each customer's moments per UTC day, kept in the
-- transaction that records them (as moment_stats is per touchpoint), so that
-- the outcomes of a segment over a year read a customer-day per row rather
-- than every moment. day is floor(occurred_at / 86400000000).
CREATE TABLE customer_day_stats (
	customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	day         BIGINT NOT NULL,
	moments     BIGINT NOT NULL DEFAULT 0,
	rated       BIGINT NOT NULL DEFAULT 0,
	rating_sum  DOUBLE PRECISION NOT NULL DEFAULT 0,
	magic       BIGINT NOT NULL DEFAULT 0,
	misery      BIGINT NOT NULL DEFAULT 0,
	purchases   BIGINT NOT NULL DEFAULT 0,
	revenue     DOUBLE PRECISION NOT NULL DEFAULT 0,
	cost        DOUBLE PRECISION NOT NULL DEFAULT 0,
	PRIMARY KEY (customer_id, day)
);
-- Every column, in customer order: reports sum a window per customer by
-- reading this index from end to end, in order, never the table.
CREATE INDEX customer_day_stats_all ON customer_day_stats (customer_id, day, moments, rated, rating_sum, magic, misery,
	purchases, revenue, cost);
-- The days each customer bought something, for repeat purchases.
CREATE INDEX customer_day_stats_purchases ON customer_day_stats (customer_id, day, purchases) WHERE purchases > 0;

-- Fill from the moments recorded before this migration.
INSERT INTO customer_day_stats (customer_id, day, moments, rated, rating_sum, magic, misery, purchases, revenue, cost)
SELECT customer_id, occurred_at / 86400000000, COUNT(*), COUNT(rating), COALESCE(SUM(rating), 0),
	SUM(CASE WHEN outcome = 'magic' THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'misery' THEN 1 ELSE 0 END),
	SUM(CASE WHEN revenue > 0 THEN 1 ELSE 0 END), SUM(revenue), SUM(cost)
FROM moments
GROUP BY customer_id, occurred_at / 86400000000;

-- How each customer's current stage was set, and the stage the rules
-- propose instead. manual is 1 when a person set the stage: inference then
-- only proposes. A customer without a row has a stage set at creation or by
-- inference, and no proposal.
CREATE TABLE customer_stages (
	customer_id                 TEXT PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
	manual                      INTEGER NOT NULL DEFAULT 0,
	set_by                      TEXT NOT NULL DEFAULT '',
	set_at                      BIGINT NOT NULL,
	proposed_stage              TEXT NOT NULL DEFAULT '',
	proposed_reason             TEXT NOT NULL DEFAULT '',
	proposed_dissolution_reason TEXT NOT NULL DEFAULT '',
	proposed_at                 BIGINT
);

-- The stage rules as the firm configured them (a JSON document); without a
-- row the defaults apply. Kept in the database so every server agrees.
CREATE TABLE stage_rules (
	name       TEXT PRIMARY KEY,
	rules      TEXT NOT NULL,
	updated_at BIGINT NOT NULL,
	updated_by TEXT NOT NULL DEFAULT ''
);

CREATE TABLE segments (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	rule       TEXT NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

-- Who dissolved (for retention and outcomes) and who holds a product (for
-- cross-sell). Customers get no index by stage: a stage holds a large share
-- of them, and a scan reads them faster than the index would.
CREATE INDEX stage_changes_to ON stage_changes (to_stage, customer_id);
CREATE INDEX holdings_product ON holdings (product, customer_id);

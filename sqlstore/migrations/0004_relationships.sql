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
	risk_factors     TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX customer_measures_due ON customer_measures (due_at);
CREATE INDEX customer_measures_risk ON customer_measures (risk);

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

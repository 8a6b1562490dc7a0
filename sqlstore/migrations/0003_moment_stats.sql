-- Running totals of moments per touchpoint, UTC day, channel and response,
-- kept current in the same transaction that records each moment, so that
-- reports over a year read a few thousand rows rather than millions of moments.
-- day is floor(occurred_at / 86400000000): days since 1970-01-01 UTC.
CREATE TABLE moment_stats (
	touchpoint  TEXT NOT NULL,
	day         BIGINT NOT NULL,
	channel     TEXT NOT NULL,
	response    TEXT NOT NULL DEFAULT '',
	moments     BIGINT NOT NULL DEFAULT 0,
	magic       BIGINT NOT NULL DEFAULT 0,
	neutral     BIGINT NOT NULL DEFAULT 0,
	misery      BIGINT NOT NULL DEFAULT 0,
	rated       BIGINT NOT NULL DEFAULT 0,
	rating_sum  DOUBLE PRECISION NOT NULL DEFAULT 0,
	rating_sq   DOUBLE PRECISION NOT NULL DEFAULT 0,
	efforts     BIGINT NOT NULL DEFAULT 0,
	effort_sum  DOUBLE PRECISION NOT NULL DEFAULT 0,
	nps_answers BIGINT NOT NULL DEFAULT 0,
	promoters   BIGINT NOT NULL DEFAULT 0,
	detractors  BIGINT NOT NULL DEFAULT 0,
	revenue     DOUBLE PRECISION NOT NULL DEFAULT 0,
	cost        DOUBLE PRECISION NOT NULL DEFAULT 0,
	PRIMARY KEY (touchpoint, day, channel, response)
);

-- Fill from the moments recorded before this migration.
INSERT INTO moment_stats (touchpoint, day, channel, response, moments, magic, neutral, misery,
	rated, rating_sum, rating_sq, efforts, effort_sum, nps_answers, promoters, detractors, revenue, cost)
SELECT touchpoint, occurred_at / 86400000000, channel, COALESCE(response, ''), COUNT(*),
	SUM(CASE WHEN outcome = 'magic' THEN 1 ELSE 0 END),
	SUM(CASE WHEN outcome = 'neutral' THEN 1 ELSE 0 END),
	SUM(CASE WHEN outcome = 'misery' THEN 1 ELSE 0 END),
	COUNT(rating), COALESCE(SUM(rating), 0), COALESCE(SUM(rating * rating), 0),
	COUNT(effort), COALESCE(SUM(effort), 0),
	COUNT(nps), SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END), SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END),
	SUM(revenue), SUM(cost)
FROM moments
GROUP BY touchpoint, occurred_at / 86400000000, channel, COALESCE(response, '');

-- Moments by the response they used, for comparing responses and watching standards.
CREATE INDEX moments_response ON moments (touchpoint, response, occurred_at);

-- A response promoted to be the way its touchpoint is handled, with the
-- satisfaction it had when promoted. ended_at is set when another replaces it.
CREATE TABLE standards (
	id                 TEXT PRIMARY KEY,
	touchpoint         TEXT NOT NULL REFERENCES touchpoints (key),
	response           TEXT NOT NULL,
	since              BIGINT NOT NULL,
	ended_at           BIGINT,
	baseline_moments   BIGINT NOT NULL,
	baseline_magic     BIGINT NOT NULL,
	baseline_rated     BIGINT NOT NULL,
	baseline_rating_sum DOUBLE PRECISION NOT NULL,
	promoted_by        TEXT NOT NULL DEFAULT '',
	FOREIGN KEY (touchpoint, response) REFERENCES responses (touchpoint, key)
);
CREATE INDEX standards_touchpoint ON standards (touchpoint, since);

-- Alerts are raised once: dedupe_key names the condition and its period.
CREATE TABLE alerts (
	id              TEXT PRIMARY KEY,
	kind            TEXT NOT NULL,
	touchpoint      TEXT NOT NULL REFERENCES touchpoints (key),
	dedupe_key      TEXT NOT NULL UNIQUE,
	message         TEXT NOT NULL,
	details         TEXT NOT NULL DEFAULT '{}',
	raised_at       BIGINT NOT NULL,
	acknowledged_at BIGINT,
	acknowledged_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alerts_raised ON alerts (raised_at);

-- Measured impact per touchpoint, refreshed periodically because it joins
-- every customer's moments with what they did in the following 90 days.
CREATE TABLE touchpoint_impact (
	touchpoint       TEXT PRIMARY KEY REFERENCES touchpoints (key),
	window_from      BIGINT NOT NULL,
	window_to        BIGINT NOT NULL,
	exposed          BIGINT NOT NULL,
	exposed_events   BIGINT NOT NULL,
	unexposed        BIGINT NOT NULL,
	unexposed_events BIGINT NOT NULL,
	computed_at      BIGINT NOT NULL
);

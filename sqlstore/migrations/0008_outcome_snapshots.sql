-- Outcomes as last measured, per population and window, so that opening a
-- report over a million customers reads one row rather than every
-- customer's year; the periodic sweep measures the default windows again
-- and a reader may ask for a fresh measurement at any time.
CREATE TABLE outcome_snapshots (
	key         TEXT PRIMARY KEY,
	measured_at BIGINT NOT NULL,
	body        TEXT NOT NULL
);
CREATE INDEX outcome_snapshots_measured ON outcome_snapshots (measured_at);

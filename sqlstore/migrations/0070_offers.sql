-- Offers: something given to a segment's members, with a share held out at
-- random when the offer starts (seeded, so the draw can be checked), and
-- each member's arm, so that what followed can be compared fairly. The
-- segment's name and rule are kept as they stood at the start.
CREATE TABLE offers (
	id            TEXT PRIMARY KEY,
	name          TEXT NOT NULL,
	kind          TEXT NOT NULL,
	description   TEXT NOT NULL DEFAULT '',
	cost          DOUBLE PRECISION NOT NULL DEFAULT 0,
	touchpoint    TEXT NOT NULL REFERENCES touchpoints (key),
	segment_id    TEXT NOT NULL,
	segment_name  TEXT NOT NULL,
	segment_rule  TEXT NOT NULL,
	starts_at     BIGINT NOT NULL,
	ends_at       BIGINT NOT NULL,
	holdout_share DOUBLE PRECISION NOT NULL,
	seed          BIGINT NOT NULL,
	created_by    TEXT NOT NULL DEFAULT '',
	created_at    BIGINT NOT NULL
);

-- Each member of the offer's segment at its start, and their arm: offered
-- or holdout. A customer deleted leaves both.
CREATE TABLE offer_assignments (
	offer_id    TEXT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
	customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	arm         TEXT NOT NULL,
	PRIMARY KEY (offer_id, customer_id)
);
CREATE INDEX offer_assignments_arm ON offer_assignments (offer_id, arm, customer_id);
CREATE INDEX offer_assignments_customer ON offer_assignments (customer_id);

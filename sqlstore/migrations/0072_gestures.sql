-- Gesture rules: a milestone to watch for (a customer's anniversary, their
-- tenth magic moment) over a period, the gesture to suggest, and the share
-- of customers reaching it held out at random (seeded), so that what
-- followed the gestures can be measured. evaluated_until is how far the
-- sweep has looked for milestones.
CREATE TABLE gesture_rules (
	id              TEXT PRIMARY KEY,
	name            TEXT NOT NULL,
	description     TEXT NOT NULL DEFAULT '',
	milestone       TEXT NOT NULL,
	milestone_count INTEGER NOT NULL DEFAULT 0,
	product         TEXT NOT NULL DEFAULT '',
	kind            TEXT NOT NULL,
	cost            DOUBLE PRECISION NOT NULL DEFAULT 0,
	touchpoint      TEXT NOT NULL REFERENCES touchpoints (key),
	starts_at       BIGINT NOT NULL,
	ends_at         BIGINT NOT NULL,
	holdout_share   DOUBLE PRECISION NOT NULL,
	seed            BIGINT NOT NULL,
	evaluated_until BIGINT NOT NULL,
	created_by      TEXT NOT NULL DEFAULT '',
	created_at      BIGINT NOT NULL
);

-- Each milestone a rule found, and its arm: chosen gestures are on the
-- owner's list until the gesture's moment is recorded. A customer deleted
-- leaves them.
CREATE TABLE gestures (
	id           TEXT PRIMARY KEY,
	rule_id      TEXT NOT NULL REFERENCES gesture_rules (id) ON DELETE CASCADE,
	customer_id  TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	milestone_at BIGINT NOT NULL,
	milestone    TEXT NOT NULL,
	arm          TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	UNIQUE (rule_id, customer_id, milestone_at)
);
CREATE INDEX gestures_rule ON gestures (rule_id, arm, customer_id);
CREATE INDEX gestures_customer ON gestures (customer_id, milestone_at);
CREATE INDEX gestures_milestone ON gestures (arm, milestone_at);

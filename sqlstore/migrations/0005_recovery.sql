-- Turning misery into magic: recovery cases with service levels and
-- escalation, survey links, and handovers of customers between owners.
-- Portable SQL, as in 0001: BIGINT microseconds (UTC), text ids.

-- How long staff have to recover a misery moment at each touchpoint.
ALTER TABLE touchpoints ADD COLUMN service_level_hours INTEGER NOT NULL DEFAULT 48;

-- The firm's recovery policy: one row, shared by every server.
CREATE TABLE recovery_policy (
	id               TEXT PRIMARY KEY,
	assign_to_owner  INTEGER NOT NULL,
	queue            TEXT NOT NULL,
	escalation_role  TEXT NOT NULL,
	open_within_days INTEGER NOT NULL,
	updated_at       BIGINT NOT NULL
);
INSERT INTO recovery_policy (id, assign_to_owner, queue, escalation_role, open_within_days, updated_at)
VALUES ('default', 1, 'recovery', 'manager', 30, 0);

-- One case per misery moment: the unique moment_id is what makes a case
-- open once however often the moment is sent or answered.
CREATE TABLE recovery_cases (
	id             TEXT PRIMARY KEY,
	customer_id    TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	moment_id      TEXT NOT NULL UNIQUE REFERENCES moments (id) ON DELETE CASCADE,
	touchpoint     TEXT NOT NULL,
	status         TEXT NOT NULL,
	assignee_id    TEXT REFERENCES users (id) ON DELETE SET NULL,
	queue          TEXT NOT NULL DEFAULT '',
	-- when the misery moment happened, for finding the customer's next moment
	moment_at      BIGINT NOT NULL,
	opened_at      BIGINT NOT NULL,
	due_at         BIGINT NOT NULL,
	escalated_at   BIGINT,
	escalated_to   TEXT REFERENCES users (id) ON DELETE SET NULL,
	escalated_role TEXT NOT NULL DEFAULT '',
	resolved_at    BIGINT,
	resolved_by    TEXT NOT NULL DEFAULT '',
	resolution     TEXT NOT NULL DEFAULT '',
	updated_at     BIGINT NOT NULL
);
CREATE INDEX recovery_cases_customer ON recovery_cases (customer_id, opened_at);
CREATE INDEX recovery_cases_due ON recovery_cases (status, due_at);
CREATE INDEX recovery_cases_assignee ON recovery_cases (assignee_id, status, due_at);
CREATE INDEX recovery_cases_opened ON recovery_cases (opened_at);

-- What was done on each case, in order.
CREATE TABLE case_actions (
	id       TEXT PRIMARY KEY,
	case_id  TEXT NOT NULL REFERENCES recovery_cases (id) ON DELETE CASCADE,
	-- the action's place in the case's history: several share a time when
	-- one update assigns, notes and resolves
	seq      INTEGER NOT NULL,
	kind     TEXT NOT NULL,
	text     TEXT NOT NULL DEFAULT '',
	actor    TEXT NOT NULL DEFAULT '',
	acted_at BIGINT NOT NULL
);
CREATE INDEX case_actions_case ON case_actions (case_id, seq);

-- One-time survey links. Only the SHA-256 of the token is kept; the answer
-- is kept on the link as well as landing on the moment.
CREATE TABLE survey_links (
	id          TEXT PRIMARY KEY,
	moment_id   TEXT NOT NULL REFERENCES moments (id) ON DELETE CASCADE,
	customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	token_hash  TEXT NOT NULL UNIQUE,
	created_by  TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	expires_at  BIGINT NOT NULL,
	answered_at BIGINT,
	rating      INTEGER,
	effort      INTEGER,
	nps         INTEGER,
	comment     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX survey_links_moment ON survey_links (moment_id);
CREATE INDEX survey_links_customer ON survey_links (customer_id, answered_at);

-- Every change of a customer's owner.
CREATE TABLE handovers (
	id          TEXT PRIMARY KEY,
	customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	from_owner  TEXT REFERENCES users (id) ON DELETE SET NULL,
	to_owner    TEXT REFERENCES users (id) ON DELETE SET NULL,
	handed_by   TEXT NOT NULL DEFAULT '',
	handed_at   BIGINT NOT NULL
);
CREATE INDEX handovers_customer ON handovers (customer_id, handed_at);

-- Promises by due time, for the sweep that breaks overdue ones.
CREATE INDEX promises_due ON promises (status, due_at);

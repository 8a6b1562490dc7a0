-- The recovery report read, for every case of its window, the customer's
-- next moment, a dissolution and a purchase in the follow-up days: three
-- searches of the history per case, 0.4 s at a million moments and 4.9 s at
-- ten million. Each case now keeps what its customer did after its misery
-- moment, brought up to date as moments, stage changes and resolutions
-- arrive (sqlstore/casefacts.go), and the resolved cases are counted by the
-- day they opened, so that the report reads a row per day and kind of case
-- rather than the cases.
--
-- next_*: the customer's next moment once the case is resolved (NULL while
-- open, or until there is one): their earliest moment that happened no
-- earlier than the misery moment and was recorded once the case was resolved.
ALTER TABLE recovery_cases ADD COLUMN next_moment_id TEXT;
ALTER TABLE recovery_cases ADD COLUMN next_occurred_at BIGINT;
ALTER TABLE recovery_cases ADD COLUMN next_outcome TEXT;
-- 1 when the customer dissolved (a stage change to dissolution), or bought
-- (a moment at the purchase touchpoint), within 90 days after the misery moment
ALTER TABLE recovery_cases ADD COLUMN dissolved INTEGER NOT NULL DEFAULT 0;
ALTER TABLE recovery_cases ADD COLUMN repurchased INTEGER NOT NULL DEFAULT 0;
-- A customer's purchases, for whether they bought again after a misery
-- moment: without it, working out a new case read every moment of the
-- customer's following 90 days. Only purchases are kept in it, so it costs
-- other moments nothing.
CREATE INDEX moments_purchases ON moments (customer_id, occurred_at, id) WHERE touchpoint = 'purchase';
-- A purchase looks for its customer's cases not yet followed by one; a
-- customer whose cases are never resolved gathers thousands, and reading
-- them all made each batch of moments slower.
CREATE INDEX recovery_cases_unbought ON recovery_cases (customer_id, moment_at) WHERE repurchased = 0;
-- The report counts the open cases of its window as they stand when it is
-- asked (whether each is overdue depends on when), from this index alone:
-- at ten million moments, 5,106 open cases took 12.5 ms read from the table.
CREATE INDEX recovery_cases_status_opened ON recovery_cases (status, opened_at, due_at, escalated_at, dissolved, repurchased);

-- Resolved cases by the day they opened (microseconds since the epoch
-- divided by a day's) and by what the report asks of them.
CREATE TABLE recovery_case_days (
	day          BIGINT NOT NULL,
	in_time      INTEGER NOT NULL,
	escalated    INTEGER NOT NULL,
	next_outcome TEXT NOT NULL,
	dissolved    INTEGER NOT NULL,
	repurchased  INTEGER NOT NULL,
	cases        BIGINT NOT NULL,
	PRIMARY KEY (day, in_time, escalated, next_outcome, dissolved, repurchased)
);

-- The cases already kept, worked out once as the report used to.
UPDATE recovery_cases SET (next_moment_id, next_occurred_at, next_outcome) = (SELECT m.id, m.occurred_at, m.outcome
	FROM moments m WHERE m.customer_id = recovery_cases.customer_id AND m.id <> recovery_cases.moment_id
	AND m.occurred_at >= recovery_cases.moment_at AND m.recorded_at >= recovery_cases.resolved_at
	ORDER BY m.occurred_at, m.id LIMIT 1)
WHERE resolved_at IS NOT NULL;
UPDATE recovery_cases SET
	dissolved = CASE WHEN EXISTS (SELECT 1 FROM stage_changes s WHERE s.customer_id = recovery_cases.customer_id
		AND s.to_stage = 'dissolution' AND s.changed_at > recovery_cases.moment_at
		AND s.changed_at <= recovery_cases.moment_at + 7776000000000) THEN 1 ELSE 0 END,
	repurchased = CASE WHEN EXISTS (SELECT 1 FROM moments p WHERE p.customer_id = recovery_cases.customer_id
		AND p.touchpoint = 'purchase' AND p.id <> recovery_cases.moment_id AND p.occurred_at > recovery_cases.moment_at
		AND p.occurred_at <= recovery_cases.moment_at + 7776000000000) THEN 1 ELSE 0 END;
INSERT INTO recovery_case_days (day, in_time, escalated, next_outcome, dissolved, repurchased, cases)
SELECT opened_at / 86400000000,
	CASE WHEN resolved_at IS NOT NULL AND resolved_at <= due_at THEN 1 ELSE 0 END,
	CASE WHEN escalated_at IS NOT NULL THEN 1 ELSE 0 END,
	COALESCE(next_outcome, ''), dissolved, repurchased, COUNT(*)
FROM recovery_cases WHERE status <> 'open'
GROUP BY opened_at / 86400000000, CASE WHEN resolved_at IS NOT NULL AND resolved_at <= due_at THEN 1 ELSE 0 END,
	CASE WHEN escalated_at IS NOT NULL THEN 1 ELSE 0 END, COALESCE(next_outcome, ''), dissolved, repurchased;

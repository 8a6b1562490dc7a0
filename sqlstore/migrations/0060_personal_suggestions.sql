-- Personal suggestions: what each response involves, what each customer met
-- with each response, and what each group of customers met.

-- What a response involves (phone_call, email, visit, paperwork, discount…),
-- as a JSON list of keys, so that it can be matched to a customer's likes and
-- dislikes.
ALTER TABLE responses ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';

-- Each customer's moments with each response, kept by the moment pipeline
-- in the transaction of every change, so a suggestion reads a few rows for
-- a customer however long their history.
CREATE TABLE customer_response_stats (
	customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	touchpoint  TEXT NOT NULL,
	response    TEXT NOT NULL,
	moments     BIGINT NOT NULL DEFAULT 0,
	magic       BIGINT NOT NULL DEFAULT 0,
	misery      BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (customer_id, touchpoint, response)
);
CREATE INDEX customer_response_stats_touchpoint ON customer_response_stats (touchpoint, response);

-- Each group of customers' moments with each response (grp '' is everyone;
-- 'like:…', 'dislike:…', 'stage:…', 'segment:…' are customers who share
-- that), counted afresh by the periodic sweep from customer_response_stats
-- and the customers as they are then.
CREATE TABLE response_group_stats (
	touchpoint  TEXT NOT NULL,
	grp         TEXT NOT NULL,
	response    TEXT NOT NULL,
	customers   BIGINT NOT NULL DEFAULT 0,
	moments     BIGINT NOT NULL DEFAULT 0,
	magic       BIGINT NOT NULL DEFAULT 0,
	misery      BIGINT NOT NULL DEFAULT 0,
	counted_at  BIGINT NOT NULL,
	PRIMARY KEY (touchpoint, grp, response)
);

-- Fill from the moments recorded before this migration.
INSERT INTO customer_response_stats (customer_id, touchpoint, response, moments, magic, misery)
SELECT customer_id, touchpoint, response, COUNT(*),
	SUM(CASE WHEN outcome = 'magic' THEN 1 ELSE 0 END),
	SUM(CASE WHEN outcome = 'misery' THEN 1 ELSE 0 END)
FROM moments WHERE response IS NOT NULL AND response <> ''
GROUP BY customer_id, touchpoint, response;

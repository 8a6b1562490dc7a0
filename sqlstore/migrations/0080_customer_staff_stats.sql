-- How many of each customer's moments each member of staff served, and when
-- last, kept in the transaction that records them: the brief names who
-- served a customer most by reading a few rows here, not the customer's
-- whole history.
CREATE TABLE customer_staff_stats (
	customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	staff_id    TEXT NOT NULL,
	moments     BIGINT NOT NULL DEFAULT 0,
	last_at     BIGINT NOT NULL,
	PRIMARY KEY (customer_id, staff_id)
);

-- Fill from the moments recorded before this migration.
INSERT INTO customer_staff_stats (customer_id, staff_id, moments, last_at)
SELECT customer_id, staff_id, COUNT(*), MAX(occurred_at) FROM moments
WHERE staff_id IS NOT NULL GROUP BY customer_id, staff_id;

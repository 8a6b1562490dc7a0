-- Segments and outcomes over a million customers.

-- customer_measures keeps a copy of the profile fields segment rules test
-- (stage, kind, owner, referrer, when they joined), kept in step wherever
-- those change, so that a rule without custom attributes is one scan of
-- this narrow table rather than a join of every customer with their figures.
ALTER TABLE customer_measures ADD COLUMN stage TEXT NOT NULL DEFAULT '';
ALTER TABLE customer_measures ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE customer_measures ADD COLUMN owner_id TEXT;
ALTER TABLE customer_measures ADD COLUMN referred_by TEXT;
ALTER TABLE customer_measures ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
UPDATE customer_measures SET stage = c.stage, kind = c.kind, owner_id = c.owner_id, referred_by = c.referred_by,
	created_at = c.created_at
FROM customers c WHERE c.id = customer_measures.customer_id;

-- Counting who had joined by a day reads an index rather than every
-- customer, and what each customer held at a day is read from one covering
-- index in customer order.
CREATE INDEX customers_created ON customers (created_at);
CREATE INDEX holdings_held ON holdings (customer_id, product, started_at, ended_at);
DROP INDEX holdings_customer;

-- Each segment's size as last counted (on saving, and by the periodic
-- sweep), so that the list of segments does not count them all again.
ALTER TABLE segments ADD COLUMN size BIGINT;
ALTER TABLE segments ADD COLUMN counted_at BIGINT;

-- A proposal someone dismissed: the rules do not propose that stage again
-- until they first conclude something else.
ALTER TABLE customer_stages ADD COLUMN dismissed_stage TEXT NOT NULL DEFAULT '';

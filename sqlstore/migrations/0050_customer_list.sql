-- The customer list filters by stage and owner and orders by name, risk,
-- health or the last moment, all read from the kept measures: an index for
-- each order, led by the filters people use most.
CREATE INDEX customers_name ON customers (lower(name));
CREATE INDEX customer_measures_health ON customer_measures (health);
CREATE INDEX customer_measures_last_moment ON customer_measures (last_moment_at);
CREATE INDEX customer_measures_stage_risk ON customer_measures (stage, risk);
CREATE INDEX customer_measures_owner_risk ON customer_measures (owner_id, risk);

-- Today's list reads each member of staff's own customers, cases and
-- handovers: the customers they own by figures, and the handovers to them.
CREATE INDEX customer_measures_owner ON customer_measures (owner_id, last_moment_at);
CREATE INDEX handovers_to ON handovers (to_owner, handed_at);

-- Scoring a customer reads their cases resolved in the last 90 days
-- (sqlstore/riskfacts.go). By when they opened, that read every case of the
-- customer's last 90 days, open ones too, and a customer with many open
-- cases made each of their moments slower to record; by when they were
-- resolved, it reads only the resolved ones.
CREATE INDEX recovery_cases_customer_resolved ON recovery_cases (customer_id, resolved_at);

-- Erasure: a customer's personal data removed on request, their moments
-- kept as anonymous counts. Portable SQL, as in 0001.

-- When the customer's personal data was erased; NULL while it is held.
ALTER TABLE customers ADD COLUMN erased_at BIGINT;

-- The customer an outbox delivery tells of ('' for none, as a ping), so that
-- erasing or deleting a customer removes the deliveries carrying their data
-- through an index. Deliveries written before this migration have NULL and
-- are found by their payload until the outbox prunes them.
ALTER TABLE webhook_deliveries ADD COLUMN customer_id TEXT;
UPDATE webhook_deliveries SET customer_id = '' WHERE payload NOT LIKE '%"customer_id":%';
CREATE INDEX webhook_deliveries_customer ON webhook_deliveries (customer_id);

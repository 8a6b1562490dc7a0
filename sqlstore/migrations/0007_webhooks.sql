-- Signed webhooks: the endpoints an admin registers, the event kinds each
-- wants, and an outbox of deliveries written in the same transaction as the
-- change each reports. Portable SQL, as in 0001: BIGINT microseconds (UTC),
-- text ids made by the application.

-- An endpoint Rapport posts events to. The secret is kept as given, not
-- hashed as token secrets are: every delivery is signed with it, so Rapport
-- needs it in clear. It is shown once, when the endpoint is created, and the
-- API never returns it again.
CREATE TABLE webhook_endpoints (
	id          TEXT PRIMARY KEY,
	url         TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	secret      TEXT NOT NULL,
	active      INTEGER NOT NULL,
	created_at  BIGINT NOT NULL,
	created_by  TEXT NOT NULL DEFAULT '',
	updated_at  BIGINT NOT NULL
);
-- Every transaction that may cause an event asks which active endpoints
-- want it; with none, that is one look at this index.
CREATE INDEX webhook_endpoints_active ON webhook_endpoints (active);

-- The event kinds each endpoint wants.
CREATE TABLE webhook_subscriptions (
	endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	kind        TEXT NOT NULL,
	PRIMARY KEY (endpoint_id, kind)
);

-- The outbox: one row per event per endpoint, with the body as it is sent.
CREATE TABLE webhook_deliveries (
	id              TEXT PRIMARY KEY,
	endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	kind            TEXT NOT NULL,
	payload         TEXT NOT NULL,
	-- pending, delivered or failed (given up)
	status          TEXT NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	-- While pending: when a worker may next try it. A worker claims a
	-- delivery by moving this past the time its attempt can take and setting
	-- lease, so that another server's worker passes it by; a worker that dies
	-- mid-attempt leaves it to be tried again once that time comes. Once
	-- finished: when it finished, so that one index finds both what is due
	-- and what is old enough to remove.
	next_attempt_at BIGINT NOT NULL,
	lease           TEXT NOT NULL DEFAULT '',
	last_attempt_at BIGINT,
	last_status     INTEGER,
	last_error      TEXT NOT NULL DEFAULT '',
	delivered_at    BIGINT,
	created_at      BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);

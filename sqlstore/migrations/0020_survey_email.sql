-- Survey invitations by email: a survey policy per touchpoint, the
-- invitations it made, the customers who asked for no more email, and an
-- outbox of emails written in the same transaction as the change that
-- causes each. Portable SQL, as in 0001.

-- When and whom a touchpoint's moments invite to a survey.
CREATE TABLE survey_policies (
	touchpoint     TEXT PRIMARY KEY REFERENCES touchpoints (key) ON DELETE CASCADE,
	enabled        INTEGER NOT NULL,
	-- comma-separated channels whose moments invite; '' for every channel
	channels       TEXT NOT NULL DEFAULT '',
	sample_percent INTEGER NOT NULL,
	delay_minutes  INTEGER NOT NULL,
	quiet_days     INTEGER NOT NULL,
	-- days after the invitation a reminder goes if unanswered; 0 for none
	reminder_days  INTEGER NOT NULL,
	-- the reasons a customer may give for a low score, one a line
	reasons        TEXT NOT NULL DEFAULT '',
	updated_at     BIGINT NOT NULL,
	updated_by     TEXT NOT NULL DEFAULT ''
);

-- One invitation per moment at most. send_at is when the invitation email
-- is due; the quiet period is counted between customers' send_at.
CREATE TABLE survey_invitations (
	id          TEXT PRIMARY KEY,
	moment_id   TEXT NOT NULL UNIQUE REFERENCES moments (id) ON DELETE CASCADE,
	customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	touchpoint  TEXT NOT NULL,
	link_id     TEXT NOT NULL REFERENCES survey_links (id) ON DELETE CASCADE,
	send_at     BIGINT NOT NULL,
	created_at  BIGINT NOT NULL
);
CREATE INDEX survey_invitations_customer ON survey_invitations (customer_id, send_at);
CREATE INDEX survey_invitations_touchpoint ON survey_invitations (touchpoint, send_at);

-- The rating the moment had from staff before the customer answered, kept
-- beside the customer's own; the reason they chose for a low score.
ALTER TABLE survey_links ADD COLUMN staff_rating INTEGER;
ALTER TABLE survey_links ADD COLUMN reason TEXT NOT NULL DEFAULT '';

-- Customers who asked for no more survey email, and how.
CREATE TABLE email_opt_outs (
	customer_id  TEXT PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
	opted_out_at BIGINT NOT NULL
);

-- The unsubscribe link of each email sent to a customer. Only the SHA-256
-- of the token is kept, as for survey links.
CREATE TABLE unsubscribe_tokens (
	token_hash  TEXT PRIMARY KEY,
	customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	created_at  BIGINT NOT NULL
);

-- The email outbox, shaped as webhook_deliveries: pending rows are claimed
-- with a lease, tried, and retried after a growing wait. The bodies carry
-- one-time links, so they are cleared once the email is finished with.
CREATE TABLE email_outbox (
	id              TEXT PRIMARY KEY,
	kind            TEXT NOT NULL,
	customer_id     TEXT REFERENCES customers (id) ON DELETE CASCADE,
	user_id         TEXT REFERENCES users (id) ON DELETE CASCADE,
	invitation_id   TEXT REFERENCES survey_invitations (id) ON DELETE CASCADE,
	to_addr         TEXT NOT NULL,
	subject         TEXT NOT NULL,
	text_body       TEXT NOT NULL,
	html_body       TEXT NOT NULL,
	unsubscribe_url TEXT NOT NULL DEFAULT '',
	-- pending, sent, failed (given up or refused by the server) or skipped
	status          TEXT NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at BIGINT NOT NULL,
	lease           TEXT NOT NULL DEFAULT '',
	last_attempt_at BIGINT,
	last_error      TEXT NOT NULL DEFAULT '',
	sent_at         BIGINT,
	created_at      BIGINT NOT NULL
);
CREATE INDEX email_outbox_due ON email_outbox (status, next_attempt_at);
CREATE INDEX email_outbox_customer ON email_outbox (customer_id, created_at);
CREATE INDEX email_outbox_user ON email_outbox (user_id, created_at);

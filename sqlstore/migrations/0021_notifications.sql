-- Notifications for staff: what each person must act on, listed in the
-- web UI and, as each chooses, emailed through the email outbox.
-- Portable SQL, as in 0001.

CREATE TABLE notifications (
	id          TEXT PRIMARY KEY,
	user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	kind        TEXT NOT NULL,
	-- the customer it is about, if any, so that erasing them removes it
	customer_id TEXT REFERENCES customers (id) ON DELETE CASCADE,
	title       TEXT NOT NULL,
	body        TEXT NOT NULL DEFAULT '',
	link        TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	read_at     BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, created_at);
CREATE INDEX notifications_customer ON notifications (customer_id);

-- Which notifications each person wants by email; a kind not listed is
-- emailed.
CREATE TABLE notification_preferences (
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	kind    TEXT NOT NULL,
	email   INTEGER NOT NULL,
	PRIMARY KEY (user_id, kind)
);

-- When the person keeping a promise was told it falls due within a day.
ALTER TABLE promises ADD COLUMN due_notified_at BIGINT;

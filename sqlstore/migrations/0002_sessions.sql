-- Web sessions: a signed-in browser holds the secret in a cookie; only its
-- SHA-256 is kept here. Expired rows are swept when new sessions start.
CREATE TABLE sessions (
	id          TEXT PRIMARY KEY,
	user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	secret_hash TEXT NOT NULL UNIQUE,
	created_at  BIGINT NOT NULL,
	expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Saved import mappings: how a firm's files from another system are read
-- (their column names as Rapport's, their delimiter and date format),
-- named once and picked on the next upload. They belong to the firm, not
-- to whoever saved them: a colleague brings the next file in.
CREATE TABLE import_mappings (
	id          TEXT PRIMARY KEY,
	kind        TEXT NOT NULL,
	name        TEXT NOT NULL,
	options     TEXT NOT NULL,
	created_by  TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	UNIQUE (kind, name)
);

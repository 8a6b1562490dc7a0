-- The audit log: one row per change made through the API, the web UI or
-- the command line, written in the transaction of the change it records.
-- It holds no personal data: changes is a JSON object of the changed
-- fields, whose values are kept only for codes, ids, numbers and times
-- (rapport.AuditChanges). Moments are not audited one by one: each carries
-- who recorded it and when, and they come too fast to double every write.
CREATE TABLE audit_log (
	id          TEXT PRIMARY KEY,
	at          BIGINT NOT NULL,
	actor       TEXT NOT NULL,
	token_id    TEXT NOT NULL DEFAULT '',
	address     TEXT NOT NULL DEFAULT '',
	action      TEXT NOT NULL,
	entity_type TEXT NOT NULL,
	entity_id   TEXT NOT NULL,
	changes     TEXT NOT NULL
);
-- Ids sort by time, so the newest first is id order; the filters each have
-- an index that ends in the id.
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id, id);

-- The audit log's one row of settings: how many days it keeps entries, and
-- the time before which the retention sweep last allowed rows to go.
CREATE TABLE audit_settings (
	name           TEXT PRIMARY KEY,
	retention_days BIGINT NOT NULL,
	cutoff         BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL,
	updated_by     TEXT NOT NULL DEFAULT ''
);
INSERT INTO audit_settings (name, retention_days, cutoff, updated_at) VALUES ('default', 365, 0, 0);

-- The database itself refuses to change an audit row, and to delete one
-- the retention sweep has not let go (at or after the cutoff the sweep
-- writes first, in its own transaction). Someone able to write the cutoff
-- can still delete old rows: the guard keeps the application and slips
-- honest, not a database owner.
-- dialect: sqlite
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.at >= (SELECT cutoff FROM audit_settings WHERE name = 'default')
BEGIN
	SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- dialect: postgres
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' AND OLD.at < (SELECT cutoff FROM audit_settings WHERE name = 'default') THEN
		RETURN OLD;
	END IF;
	RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

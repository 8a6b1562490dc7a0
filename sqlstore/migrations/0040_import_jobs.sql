-- Import jobs: a file being imported in the background. The file itself is
-- kept on disk (path), with its error report beside it; the row says how
-- far the job is. A chunk of rows and the job's progress past them commit
-- together, so a job that resumes after a restart carries on at the first
-- row not stored, and stores nothing twice.
CREATE TABLE import_jobs (
	id             TEXT PRIMARY KEY,
	kind           TEXT NOT NULL,
	file_name      TEXT NOT NULL,
	path           TEXT NOT NULL,
	report_path    TEXT NOT NULL,
	size           BIGINT NOT NULL,
	options        TEXT NOT NULL,
	created_by     TEXT NOT NULL DEFAULT '',
	-- Who started it, as JSON, so that the audit entry a job writes when it
	-- ends names them, whichever server runs it.
	principal      TEXT NOT NULL DEFAULT '',
	created_at     BIGINT NOT NULL,
	state          TEXT NOT NULL,
	phase          TEXT NOT NULL DEFAULT '',
	message        TEXT NOT NULL DEFAULT '',
	-- Which server runs it, until when: a job whose lease has run out is
	-- taken up by the next server that looks.
	claimed_by     TEXT NOT NULL DEFAULT '',
	lease_until    BIGINT NOT NULL DEFAULT 0,
	-- Where the next row starts in the file, its line, and how long the
	-- error report is up to it.
	next_offset    BIGINT NOT NULL DEFAULT 0,
	next_line      BIGINT NOT NULL DEFAULT 0,
	report_bytes   BIGINT NOT NULL DEFAULT 0,
	rows_read      BIGINT NOT NULL DEFAULT 0,
	rows_stored    BIGINT NOT NULL DEFAULT 0,
	rows_skipped   BIGINT NOT NULL DEFAULT 0,
	rows_rejected  BIGINT NOT NULL DEFAULT 0,
	-- The rows and bytes read when this server took the job up, and when,
	-- to measure its rate.
	run_started_at BIGINT NOT NULL DEFAULT 0,
	run_rows       BIGINT NOT NULL DEFAULT 0,
	run_bytes      BIGINT NOT NULL DEFAULT 0,
	started_at     BIGINT,
	finished_at    BIGINT,
	updated_at     BIGINT NOT NULL
);
CREATE INDEX import_jobs_waiting ON import_jobs (state, lease_until, created_at);

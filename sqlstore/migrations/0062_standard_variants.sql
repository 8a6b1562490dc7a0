-- A segment's own standard at a touchpoint, promoted on the segment's own
-- evidence, with the baseline it had then: the segment's moments with the
-- response before promotion. ended_at is set when another replaces it.
CREATE TABLE standard_variants (
	id               TEXT PRIMARY KEY,
	touchpoint       TEXT NOT NULL REFERENCES touchpoints (key),
	segment_id       TEXT NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
	response         TEXT NOT NULL,
	since            BIGINT NOT NULL,
	ended_at         BIGINT,
	baseline_moments BIGINT NOT NULL,
	baseline_magic   BIGINT NOT NULL,
	promoted_by      TEXT NOT NULL DEFAULT '',
	FOREIGN KEY (touchpoint, response) REFERENCES responses (touchpoint, key)
);
CREATE INDEX standard_variants_touchpoint ON standard_variants (touchpoint, ended_at);

-- Rapport's foundation: staff, API tokens, customers, the touchpoint catalogue
-- and moments, with the tables the relationship features grow from.
-- Portable SQL: it runs unchanged on SQLite and PostgreSQL. Times are BIGINT
-- microseconds since the Unix epoch (UTC), ids are text made by the application,
-- JSON documents are text.

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	role          TEXT NOT NULL,
	team          TEXT NOT NULL DEFAULT '',
	manager_id    TEXT REFERENCES users (id) ON DELETE SET NULL,
	password_hash TEXT NOT NULL DEFAULT '',
	created_at    BIGINT NOT NULL
);

CREATE TABLE tokens (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	role         TEXT NOT NULL,
	user_id      TEXT REFERENCES users (id) ON DELETE CASCADE,
	secret_hash  TEXT NOT NULL UNIQUE,
	created_at   BIGINT NOT NULL,
	last_used_at BIGINT,
	revoked_at   BIGINT
);

CREATE TABLE customers (
	id          TEXT PRIMARY KEY,
	external_id TEXT UNIQUE,
	kind        TEXT NOT NULL,
	name        TEXT NOT NULL,
	email       TEXT NOT NULL DEFAULT '',
	phone       TEXT NOT NULL DEFAULT '',
	attributes  TEXT NOT NULL DEFAULT '{}',
	preferences TEXT NOT NULL DEFAULT '{}',
	owner_id    TEXT REFERENCES users (id) ON DELETE SET NULL,
	referred_by TEXT REFERENCES customers (id) ON DELETE SET NULL,
	stage       TEXT NOT NULL,
	-- lower-cased name, email, phone and external id, for text search
	search      TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);
CREATE INDEX customers_owner ON customers (owner_id);
CREATE INDEX customers_referred_by ON customers (referred_by);

CREATE TABLE touchpoints (
	key          TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	description  TEXT NOT NULL DEFAULT '',
	phase        TEXT NOT NULL,
	channels     TEXT NOT NULL DEFAULT '[]',
	target_score DOUBLE PRECISION NOT NULL,
	priority     INTEGER,
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL
);

-- Alternative ways of handling a touchpoint.
CREATE TABLE responses (
	id          TEXT PRIMARY KEY,
	touchpoint  TEXT NOT NULL REFERENCES touchpoints (key),
	key         TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	status      TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	UNIQUE (touchpoint, key)
);

CREATE TABLE moments (
	id             TEXT PRIMARY KEY,
	external_id    TEXT UNIQUE,
	customer_id    TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	touchpoint     TEXT NOT NULL REFERENCES touchpoints (key),
	channel        TEXT NOT NULL,
	occurred_at    BIGINT NOT NULL,
	staff_id       TEXT REFERENCES users (id) ON DELETE SET NULL,
	response       TEXT,
	rating         INTEGER,
	effort         INTEGER,
	nps            INTEGER,
	outcome        TEXT NOT NULL,
	outcome_source TEXT NOT NULL,
	notes          TEXT NOT NULL DEFAULT '',
	revenue        DOUBLE PRECISION NOT NULL DEFAULT 0,
	cost           DOUBLE PRECISION NOT NULL DEFAULT 0,
	recorded_at    BIGINT NOT NULL,
	FOREIGN KEY (touchpoint, response) REFERENCES responses (touchpoint, key)
);
CREATE INDEX moments_customer ON moments (customer_id, occurred_at, id);
CREATE INDEX moments_touchpoint ON moments (touchpoint, occurred_at);
CREATE INDEX moments_occurred ON moments (occurred_at, id);
CREATE INDEX moments_staff ON moments (staff_id);

-- Products and services a customer may hold.
CREATE TABLE products (
	key        TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE holdings (
	id          TEXT PRIMARY KEY,
	customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	product     TEXT NOT NULL REFERENCES products (key),
	started_at  BIGINT NOT NULL,
	ended_at    BIGINT
);
CREATE INDEX holdings_customer ON holdings (customer_id);

-- Every change of relationship stage, with when, why and by whom.
CREATE TABLE stage_changes (
	id                 TEXT PRIMARY KEY,
	customer_id        TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	from_stage         TEXT NOT NULL DEFAULT '',
	to_stage           TEXT NOT NULL,
	reason             TEXT NOT NULL DEFAULT '',
	dissolution_reason TEXT NOT NULL DEFAULT '',
	changed_by         TEXT NOT NULL DEFAULT '',
	changed_at         BIGINT NOT NULL
);
CREATE INDEX stage_changes_customer ON stage_changes (customer_id, changed_at);

-- Promises staff made to customers in a moment.
CREATE TABLE promises (
	id          TEXT PRIMARY KEY,
	customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	staff_id    TEXT REFERENCES users (id) ON DELETE SET NULL,
	moment_id   TEXT REFERENCES moments (id) ON DELETE SET NULL,
	text        TEXT NOT NULL,
	due_at      BIGINT NOT NULL,
	status      TEXT NOT NULL,
	resolved_at BIGINT,
	created_at  BIGINT NOT NULL
);
CREATE INDEX promises_customer ON promises (customer_id);
CREATE INDEX promises_staff ON promises (staff_id, status);

-- Initial schema. Every row belongs to a pool from the start, so adding
-- pools later needs no data migration. Times are INTEGER unix milliseconds
-- in UTC; NULL stands for the zero time. Tables are STRICT so that a value
-- bound with the wrong Go type fails loudly instead of being stored as text.

CREATE TABLE pools (
	id         TEXT    NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL,
	is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
	created_at INTEGER NOT NULL
) STRICT;

-- At most one default pool; EnsureDefaultPool relies on this index to stay
-- correct when replicas start together.
CREATE UNIQUE INDEX pools_one_default ON pools (is_default) WHERE is_default = 1;

CREATE TABLE users (
	pool_id            TEXT    NOT NULL REFERENCES pools (id),
	id                 TEXT    NOT NULL,
	-- email, username and phone are NULL when empty: NULLs never collide in
	-- a unique index, empty strings would.
	email              TEXT,
	email_verified     INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),
	phone              TEXT,
	phone_verified     INTEGER NOT NULL DEFAULT 0 CHECK (phone_verified IN (0, 1)),
	password_hash      TEXT    NOT NULL DEFAULT '',
	username           TEXT,
	nickname           TEXT    NOT NULL DEFAULT '',
	photo              TEXT    NOT NULL DEFAULT '',
	company            TEXT    NOT NULL DEFAULT '',
	browser            TEXT    NOT NULL DEFAULT '',
	device             TEXT    NOT NULL DEFAULT '',
	last_ip            TEXT    NOT NULL DEFAULT '',
	name               TEXT    NOT NULL DEFAULT '',
	given_name         TEXT    NOT NULL DEFAULT '',
	family_name        TEXT    NOT NULL DEFAULT '',
	middle_name        TEXT    NOT NULL DEFAULT '',
	profile            TEXT    NOT NULL DEFAULT '',
	preferred_username TEXT    NOT NULL DEFAULT '',
	website            TEXT    NOT NULL DEFAULT '',
	gender             TEXT    NOT NULL DEFAULT '',
	birthdate          TEXT    NOT NULL DEFAULT '',
	zoneinfo           TEXT    NOT NULL DEFAULT '',
	locale             TEXT    NOT NULL DEFAULT '',
	address            TEXT    NOT NULL DEFAULT '',
	street_address     TEXT    NOT NULL DEFAULT '',
	locality           TEXT    NOT NULL DEFAULT '',
	region             TEXT    NOT NULL DEFAULT '',
	postal_code        TEXT    NOT NULL DEFAULT '',
	city               TEXT    NOT NULL DEFAULT '',
	province           TEXT    NOT NULL DEFAULT '',
	country            TEXT    NOT NULL DEFAULT '',
	logins_count       INTEGER NOT NULL DEFAULT 0,
	last_login         INTEGER,
	signed_up          INTEGER,
	blocked            INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL,
	PRIMARY KEY (pool_id, id)
) STRICT;

-- The store maps violations of these indexes to ErrEmailTaken,
-- ErrUsernameTaken and ErrPhoneTaken by name; keep the names in sync with
-- dialect.go.
CREATE UNIQUE INDEX users_pool_email_key ON users (pool_id, lower(email));
CREATE UNIQUE INDEX users_pool_username_key ON users (pool_id, username);
CREATE UNIQUE INDEX users_pool_phone_key ON users (pool_id, phone);

CREATE TABLE sessions (
	id         TEXT    NOT NULL PRIMARY KEY,
	pool_id    TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER,
	client_ip  TEXT    NOT NULL DEFAULT '',
	user_agent TEXT    NOT NULL DEFAULT '',
	-- The composite key keeps a session in its user's pool, and deleting the
	-- user ends its sessions.
	FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX sessions_user_id_idx ON sessions (user_id);

-- Signing keys are shared by every pool: one issuer, one JWKS.
CREATE TABLE signing_keys (
	id          TEXT    NOT NULL PRIMARY KEY,
	algorithm   TEXT    NOT NULL,
	private_pem BLOB    NOT NULL,
	created_at  INTEGER NOT NULL
) STRICT;

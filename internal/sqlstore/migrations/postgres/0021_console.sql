-- The admin console (issue 14). console_sessions are its signed-in
-- browsers: the cookie's token is kept only as its HMAC under a server key
-- (id_hash), so a reader of the database cannot sign in with it; stored,
-- so every replica knows the session and a sign-out ends it everywhere.
-- named_admin_keys are administrator keys made for one operator each
-- (SHA-256, like admin_keys), optionally read-only, revoked by a time.

CREATE TABLE console_sessions (
	id_hash    bytea       NOT NULL PRIMARY KEY,
	key_id     text        NOT NULL,
	key_name   text        NOT NULL,
	read_only  boolean     NOT NULL,
	created_at timestamptz NOT NULL,
	seen_at    timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);

CREATE INDEX console_sessions_expires_idx ON console_sessions (expires_at);
CREATE INDEX console_sessions_key_idx ON console_sessions (key_id);

CREATE TABLE named_admin_keys (
	id         text        NOT NULL PRIMARY KEY,
	name       text        NOT NULL,
	hash       bytea       NOT NULL UNIQUE,
	read_only  boolean     NOT NULL,
	created_at timestamptz NOT NULL,
	revoked_at timestamptz
);

CREATE UNIQUE INDEX named_admin_keys_name_idx ON named_admin_keys (name) WHERE revoked_at IS NULL;

-- The console's user search is a prefix match of lower(email),
-- lower(username) and phone as bytewise ranges (COLLATE "C": a
-- linguistic collation would reorder them).
CREATE INDEX users_pool_email_c_idx ON users (pool_id, (lower(email) COLLATE "C"));
CREATE INDEX users_pool_username_c_idx ON users (pool_id, (lower(username) COLLATE "C"));
CREATE INDEX users_pool_phone_c_idx ON users (pool_id, (phone COLLATE "C"));

-- Its unfiltered list pages by the row value (created_at, id), newest
-- first: one range of this index, however deep the page.
CREATE INDEX users_pool_created_id_idx ON users (pool_id, created_at, id);

-- Initial schema. Every row belongs to a pool from the start, so adding
-- pools later needs no data migration. NULL stands for the zero time.

CREATE TABLE pools (
	id         text        NOT NULL PRIMARY KEY,
	name       text        NOT NULL,
	is_default boolean     NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL
);

-- At most one default pool; EnsureDefaultPool relies on this index to stay
-- correct when replicas start together.
CREATE UNIQUE INDEX pools_one_default ON pools (is_default) WHERE is_default;

CREATE TABLE users (
	pool_id            text        NOT NULL REFERENCES pools (id),
	id                 text        NOT NULL,
	-- email, username and phone are NULL when empty: NULLs never collide in
	-- a unique index, empty strings would.
	email              text,
	email_verified     boolean     NOT NULL DEFAULT false,
	phone              text,
	phone_verified     boolean     NOT NULL DEFAULT false,
	password_hash      text        NOT NULL DEFAULT '',
	username           text,
	nickname           text        NOT NULL DEFAULT '',
	photo              text        NOT NULL DEFAULT '',
	company            text        NOT NULL DEFAULT '',
	browser            text        NOT NULL DEFAULT '',
	device             text        NOT NULL DEFAULT '',
	last_ip            text        NOT NULL DEFAULT '',
	name               text        NOT NULL DEFAULT '',
	given_name         text        NOT NULL DEFAULT '',
	family_name        text        NOT NULL DEFAULT '',
	middle_name        text        NOT NULL DEFAULT '',
	profile            text        NOT NULL DEFAULT '',
	preferred_username text        NOT NULL DEFAULT '',
	website            text        NOT NULL DEFAULT '',
	gender             text        NOT NULL DEFAULT '',
	birthdate          text        NOT NULL DEFAULT '',
	zoneinfo           text        NOT NULL DEFAULT '',
	locale             text        NOT NULL DEFAULT '',
	address            text        NOT NULL DEFAULT '',
	street_address     text        NOT NULL DEFAULT '',
	locality           text        NOT NULL DEFAULT '',
	region             text        NOT NULL DEFAULT '',
	postal_code        text        NOT NULL DEFAULT '',
	city               text        NOT NULL DEFAULT '',
	province           text        NOT NULL DEFAULT '',
	country            text        NOT NULL DEFAULT '',
	logins_count       bigint      NOT NULL DEFAULT 0,
	last_login         timestamptz,
	signed_up          timestamptz,
	blocked            boolean     NOT NULL DEFAULT false,
	created_at         timestamptz NOT NULL,
	updated_at         timestamptz NOT NULL,
	PRIMARY KEY (pool_id, id)
);

-- The store maps violations of these indexes to ErrEmailTaken,
-- ErrUsernameTaken and ErrPhoneTaken by name; keep the names in sync with
-- dialect.go.
CREATE UNIQUE INDEX users_pool_email_key ON users (pool_id, lower(email));
CREATE UNIQUE INDEX users_pool_username_key ON users (pool_id, username);
CREATE UNIQUE INDEX users_pool_phone_key ON users (pool_id, phone);

CREATE TABLE sessions (
	id         text        NOT NULL PRIMARY KEY,
	pool_id    text        NOT NULL,
	user_id    text        NOT NULL,
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL,
	revoked_at timestamptz,
	client_ip  text        NOT NULL DEFAULT '',
	user_agent text        NOT NULL DEFAULT '',
	-- The composite key keeps a session in its user's pool, and deleting the
	-- user ends its sessions.
	CONSTRAINT sessions_user_fkey FOREIGN KEY (pool_id, user_id)
		REFERENCES users (pool_id, id) ON DELETE CASCADE
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id);

-- Signing keys are shared by every pool: one issuer, one JWKS.
CREATE TABLE signing_keys (
	id          text        NOT NULL PRIMARY KEY,
	algorithm   text        NOT NULL,
	private_pem bytea       NOT NULL,
	created_at  timestamptz NOT NULL
);

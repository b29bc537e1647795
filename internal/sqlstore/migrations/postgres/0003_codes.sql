-- Verification codes (only a keyed hash of each code is kept) and the
-- server's own secrets, such as the key of that hash.

CREATE TABLE verification_codes (
	pool_id    TEXT        NOT NULL REFERENCES pools (id),
	purpose    TEXT        NOT NULL,
	target     TEXT        NOT NULL,
	hash       BYTEA       NOT NULL,
	attempts   INTEGER     NOT NULL DEFAULT 0,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (pool_id, purpose, target)
);

CREATE INDEX verification_codes_expires_at_idx ON verification_codes (expires_at);

CREATE TABLE server_secrets (
	name       TEXT        NOT NULL PRIMARY KEY,
	value      BYTEA       NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);

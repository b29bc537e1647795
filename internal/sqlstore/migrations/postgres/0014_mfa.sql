-- Multi-factor authentication (docs/MFA.md). mfa_factors holds a user's
-- second factors, one per kind: a TOTP secret sealed under a key derived
-- from the server secret (usable once confirmed; last_step refuses a code
-- replayed in its window), or an SMS / email factor (no secret).
-- mfa_recovery_codes keeps keyed hashes of the single-use recovery codes.
-- mfa_challenges is the state behind an MFA token (a keyed hash of it is
-- the id): the first factor passed, the second awaited, attempts counted.
-- mfa_users holds the administrator's "MFA required" flag per user.

CREATE TABLE mfa_factors (
	id           TEXT    NOT NULL PRIMARY KEY,
	pool_id      TEXT    NOT NULL,
	user_id      TEXT    NOT NULL,
	kind         TEXT    NOT NULL CHECK (kind IN ('totp', 'sms', 'email')),
	secret       BYTEA,
	confirmed    BOOLEAN NOT NULL,
	last_step    BIGINT  NOT NULL DEFAULT 0,
	created_at   TIMESTAMPTZ NOT NULL,
	last_used_at TIMESTAMPTZ,
	FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX mfa_factors_one_per_kind ON mfa_factors (pool_id, user_id, kind);

CREATE TABLE mfa_recovery_codes (
	pool_id    TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	hash       BYTEA    NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	used_at    TIMESTAMPTZ,
	PRIMARY KEY (pool_id, user_id, hash),
	FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE
);

CREATE TABLE mfa_challenges (
	id         TEXT    NOT NULL PRIMARY KEY,
	pool_id    TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	method     TEXT    NOT NULL,
	credential BYTEA,
	attempts   INTEGER NOT NULL DEFAULT 0,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	used_at    TIMESTAMPTZ,
	FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE
);

CREATE INDEX mfa_challenges_expiry ON mfa_challenges (expires_at);

CREATE TABLE mfa_users (
	pool_id  TEXT    NOT NULL,
	user_id  TEXT    NOT NULL,
	required BOOLEAN NOT NULL,
	PRIMARY KEY (pool_id, user_id),
	FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE
);

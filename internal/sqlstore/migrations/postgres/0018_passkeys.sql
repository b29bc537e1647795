-- Passkeys (WebAuthn; docs/MFA.md "Passkeys"). passkeys holds each
-- credential a user registered: its id as the authenticator gave it
-- (unique in the pool), the COSE public key, the signature counter (a
-- regression refuses the sign-in: a cloned authenticator), the flags
-- (user present / verified, backup eligible / state), AAGUID, transports,
-- and the user's name for it. webauthn_ceremonies is the server side of
-- a registration or sign-in begun and not finished: a keyed hash of its
-- challenge is the id, the row is deleted when the ceremony finishes (one
-- use) and lives a few minutes.

CREATE TABLE passkeys (
	id                 TEXT    NOT NULL PRIMARY KEY,
	pool_id            TEXT    NOT NULL,
	user_id            TEXT    NOT NULL,
	credential_id      BYTEA   NOT NULL,
	public_key         BYTEA   NOT NULL,
	attestation_type   TEXT    NOT NULL,
	attestation_format TEXT    NOT NULL,
	aaguid             BYTEA,
	sign_count         BIGINT  NOT NULL,
	transports         TEXT    NOT NULL,
	user_present       BOOLEAN NOT NULL,
	user_verified      BOOLEAN NOT NULL,
	backup_eligible    BOOLEAN NOT NULL,
	backup_state       BOOLEAN NOT NULL,
	name               TEXT    NOT NULL,
	created_at         TIMESTAMPTZ NOT NULL,
	last_used_at       TIMESTAMPTZ,
	FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX passkeys_credential ON passkeys (pool_id, credential_id);
CREATE INDEX passkeys_user ON passkeys (pool_id, user_id);

CREATE TABLE webauthn_ceremonies (
	id         TEXT    NOT NULL PRIMARY KEY,
	pool_id    TEXT    NOT NULL,
	purpose    TEXT    NOT NULL CHECK (purpose IN ('register', 'login', 'mfa')),
	user_id    TEXT    NOT NULL,
	binding    TEXT    NOT NULL,
	session    BYTEA   NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies (expires_at);

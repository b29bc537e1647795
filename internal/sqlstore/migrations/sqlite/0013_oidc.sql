-- The OpenID provider (issue 11): authorization requests in flight (with
-- the keyed hash of their code and when it was used, kept until expiry so
-- that a replayed code is recognised), grants (what a code exchange or a
-- client-credentials request issued; refresh tokens are numbered within
-- their grant), consents per user and app, and what the hosted sign-in
-- page knows about the authpool sessions it created. data columns are the
-- provider's JSON; lists are JSON arrays of strings.

CREATE TABLE oidc_auth_requests (
	id           TEXT    NOT NULL PRIMARY KEY,
	pool_id      TEXT    NOT NULL REFERENCES pools (id),
	client_id    TEXT    NOT NULL,
	data         TEXT    NOT NULL,
	code_hash    BLOB,
	code_used_at INTEGER,
	grant_id     TEXT    NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX oidc_auth_requests_code_idx ON oidc_auth_requests (code_hash);
CREATE INDEX oidc_auth_requests_expiry_idx ON oidc_auth_requests (expires_at);

CREATE TABLE oidc_grants (
	id          TEXT    NOT NULL PRIMARY KEY,
	pool_id     TEXT    NOT NULL REFERENCES pools (id),
	client_id   TEXT    NOT NULL,
	user_id     TEXT    NOT NULL,
	session_id  TEXT    NOT NULL,
	scopes      TEXT    NOT NULL DEFAULT '[]',
	amr         TEXT    NOT NULL DEFAULT '[]',
	auth_time   INTEGER,
	refresh_seq INTEGER NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL,
	revoked_at  INTEGER
) STRICT;

CREATE INDEX oidc_grants_user_idx ON oidc_grants (pool_id, user_id, client_id);
CREATE INDEX oidc_grants_expiry_idx ON oidc_grants (expires_at);

CREATE TABLE oidc_consents (
	pool_id    TEXT    NOT NULL REFERENCES pools (id),
	user_id    TEXT    NOT NULL,
	client_id  TEXT    NOT NULL,
	scopes     TEXT    NOT NULL DEFAULT '[]',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (pool_id, user_id, client_id)
) STRICT;

CREATE TABLE oidc_browser_sessions (
	session_id TEXT    NOT NULL PRIMARY KEY,
	pool_id    TEXT    NOT NULL REFERENCES pools (id),
	user_id    TEXT    NOT NULL,
	amr        TEXT    NOT NULL DEFAULT '[]',
	auth_time  INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX oidc_browser_sessions_expiry_idx ON oidc_browser_sessions (expires_at);

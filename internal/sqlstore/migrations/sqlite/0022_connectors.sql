-- Social and enterprise sign-in (issue 15, docs/SOCIAL.md). connectors are
-- a pool's upstream identity providers: what an administrator sets is kept
-- as JSON text in config; the client secret only sealed (AES-GCM under a
-- server key). social_states are the short-lived secrets of sign-ins in
-- flight (the state sent upstream, a finished login waiting for the app's
-- exchange, a link waiting for confirmation), keyed by a keyed hash of the
-- value only the browser or the app holds, their data sealed. The
-- identities a connector links are user_identities (migration 0015), with
-- the connector's id as provider.

CREATE TABLE connectors (
	pool_id    TEXT    NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
	id         TEXT    NOT NULL,
	type       TEXT    NOT NULL,
	enabled    INTEGER NOT NULL,
	config     TEXT    NOT NULL,
	secret     BLOB,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (pool_id, id)
) STRICT;

CREATE TABLE social_states (
	id         BLOB    NOT NULL PRIMARY KEY,
	pool_id    TEXT    NOT NULL,
	kind       TEXT    NOT NULL,
	data       BLOB    NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX social_states_expiry ON social_states (expires_at);

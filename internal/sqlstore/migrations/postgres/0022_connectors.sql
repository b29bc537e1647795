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
	pool_id    text        NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
	id         text        NOT NULL,
	type       text        NOT NULL,
	enabled    boolean     NOT NULL,
	config     text        NOT NULL,
	secret     bytea,
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (pool_id, id)
);

CREATE TABLE social_states (
	id         bytea       NOT NULL PRIMARY KEY,
	pool_id    text        NOT NULL,
	kind       text        NOT NULL,
	data       bytea       NOT NULL,
	expires_at timestamptz NOT NULL
);

CREATE INDEX social_states_expiry ON social_states (expires_at);

-- Applications: a pool's OAuth 2.1 / OpenID Connect clients. The id is the
-- client_id (random, unguessable); only the SHA-256 of a web or machine
-- app's client secret is kept. URI lists and scopes are JSON arrays of
-- strings, token lifetimes whole seconds.

CREATE TABLE apps (
	id                        TEXT    NOT NULL PRIMARY KEY,
	pool_id                   TEXT    NOT NULL REFERENCES pools (id),
	name                      TEXT    NOT NULL,
	type                      TEXT    NOT NULL CHECK (type IN ('web', 'spa', 'native', 'machine')),
	redirect_uris             TEXT    NOT NULL DEFAULT '[]',
	post_logout_redirect_uris TEXT    NOT NULL DEFAULT '[]',
	scopes                    TEXT    NOT NULL DEFAULT '[]',
	first_party               BOOLEAN NOT NULL,
	access_token_ttl_s        BIGINT  NOT NULL,
	id_token_ttl_s            BIGINT  NOT NULL,
	refresh_token_ttl_s       BIGINT  NOT NULL,
	secret_hash               BYTEA,
	created_at                TIMESTAMPTZ NOT NULL,
	updated_at                TIMESTAMPTZ NOT NULL
);

CREATE INDEX apps_pool_idx ON apps (pool_id, created_at);

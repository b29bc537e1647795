-- Imports (issue 16). user_imports remembers which user each record of a
-- source system became, so that running an import again updates instead of
-- duplicating: the key is (pool, source, external id). password_digest is
-- the SHA-256 of the password hash the import last wrote, so that a later
-- run replaces the hash only while it is still the imported one (never a
-- password the user has since set or that a login rehashed).
-- user_identities keeps the upstream identities (an Auth0 connection's
-- user id, a Firebase provider's uid, a Keycloak federated identity) a
-- user brings along, for exports and for connectors to link later.

CREATE TABLE user_imports (
	pool_id         text        NOT NULL,
	source          text        NOT NULL,
	external_id     text        NOT NULL,
	user_id         text        NOT NULL,
	password_digest bytea,
	imported_at     timestamptz NOT NULL,
	PRIMARY KEY (pool_id, source, external_id),
	FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE
);

CREATE INDEX user_imports_user_idx ON user_imports (pool_id, user_id);

CREATE TABLE user_identities (
	pool_id    text        NOT NULL,
	user_id    text        NOT NULL,
	provider   text        NOT NULL,
	subject    text        NOT NULL,
	data       text        NOT NULL DEFAULT '{}',
	created_at timestamptz NOT NULL,
	PRIMARY KEY (pool_id, provider, subject),
	FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE
);

CREATE INDEX user_identities_user_idx ON user_identities (pool_id, user_id);

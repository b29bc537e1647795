-- Usernames and email addresses are compared by a key (userpool.UsernameKey,
-- EmailKey: RFC 8265 UsernameCaseMapped), kept beside the spelling shown.
-- The store computes the keys; SQL cannot, so the store fills them for the
-- rows that exist when it opens (sqlstore/identkey.go). A row whose key
-- another row of its pool already holds keeps a NULL key: the accounts are
-- reported (`authpool migrate --check`, and a warning at start), never
-- merged. The unique indexes are mapped to ErrUsernameTaken and
-- ErrEmailTaken by name in dialect.go. The older indexes on the spellings
-- stay: they serve the lookup of rows without a key.

ALTER TABLE users ADD COLUMN username_key text;
ALTER TABLE users ADD COLUMN email_key text;

CREATE UNIQUE INDEX users_pool_username_ckey ON users (pool_id, username_key);
CREATE UNIQUE INDEX users_pool_email_ckey ON users (pool_id, email_key);

-- The rows still to key, or left without a key by a collision: small, and
-- read at every start.
CREATE INDEX users_unkeyed ON users (created_at, id)
	WHERE (username IS NOT NULL AND username_key IS NULL) OR (email IS NOT NULL AND email_key IS NULL);

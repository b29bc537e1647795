-- User-defined fields (definitions per pool, values per user) and the
-- administrator key, stored as a hash. Values are canonical JSON text
-- (internal/udf); deleting a definition or a user deletes its values.

CREATE TABLE user_fields (
	pool_id     TEXT    NOT NULL REFERENCES pools (id),
	key         TEXT    NOT NULL,
	data_type   TEXT    NOT NULL,
	label       TEXT    NOT NULL,
	description TEXT    NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	PRIMARY KEY (pool_id, key)
) STRICT;

CREATE TABLE user_values (
	pool_id    TEXT    NOT NULL,
	user_id    TEXT    NOT NULL,
	key        TEXT    NOT NULL,
	value      TEXT    NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (pool_id, user_id, key),
	FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE,
	FOREIGN KEY (pool_id, key) REFERENCES user_fields (pool_id, key) ON DELETE CASCADE
) STRICT;

-- Serves "does any user have a value for this key" and the cascade.
CREATE INDEX user_values_field_idx ON user_values (pool_id, key);

CREATE TABLE admin_keys (
	id         TEXT    NOT NULL PRIMARY KEY,
	hash       BLOB    NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

-- The administrator's user list pages newest first.
CREATE INDEX users_pool_created_idx ON users (pool_id, created_at);

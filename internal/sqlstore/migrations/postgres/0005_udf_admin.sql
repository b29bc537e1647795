-- User-defined fields (definitions per pool, values per user) and the
-- administrator key, stored as a hash. Values are canonical JSON text
-- (internal/udf); deleting a definition or a user deletes its values.

CREATE TABLE user_fields (
	pool_id     text        NOT NULL REFERENCES pools (id),
	key         text        NOT NULL,
	data_type   text        NOT NULL,
	label       text        NOT NULL,
	description text        NOT NULL DEFAULT '',
	created_at  timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL,
	PRIMARY KEY (pool_id, key)
);

CREATE TABLE user_values (
	pool_id    text        NOT NULL,
	user_id    text        NOT NULL,
	key        text        NOT NULL,
	value      text        NOT NULL,
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (pool_id, user_id, key),
	CONSTRAINT user_values_user_fkey FOREIGN KEY (pool_id, user_id)
		REFERENCES users (pool_id, id) ON DELETE CASCADE,
	CONSTRAINT user_values_field_fkey FOREIGN KEY (pool_id, key)
		REFERENCES user_fields (pool_id, key) ON DELETE CASCADE
);

-- Serves "does any user have a value for this key" and the cascade.
CREATE INDEX user_values_field_idx ON user_values (pool_id, key);

CREATE TABLE admin_keys (
	id         text        NOT NULL PRIMARY KEY,
	hash       bytea       NOT NULL,
	created_at timestamptz NOT NULL
);

-- The administrator's user list pages newest first.
CREATE INDEX users_pool_created_idx ON users (pool_id, created_at);

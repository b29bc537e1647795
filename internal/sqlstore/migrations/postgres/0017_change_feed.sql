-- The change feed (docs/ARCHITECTURE.md "Caches and the change feed").
-- Replicas cache per-pool data (the pool row with its settings, field
-- definitions, pipelines) and, when AUTHPOOL_SESSION_CACHE=listen, the live
-- sessions they have seen. Triggers announce every change to those rows with
-- pg_notify, which PostgreSQL delivers when, and only if, the writing
-- transaction commits: no write path can forget to announce, and no replica
-- hears of a change that was rolled back. The channel is named after the
-- schema, so that databases holding several authpool schemas do not hear
-- each other; the listener computes the same name (sqlstore/changes.go).
-- Payloads: 'p:' || pool id (drop that pool's cached data) and
-- 's:' || session id (drop that session).

CREATE FUNCTION authpool_pool_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		PERFORM pg_notify('authpool_' || substr(md5(TG_TABLE_SCHEMA), 1, 16), 'p:' || OLD.pool_id);
	ELSE
		PERFORM pg_notify('authpool_' || substr(md5(TG_TABLE_SCHEMA), 1, 16), 'p:' || NEW.pool_id);
		IF TG_OP = 'UPDATE' AND OLD.pool_id IS DISTINCT FROM NEW.pool_id THEN
			PERFORM pg_notify('authpool_' || substr(md5(TG_TABLE_SCHEMA), 1, 16), 'p:' || OLD.pool_id);
		END IF;
	END IF;
	RETURN NULL;
END $$;

CREATE FUNCTION authpool_pool_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		PERFORM pg_notify('authpool_' || substr(md5(TG_TABLE_SCHEMA), 1, 16), 'p:' || OLD.id);
	ELSE
		PERFORM pg_notify('authpool_' || substr(md5(TG_TABLE_SCHEMA), 1, 16), 'p:' || NEW.id);
	END IF;
	RETURN NULL;
END $$;

CREATE FUNCTION authpool_session_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('authpool_' || substr(md5(TG_TABLE_SCHEMA), 1, 16), 's:' || OLD.id);
	RETURN NULL;
END $$;

CREATE TRIGGER pools_changed AFTER UPDATE OR DELETE ON pools
	FOR EACH ROW EXECUTE FUNCTION authpool_pool_row_changed();
CREATE TRIGGER user_fields_changed AFTER INSERT OR UPDATE OR DELETE ON user_fields
	FOR EACH ROW EXECUTE FUNCTION authpool_pool_changed();
CREATE TRIGGER pipelines_changed AFTER INSERT OR UPDATE OR DELETE ON pipelines
	FOR EACH ROW EXECUTE FUNCTION authpool_pool_changed();

-- A session is announced when it is revoked (logout, password change,
-- block, administrator revoke), when its expiry moves (refresh) and when it
-- is deleted (with its user: the foreign key cascades, and cascaded deletes
-- fire row triggers too). Logins insert sessions and announce nothing.
CREATE TRIGGER sessions_changed AFTER UPDATE ON sessions
	FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
		OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
		OR OLD.user_id IS DISTINCT FROM NEW.user_id)
	EXECUTE FUNCTION authpool_session_changed();
CREATE TRIGGER sessions_deleted AFTER DELETE ON sessions
	FOR EACH ROW EXECUTE FUNCTION authpool_session_changed();

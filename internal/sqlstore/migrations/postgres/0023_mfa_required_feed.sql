-- Whether any user of a pool is required to pass MFA by an administrator
-- is cached per pool (storecache.MFARequiredFor), so that a login in a
-- pool where nobody is needs no read of mfa_users. The partial index
-- answers "anyone?" without scanning the pool's rows, and the change feed
-- announces a pool whose set of required users changed (not every row
-- change: a flag written false, or a user without the flag deleted, is
-- silent).

CREATE INDEX mfa_users_required ON mfa_users (pool_id) WHERE required;

CREATE TRIGGER mfa_users_required_i AFTER INSERT ON mfa_users
	FOR EACH ROW WHEN (NEW.required) EXECUTE FUNCTION authpool_pool_changed();
CREATE TRIGGER mfa_users_required_u AFTER UPDATE ON mfa_users
	FOR EACH ROW WHEN (OLD.required IS DISTINCT FROM NEW.required OR OLD.pool_id IS DISTINCT FROM NEW.pool_id) EXECUTE FUNCTION authpool_pool_changed();
CREATE TRIGGER mfa_users_required_d AFTER DELETE ON mfa_users
	FOR EACH ROW WHEN (OLD.required) EXECUTE FUNCTION authpool_pool_changed();

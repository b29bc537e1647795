-- The partial index answers "is any user of this pool required to pass
-- MFA?" without scanning the pool's rows (sqlstore.AnyMFARequired). The
-- per-pool cache of that answer is PostgreSQL's only (storecache), so
-- SQLite's change counter needs no trigger for it.

CREATE INDEX mfa_users_required ON mfa_users (pool_id) WHERE required = 1;

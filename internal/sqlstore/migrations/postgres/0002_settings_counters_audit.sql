-- Per-pool settings (JSON of userpool.PoolSettings), shared counters for
-- rate limits and failure detection, and the audit log.

ALTER TABLE pools ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';

CREATE TABLE counters (
	key        TEXT        NOT NULL PRIMARY KEY,
	count      BIGINT      NOT NULL,
	window_end TIMESTAMPTZ NOT NULL
);

CREATE INDEX counters_window_end_idx ON counters (window_end);

CREATE TABLE audit_events (
	id         TEXT        NOT NULL PRIMARY KEY,
	pool_id    TEXT        NOT NULL REFERENCES pools (id),
	user_id    TEXT        NOT NULL DEFAULT '',
	event      TEXT        NOT NULL,
	client_ip  TEXT        NOT NULL DEFAULT '',
	user_agent TEXT        NOT NULL DEFAULT '',
	detail     TEXT        NOT NULL DEFAULT '{}',
	created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX audit_events_pool_time_idx ON audit_events (pool_id, created_at);
CREATE INDEX audit_events_pool_user_time_idx ON audit_events (pool_id, user_id, created_at);

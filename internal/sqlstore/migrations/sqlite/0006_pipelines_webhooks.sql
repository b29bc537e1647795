-- Pipelines (user code run at registration and login stages) with their
-- bounded logs, webhook subscriptions, and the webhook outbox: one delivery
-- row per event and subscription, written in the transaction of the change
-- it reports, and one row per delivery attempt.

CREATE TABLE pipelines (
	id            TEXT    NOT NULL PRIMARY KEY,
	pool_id       TEXT    NOT NULL REFERENCES pools (id),
	stage         TEXT    NOT NULL,
	position      INTEGER NOT NULL,
	name          TEXT    NOT NULL,
	kind          TEXT    NOT NULL,
	script        TEXT    NOT NULL DEFAULT '',
	url           TEXT    NOT NULL DEFAULT '',
	-- Signing secret and env are plain text: the server must use them.
	secret        TEXT    NOT NULL DEFAULT '',
	enabled       INTEGER NOT NULL CHECK (enabled IN (0, 1)),
	timeout_ms    INTEGER NOT NULL DEFAULT 0,
	allowed_hosts TEXT    NOT NULL DEFAULT '[]',
	env           TEXT    NOT NULL DEFAULT '{}',
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX pipelines_pool_stage_idx ON pipelines (pool_id, stage, position);

CREATE TABLE pipeline_logs (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	pool_id     TEXT    NOT NULL,
	pipeline_id TEXT    NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
	stage       TEXT    NOT NULL,
	outcome     TEXT    NOT NULL,
	message     TEXT    NOT NULL DEFAULT '',
	output      TEXT    NOT NULL DEFAULT '',
	duration_ms INTEGER NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX pipeline_logs_pipeline_idx ON pipeline_logs (pipeline_id, id);

CREATE TABLE webhook_subscriptions (
	id         TEXT    NOT NULL PRIMARY KEY,
	pool_id    TEXT    NOT NULL REFERENCES pools (id),
	url        TEXT    NOT NULL,
	-- ",user.login,user.logout,": delimited so that one LIKE matches a type.
	events     TEXT    NOT NULL,
	secret     TEXT    NOT NULL,
	enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX webhook_subscriptions_pool_idx ON webhook_subscriptions (pool_id, created_at);

CREATE TABLE webhook_deliveries (
	id              TEXT    NOT NULL PRIMARY KEY,
	event_id        TEXT    NOT NULL,
	pool_id         TEXT    NOT NULL,
	subscription_id TEXT    NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
	type            TEXT    NOT NULL,
	payload         TEXT    NOT NULL,
	status          TEXT    NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	claimed_by      TEXT    NOT NULL DEFAULT '',
	claimed_until   INTEGER,
	last_error      TEXT    NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	finished_at     INTEGER
) STRICT;

-- The workers' claim scans pending rows by due time only.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_pool_idx ON webhook_deliveries (pool_id, created_at);
CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (finished_at) WHERE status <> 'pending';

CREATE TABLE webhook_attempts (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	delivery_id TEXT    NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
	pool_id     TEXT    NOT NULL,
	number      INTEGER NOT NULL,
	worker      TEXT    NOT NULL,
	status_code INTEGER NOT NULL DEFAULT 0,
	error       TEXT    NOT NULL DEFAULT '',
	duration_ms INTEGER NOT NULL DEFAULT 0,
	created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);

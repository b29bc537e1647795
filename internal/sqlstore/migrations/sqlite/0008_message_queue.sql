-- The queue of messages to send (verification codes by mail and SMS). A
-- job is written in the transaction that stores its code; workers on
-- every replica claim due jobs with a lease, send them and delete them.
-- The payload (recipient, text, code) is sealed with AES-GCM under a
-- server key; the columns say only which pool and channel.

CREATE TABLE message_jobs (
	id              TEXT    NOT NULL PRIMARY KEY,
	pool_id         TEXT    NOT NULL REFERENCES pools (id),
	channel         TEXT    NOT NULL,
	payload         BLOB    NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	claimed_by      TEXT    NOT NULL DEFAULT '',
	claimed_until   INTEGER,
	last_error      TEXT    NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX message_jobs_due_idx ON message_jobs (next_attempt_at);

-- CAPTCHA challenges (only a keyed hash of the answer is stored; a row is
-- deleted when it is used or, once expired, by PurgeExpired), and an index
-- that lets audit retention delete old events of every pool.

CREATE TABLE captchas (
	id          TEXT    NOT NULL PRIMARY KEY,
	pool_id     TEXT    NOT NULL REFERENCES pools (id),
	answer_hash TEXT    NOT NULL,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX captchas_expires_at_idx ON captchas (expires_at);

CREATE INDEX audit_events_time_idx ON audit_events (created_at);

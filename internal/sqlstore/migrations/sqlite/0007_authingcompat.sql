-- Private keys that a transport keeps in the store so that every replica
-- uses the same one: the RSA key with which Authing-compatible clients
-- encrypt passwords in transit (purpose 'authing-password'). One key per
-- purpose; the primary key makes "create when missing" race-free.

CREATE TABLE transport_keys (
	purpose     TEXT    NOT NULL PRIMARY KEY,
	private_pem BLOB    NOT NULL,
	created_at  INTEGER NOT NULL
) STRICT;

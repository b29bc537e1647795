-- Signing keys get a lifecycle (docs/OIDC.md "Signing keys"): a key is
-- published from created_at, signs from signs_from, records the latest
-- expiry of the tokens it signed (last_expiry, NULL while it signed none)
-- and is retired at retired_at (NULL while published), when its private
-- key is erased. Keys stored before this migration signed from creation.
ALTER TABLE signing_keys ADD COLUMN signs_from INTEGER NOT NULL DEFAULT 0;
UPDATE signing_keys SET signs_from = created_at;
ALTER TABLE signing_keys ADD COLUMN last_expiry INTEGER;
ALTER TABLE signing_keys ADD COLUMN retired_at INTEGER;

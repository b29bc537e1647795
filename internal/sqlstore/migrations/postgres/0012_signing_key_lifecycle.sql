-- Signing keys get a lifecycle (docs/OIDC.md "Signing keys"): a key is
-- published from created_at, signs from signs_from, records the latest
-- expiry of the tokens it signed (last_expiry, NULL while it signed none)
-- and is retired at retired_at (NULL while published), when its private
-- key is erased. Keys stored before this migration signed from creation.
ALTER TABLE signing_keys ADD COLUMN signs_from timestamptz;
UPDATE signing_keys SET signs_from = created_at;
ALTER TABLE signing_keys ALTER COLUMN signs_from SET NOT NULL;
ALTER TABLE signing_keys ADD COLUMN last_expiry timestamptz;
ALTER TABLE signing_keys ADD COLUMN retired_at timestamptz;

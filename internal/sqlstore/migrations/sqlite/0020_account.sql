-- The account page (issue 13). A user-defined field is user-editable when
-- an end user may set and remove their own value of it (PUT/DELETE
-- /api/v1/users/me/udv/{key}, the account page); new definitions are not
-- unless the administrator says so. Fields defined before this migration
-- were settable by every user, so they keep that (docs/ACCOUNT.md).
ALTER TABLE user_fields ADD COLUMN user_editable INTEGER NOT NULL DEFAULT 0;
UPDATE user_fields SET user_editable = 1;

-- Deleting a user deletes the OpenID provider's browser sessions of the
-- user (they have no foreign key to users): found by this index.
CREATE INDEX oidc_browser_sessions_user_idx ON oidc_browser_sessions (pool_id, user_id);

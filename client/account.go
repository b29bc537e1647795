package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/authpool/authpool/api"
)

// SessionInfo is one alive session of the current user.
type SessionInfo = api.SessionInfo

// ListSessions lists the current user's alive sessions, newest first,
// with the address and browser each began from; Current marks the
// client's own.
func (c *AuthenticationClient) ListSessions(ctx context.Context) ([]SessionInfo, error) {
	var out []SessionInfo
	if err := c.do(ctx, http.MethodGet, "/api/v1/users/me/sessions", nil, &out, true); err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeSession ends one session of the current user; its tokens stop
// working at once. Ending the client's own session works like Logout,
// except that the client keeps the token (which no longer works). A session of another user, or one that has
// ended, answers code 1004.
func (c *AuthenticationClient) RevokeSession(ctx context.Context, sessionID string) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/users/me/sessions/"+url.PathEscape(sessionID), nil, nil, true)
}

// RevokeOtherSessions ends every session of the current user but the
// client's own and says how many it ended.
func (c *AuthenticationClient) RevokeOtherSessions(ctx context.Context) (int, error) {
	var out api.SessionsRevoked
	if err := c.do(ctx, http.MethodDelete, "/api/v1/users/me/sessions", nil, &out, true); err != nil {
		return 0, err
	}
	return out.Revoked, nil
}

// DeleteAccount deletes the current user's account, when the pool allows
// it (setting allowSelfDelete; else code 2018 self_delete_disabled). password is
// the account's password; an account without one passes "" and must have
// signed in within the last 5 minutes (else 2206
// fresh_sign_in_required). On success the client forgets its token.
func (c *AuthenticationClient) DeleteAccount(ctx context.Context, password string) error {
	if err := c.do(ctx, http.MethodDelete, "/api/v1/users/me", api.DeleteAccountRequest{Password: password}, nil, true); err != nil {
		return err
	}
	c.forget()
	return nil
}

package client

import (
	"context"
	"net/http"

	"github.com/authpool/authpool/api"
)

// GetCurrentUser fetches the user of the current token.
func (c *AuthenticationClient) GetCurrentUser(ctx context.Context) (*User, error) {
	return c.userCall(ctx, http.MethodGet, "/api/v1/users/me", nil, true)
}

// UpdateProfile changes profile fields; nil fields are left as they are.
// It cannot change email, phone or password (codes 2225, 2226, 1003).
func (c *AuthenticationClient) UpdateProfile(ctx context.Context, updates UpdateProfileInput) (*User, error) {
	return c.userCall(ctx, http.MethodPatch, "/api/v1/users/me", updates, true)
}

// UpdatePassword changes the password. oldPassword is required when the
// account has a password (wrong: 2203) and may be "" when it has none. All
// sessions of the user end; the answer carries a fresh token, which the
// client keeps.
func (c *AuthenticationClient) UpdatePassword(ctx context.Context, newPassword, oldPassword string) (*User, error) {
	return c.userCall(ctx, http.MethodPost, "/api/v1/users/me/password",
		api.UpdatePasswordRequest{NewPassword: newPassword, OldPassword: oldPassword}, true)
}

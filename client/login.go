package client

import (
	"context"
	"net/http"

	"github.com/authpool/authpool/api"
)

// LoginByEmail logs in with email and password; the client keeps the token.
func (c *AuthenticationClient) LoginByEmail(ctx context.Context, email, password string, opts *LoginOptions) (*User, error) {
	return c.userCall(ctx, http.MethodPost, "/api/v1/login/email",
		api.LoginByEmailRequest{Email: email, Password: password, Options: opts}, false)
}

// LoginByUsername logs in with username and password.
func (c *AuthenticationClient) LoginByUsername(ctx context.Context, username, password string, opts *LoginOptions) (*User, error) {
	return c.userCall(ctx, http.MethodPost, "/api/v1/login/username",
		api.LoginByUsernameRequest{Username: username, Password: password, Options: opts}, false)
}

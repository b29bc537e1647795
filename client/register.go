package client

import (
	"context"
	"net/http"

	"github.com/authpool/authpool/api"
)

// RegisterByEmail creates a user with an email and password. The email is
// not verified by registering (EmailVerified is false).
func (c *AuthenticationClient) RegisterByEmail(ctx context.Context, email, password string, profile *RegisterProfile, opts *RegisterOptions) (*User, error) {
	return c.userCall(ctx, http.MethodPost, "/api/v1/register/email",
		api.RegisterByEmailRequest{Email: email, Password: password, Profile: profile, Options: opts}, false)
}

// RegisterByUsername creates a user with a username and password.
func (c *AuthenticationClient) RegisterByUsername(ctx context.Context, username, password string, profile *RegisterProfile, opts *RegisterOptions) (*User, error) {
	return c.userCall(ctx, http.MethodPost, "/api/v1/register/username",
		api.RegisterByUsernameRequest{Username: username, Password: password, Profile: profile, Options: opts}, false)
}

// userCall sends in and remembers the user that comes back.
func (c *AuthenticationClient) userCall(ctx context.Context, method, path string, in any, withToken bool) (*User, error) {
	var u User
	if err := c.do(ctx, method, path, in, &u, withToken); err != nil {
		return nil, err
	}
	if err := decodeCustomData(&u); err != nil {
		return nil, err
	}
	c.remember(&u)
	return &u, nil
}

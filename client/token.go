package client

import (
	"context"
	"net/http"

	"github.com/authpool/authpool/api"
)

// CheckLoginStatus reports whether token (or, when "", the client's current
// token) is valid. An invalid token is reported in the value (Status false,
// Code 2020/2206/2207), not as an error.
func (c *AuthenticationClient) CheckLoginStatus(ctx context.Context, token string) (*LoginStatus, error) {
	var st LoginStatus
	in := api.CheckLoginStatusRequest{Token: token}
	if err := c.do(ctx, http.MethodPost, "/api/v1/token/check", in, &st, token == ""); err != nil {
		return nil, err
	}
	return &st, nil
}

// RefreshToken gets a new token for the current session with a later
// expiry and makes it the client's current token.
func (c *AuthenticationClient) RefreshToken(ctx context.Context) (*RefreshedToken, error) {
	var rt RefreshedToken
	if err := c.do(ctx, http.MethodPost, "/api/v1/token/refresh", nil, &rt, true); err != nil {
		return nil, err
	}
	c.SetToken(rt.Token)
	return &rt, nil
}

// Logout ends the current session (its tokens stop working at once) and
// clears the client's user and token.
func (c *AuthenticationClient) Logout(ctx context.Context) error {
	if err := c.do(ctx, http.MethodPost, "/api/v1/logout", nil, nil, true); err != nil {
		return err
	}
	c.forget()
	return nil
}

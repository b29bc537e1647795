package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/authpool/authpool/api"
)

// GrantedApp is an application the user consented to.
type GrantedApp = api.GrantedApp

// ListGrantedApps lists the applications the current user allowed on the
// hosted consent page (OpenID Connect), with the scopes granted.
func (c *AuthenticationClient) ListGrantedApps(ctx context.Context) ([]GrantedApp, error) {
	var out []GrantedApp
	if err := c.do(ctx, http.MethodGet, "/api/v1/users/me/apps", nil, &out, true); err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeGrantedApp withdraws the current user's consent to an application
// and revokes the tokens it holds for the user; its next sign-in asks for
// consent again. An application not granted answers code 1004.
func (c *AuthenticationClient) RevokeGrantedApp(ctx context.Context, appID string) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/users/me/apps/"+url.PathEscape(appID), nil, nil, true)
}

package oidc

import (
	"net/url"
	"slices"
	"time"

	"github.com/authpool/authpool/internal/userpool"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// client is op.Client over an authpool application.
type client struct {
	app    *userpool.App
	prefix string // the pool's path prefix ("/oidc" or "/oidc/pools/{id}")
}

func (c *client) GetID() string                    { return c.app.ID }
func (c *client) RedirectURIs() []string           { return c.app.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.app.PostLogoutRedirectURIs }

func (c *client) ApplicationType() op.ApplicationType {
	switch c.app.Type {
	case userpool.AppNative:
		return op.ApplicationTypeNative
	case userpool.AppSPA:
		return op.ApplicationTypeUserAgent
	}
	return op.ApplicationTypeWeb
}

// AuthMethod: confidential apps authenticate with their secret (HTTP
// Basic, or in the body: op accepts both for a "basic" client when
// AuthMethodPost is on); public apps with PKCE only.
func (c *client) AuthMethod() zoidc.AuthMethod {
	if c.app.Type.Confidential() {
		return zoidc.AuthMethodBasic
	}
	return zoidc.AuthMethodNone
}

func (c *client) ResponseTypes() []zoidc.ResponseType {
	if c.app.Type == userpool.AppMachine {
		return nil
	}
	return []zoidc.ResponseType{zoidc.ResponseTypeCode}
}

// GrantTypes: no implicit, no password grant for anyone; client
// credentials for machine apps only.
func (c *client) GrantTypes() []zoidc.GrantType {
	if c.app.Type == userpool.AppMachine {
		return []zoidc.GrantType{zoidc.GrantTypeClientCredentials}
	}
	return []zoidc.GrantType{zoidc.GrantTypeCode, zoidc.GrantTypeRefreshToken}
}

func (c *client) LoginURL(id string) string {
	return c.prefix + "/login?authRequestID=" + url.QueryEscape(id)
}

func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration      { return c.app.IDTokenTTL }
func (c *client) DevMode() bool                       { return false }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(scope string) bool     { return slices.Contains(c.app.Scopes, scope) }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }

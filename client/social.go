package client

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"

	"github.com/authpool/authpool/api"
)

// BuildSocialAuthorizeURL is where an app sends the browser to sign in
// with the pool's connector: the server sends it upstream and, once
// signed in, to redirectURI (one of the pool's registered app redirect
// URIs) with "code" (and "state", the app's own value, echoed). The app
// then calls ExchangeSocialCode with that code. See docs/SOCIAL.md.
func (c *AuthenticationClient) BuildSocialAuthorizeURL(connector, redirectURI, state string) string {
	v := url.Values{"redirect_uri": {redirectURI}}
	if state != "" {
		v.Set("state", state)
	}
	if c.opts.UserPoolID != "" {
		v.Set("userPoolId", c.opts.UserPoolID)
	}
	return c.opts.AppHost + "/api/v1/social/" + url.PathEscape(connector) + "/authorize?" + v.Encode()
}

// BuildSocialAuthorizeURLPKCE is BuildSocialAuthorizeURL with the app's
// own PKCE challenge (S256) for the one-time code; SocialPKCE makes a
// verifier and its challenge. Native apps should use it: only the holder
// of the verifier can then exchange the code (ExchangeSocialCodePKCE).
func (c *AuthenticationClient) BuildSocialAuthorizeURLPKCE(connector, redirectURI, state, challenge string) string {
	return c.BuildSocialAuthorizeURL(connector, redirectURI, state) +
		"&" + url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}.Encode()
}

// SocialPKCE returns a new PKCE verifier and its S256 challenge.
func SocialPKCE() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// ExchangeSocialCodePKCE is ExchangeSocialCode for a sign-in begun with
// BuildSocialAuthorizeURLPKCE: it sends the verifier.
func (c *AuthenticationClient) ExchangeSocialCodePKCE(ctx context.Context, code, redirectURI, verifier string) (*User, error) {
	return c.userCall(ctx, http.MethodPost, "/api/v1/social/token", api.SocialTokenRequest{Code: code, RedirectURI: redirectURI, CodeVerifier: verifier}, false)
}

// ExchangeSocialCode redeems the one-time code a social sign-in brought
// to redirectURI. The answer is the login's: the user with a token (kept
// by the client, as after any login), or its error (1635 with an MFA
// token, 2803 with a link token in Error.Data["linkToken"], ...). A code
// works once, within a minute.
func (c *AuthenticationClient) ExchangeSocialCode(ctx context.Context, code, redirectURI string) (*User, error) {
	return c.userCall(ctx, http.MethodPost, "/api/v1/social/token", api.SocialTokenRequest{Code: code, RedirectURI: redirectURI}, false)
}

// ListSocialConnectors lists the pool's enabled connectors (id, type,
// label, icon) for sign-in buttons.
func (c *AuthenticationClient) ListSocialConnectors(ctx context.Context) ([]Connector, error) {
	var out api.ConnectorList
	if err := c.do(ctx, http.MethodGet, "/api/v1/social/connectors", nil, &out, false); err != nil {
		return nil, err
	}
	return out.Connectors, nil
}

// ListIdentities lists the current user's upstream identities.
func (c *AuthenticationClient) ListIdentities(ctx context.Context) ([]Identity, error) {
	var out []Identity
	if err := c.do(ctx, http.MethodGet, "/api/v1/users/me/identities", nil, &out, true); err != nil {
		return nil, err
	}
	return out, nil
}

// UnlinkIdentity removes one of the current user's identities. The
// account's last way to sign in (no password, phone or other identity
// left) is refused with code 2217.
func (c *AuthenticationClient) UnlinkIdentity(ctx context.Context, provider, subject string) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/users/me/identities/"+url.PathEscape(provider)+"/"+url.PathEscape(subject), nil, nil, true)
}

// ConfirmIdentityLink links to the current user the identity a social
// sign-in left waiting (code 2803's linkToken): the user signed in to
// the existing account to prove it is theirs. It returns the identities.
func (c *AuthenticationClient) ConfirmIdentityLink(ctx context.Context, linkToken string) ([]Identity, error) {
	var out []Identity
	if err := c.do(ctx, http.MethodPost, "/api/v1/users/me/identities/confirm", api.ConfirmLinkRequest{LinkToken: linkToken}, &out, true); err != nil {
		return nil, err
	}
	return out, nil
}

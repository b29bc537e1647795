package connector

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/authpool/authpool/internal/userpool"
)

// Preset endpoints. A preset's Issuer or AuthURL/TokenURL/UserInfoURL, when
// set, replace them (a provider's regional endpoints, a stand-in in tests).
const (
	googleIssuer      = "https://accounts.google.com"
	microsoftIssuer   = "https://login.microsoftonline.com/%s/v2.0"
	githubAuthURL     = "https://github.com/login/oauth/authorize"
	githubTokenURL    = "https://github.com/login/oauth/access_token"
	githubUserInfoURL = "https://api.github.com/user"
)

// presetUpstream builds the preset connectors.
func presetUpstream(g *Registry, c *userpool.Connector, secret, redirect string) (Upstream, error) {
	switch c.Type {
	case userpool.ConnectorGoogle:
		return &oidcUpstream{g: g, c: c, secret: secret, redirect: redirect, issuer: or(c.Issuer, googleIssuer)}, nil
	case userpool.ConnectorMicrosoft:
		// A tenant's issuer: the multi-tenant "common" endpoint's ID
		// tokens name each user's own tenant, which no fixed issuer
		// check accepts, so a tenant (id or domain) is required.
		return &oidcUpstream{g: g, c: c, secret: secret, redirect: redirect, issuer: or(c.Issuer, fmt.Sprintf(microsoftIssuer, c.Tenant))}, nil
	case userpool.ConnectorGitHub:
		return &githubUpstream{g: g, c: c, secret: secret, redirect: redirect}, nil
	case userpool.ConnectorWeChat:
		return &wechatUpstream{g: g, c: c, secret: secret, redirect: redirect}, nil
	case userpool.ConnectorApple:
		return newApple(g, c, secret, redirect)
	}
	return nil, fmt.Errorf("connector: type %q is not supported", c.Type)
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// githubUpstream is GitHub's OAuth app flow: no ID token; the user from
// GET /user, and the email only from GET /user/emails, where GitHub says
// which addresses are verified (the /user email is merely public).
type githubUpstream struct {
	g        *Registry
	c        *userpool.Connector
	secret   string
	redirect string
}

func (u *githubUpstream) config() *oauth2.Config {
	scopes := u.c.Scopes
	if len(scopes) == 0 {
		scopes = []string{"read:user", "user:email"}
	}
	return &oauth2.Config{
		ClientID: u.c.ClientID, ClientSecret: u.secret, RedirectURL: u.redirect, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: or(u.c.AuthURL, githubAuthURL), TokenURL: or(u.c.TokenURL, githubTokenURL)},
	}
}

func (u *githubUpstream) AuthURL(_ context.Context, r Request) (string, error) {
	return u.config().AuthCodeURL(r.State, oauth2.S256ChallengeOption(r.Verifier)), nil
}

func (u *githubUpstream) get(ctx context.Context, url, tok string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Invalid(err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	return u.g.doJSON(req, v)
}

func (u *githubUpstream) Exchange(ctx context.Context, r Request, code string) (*Profile, error) {
	tok, err := u.config().Exchange(u.g.ctx(ctx), code, oauth2.VerifierOption(r.Verifier))
	if err != nil {
		return nil, exchangeErr(err)
	}
	if tok.AccessToken == "" {
		return nil, Invalid(errors.New("the token answer has no access_token"))
	}
	userURL := or(u.c.UserInfoURL, githubUserInfoURL)
	var user map[string]any
	if err := u.get(ctx, userURL, tok.AccessToken, &user); err != nil {
		return nil, err
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := u.get(ctx, userURL+"/emails", tok.AccessToken, &emails); err != nil {
		return nil, err
	}
	p := &Profile{
		Subject: text(user["id"]), Name: text(user["name"]), Username: text(user["login"]), Picture: text(user["avatar_url"]),
	}
	for _, e := range emails {
		// The primary address when verified, else the first verified one.
		if e.Verified && (p.Email == "" || e.Primary) {
			p.Email, p.EmailVerified = e.Email, true
		}
	}
	kept := keep(user)
	kept["sub"] = p.Subject
	if p.Email != "" {
		kept["email"], kept["email_verified"] = p.Email, true
	} else {
		delete(kept, "email") // /user's public email is not known to be the user's
	}
	p.Claims = kept
	return finish(p)
}

package connector

import (
	"context"
	"errors"

	"golang.org/x/oauth2"

	"github.com/authpool/authpool/internal/userpool"
)

// defaultClaims is the claim mapping of an oauth2 connector for what its
// ClaimMap leaves out: OpenID Connect's standard names.
var defaultClaims = map[string]string{
	userpool.ClaimSubject: "sub", userpool.ClaimEmail: "email", userpool.ClaimEmailVerified: "email_verified",
	userpool.ClaimName: "name", userpool.ClaimUsername: "preferred_username", userpool.ClaimPicture: "picture",
}

// oauth2Upstream is a plain OAuth 2.0 provider: no ID token, so the
// profile is what its userinfo endpoint answers to the access token,
// read through the claim mapping. An email is verified only when the
// mapped verified claim says so.
type oauth2Upstream struct {
	g        *Registry
	c        *userpool.Connector
	secret   string
	redirect string
}

func (u *oauth2Upstream) config() *oauth2.Config {
	return &oauth2.Config{
		ClientID: u.c.ClientID, ClientSecret: u.secret, RedirectURL: u.redirect, Scopes: u.c.Scopes,
		Endpoint: oauth2.Endpoint{AuthURL: u.c.AuthURL, TokenURL: u.c.TokenURL},
	}
}

func (u *oauth2Upstream) AuthURL(_ context.Context, r Request) (string, error) {
	return u.config().AuthCodeURL(r.State, oauth2.S256ChallengeOption(r.Verifier)), nil
}

func (u *oauth2Upstream) Exchange(ctx context.Context, r Request, code string) (*Profile, error) {
	tok, err := u.config().Exchange(u.g.ctx(ctx), code, oauth2.VerifierOption(r.Verifier))
	if err != nil {
		return nil, exchangeErr(err)
	}
	if tok.AccessToken == "" {
		return nil, Invalid(errors.New("the token answer has no access_token"))
	}
	var info map[string]any
	if err := u.g.getJSON(ctx, u.c.UserInfoURL, tok.AccessToken, &info); err != nil {
		return nil, err
	}
	return finish(mapped(info, u.c.ClaimMap))
}

// mapped reads a userinfo answer through a claim mapping.
func mapped(info map[string]any, m map[string]string) *Profile {
	key := func(name string) string {
		if k := m[name]; k != "" {
			return k
		}
		return defaultClaims[name]
	}
	p := &Profile{
		Subject:       text(claim(info, key(userpool.ClaimSubject))),
		Email:         text(claim(info, key(userpool.ClaimEmail))),
		EmailVerified: truth(claim(info, key(userpool.ClaimEmailVerified))),
		Name:          text(claim(info, key(userpool.ClaimName))),
		Username:      text(claim(info, key(userpool.ClaimUsername))),
		Picture:       text(claim(info, key(userpool.ClaimPicture))),
	}
	kept := keep(info)
	kept["sub"] = p.Subject
	if p.Email != "" {
		kept["email"], kept["email_verified"] = p.Email, p.EmailVerified
	} else {
		p.EmailVerified = false
	}
	p.Claims = kept
	return p
}

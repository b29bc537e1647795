package connector

import (
	"context"
	"crypto/subtle"

	"errors"
	"fmt"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/authpool/authpool/internal/userpool"
)

// discoveryTTL bounds how long a discovery document (and the key set it
// names, which go-oidc refreshes itself on an unknown key id) is reused.
const discoveryTTL = 10 * time.Minute

type cachedProvider struct {
	p       *gooidc.Provider
	fetched time.Time
}

// provider returns issuer's provider, discovered at most discoveryTTL ago.
// go-oidc checks that the document names the same issuer.
func (g *Registry) provider(ctx context.Context, issuer string) (*gooidc.Provider, error) {
	g.mu.Lock()
	cp := g.providers[issuer]
	g.mu.Unlock()
	now := g.now()
	if cp != nil && now.Sub(cp.fetched) < discoveryTTL && now.Sub(cp.fetched) >= 0 {
		return cp.p, nil
	}
	// The provider keeps the context for its key set fetches: it must
	// outlive this request, and carry the client (whose timeout bounds
	// every fetch).
	p, err := gooidc.NewProvider(gooidc.ClientContext(context.WithoutCancel(ctx), g.client), issuer)
	if err != nil {
		return nil, Unreachable(fmt.Errorf("discovery of %s: %w", issuer, err))
	}
	g.mu.Lock()
	if len(g.providers) > 1024 {
		clear(g.providers)
	}
	g.providers[issuer] = &cachedProvider{p: p, fetched: now}
	g.mu.Unlock()
	return p, nil
}

// oidcUpstream is any OpenID provider found by discovery.
type oidcUpstream struct {
	g        *Registry
	c        *userpool.Connector
	secret   string
	redirect string
	// issuer overrides c.Issuer (a preset's fixed issuer).
	issuer string
	// claimsOnly: take the profile from the ID token alone.
	claimsOnly bool
	// authStyle: how the client authenticates at the token endpoint
	// (zero: x/oauth2 finds out).
	authStyle oauth2.AuthStyle
}

func (u *oidcUpstream) iss() string {
	if u.issuer != "" {
		return u.issuer
	}
	return u.c.Issuer
}

func (u *oidcUpstream) config(ctx context.Context) (*oauth2.Config, *gooidc.Provider, error) {
	p, err := u.g.provider(ctx, u.iss())
	if err != nil {
		return nil, nil, err
	}
	scopes := []string{gooidc.ScopeOpenID}
	for _, s := range u.c.Scopes {
		if s != gooidc.ScopeOpenID {
			scopes = append(scopes, s)
		}
	}
	if len(u.c.Scopes) == 0 {
		scopes = append(scopes, "email", "profile")
	}
	ep := p.Endpoint()
	ep.AuthStyle = u.authStyle
	if u.c.AuthURL != "" {
		ep.AuthURL = u.c.AuthURL
	}
	if u.c.TokenURL != "" {
		ep.TokenURL = u.c.TokenURL
	}
	return &oauth2.Config{ClientID: u.c.ClientID, ClientSecret: u.secret, Endpoint: ep, RedirectURL: u.redirect, Scopes: scopes}, p, nil
}

func (u *oidcUpstream) AuthURL(ctx context.Context, r Request) (string, error) {
	cfg, _, err := u.config(ctx)
	if err != nil {
		return "", err
	}
	return cfg.AuthCodeURL(r.State, gooidc.Nonce(r.Nonce), oauth2.S256ChallengeOption(r.Verifier)), nil
}

// Exchange redeems the code, then verifies the ID token: signature by the
// issuer's JWKS, issuer, audience (our client id), expiry, and the nonce
// this request sent. Userinfo claims (when the provider has the
// endpoint) complete the profile, for the same subject only.
func (u *oidcUpstream) Exchange(ctx context.Context, r Request, code string) (*Profile, error) {
	cfg, p, err := u.config(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := cfg.Exchange(u.g.ctx(ctx), code, oauth2.VerifierOption(r.Verifier))
	if err != nil {
		return nil, exchangeErr(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, Invalid(errors.New("the token answer has no id_token"))
	}
	idt, err := p.VerifierContext(u.g.ctx(ctx), &gooidc.Config{ClientID: u.c.ClientID, Now: u.g.now}).Verify(u.g.ctx(ctx), raw)
	if err != nil {
		return nil, Invalid(fmt.Errorf("id token: %w", err))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(r.Nonce)) != 1 {
		return nil, Invalid(errors.New("id token: nonce is not this request's"))
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, Invalid(err)
	}
	if !u.claimsOnly && p.UserInfoEndpoint() != "" && tok.AccessToken != "" {
		var info map[string]any
		if err := u.g.getJSON(ctx, p.UserInfoEndpoint(), tok.AccessToken, &info); err != nil {
			return nil, err
		}
		if s, _ := info["sub"].(string); s != idt.Subject {
			return nil, Invalid(errors.New("userinfo: subject is not the id token's"))
		}
		for k, v := range info {
			if _, ok := claims[k]; !ok {
				claims[k] = v
			}
		}
	}
	return finish(profileOf(idt.Subject, claims))
}

// profileOf reads the standard claims.
func profileOf(sub string, claims map[string]any) *Profile {
	p := &Profile{
		Subject: sub, Email: text(claims["email"]), EmailVerified: truth(claims["email_verified"]),
		Name: text(claims["name"]), Username: text(claims["preferred_username"]), Picture: text(claims["picture"]),
		Claims: keep(claims),
	}
	if p.Email == "" {
		p.EmailVerified = false
	}
	return p
}

package e2e

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/authpool/authpool/client"
)

const oidcPassword = "correct horse battery staple 9"

// TestOIDCCodeFlow is the provider end to end with go-oidc and oauth2: the
// discovery document at /oidc and at the root, code + PKCE through the
// hosted sign-in page, the ID token's claims, userinfo (GET and POST),
// refresh rotation and reuse detection (the family and its session
// revoked), introspection, revocation, single sign-on into a second app,
// and RP-initiated logout ending the session everywhere.
func TestOIDCCodeFlow(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		email := "ada@example.com"
		must[*client.User](t)(in.client().RegisterByEmail(ctx, email, oidcPassword, &client.RegisterProfile{Nickname: "Ada"}, nil))
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Shop", FirstParty: true,
			PostLogoutRedirectURIs: []string{"https://app.example.com/bye"}})

		// Discovery: Authing's paths, S256 only, the root document is the
		// default pool's.
		d := rp.discovery(t)
		for k, path := range map[string]string{
			"authorization_endpoint": "/oidc/auth", "token_endpoint": "/oidc/token", "userinfo_endpoint": "/oidc/me",
			"introspection_endpoint": "/oidc/token/introspection", "revocation_endpoint": "/oidc/token/revocation",
			"end_session_endpoint": "/oidc/session/end", "jwks_uri": "/oidc/.well-known/jwks.json",
		} {
			if d[k] != in.URL+path {
				t.Errorf("%s = %v, want %s", k, d[k], in.URL+path)
			}
		}
		if d["issuer"] != in.URL+"/oidc" {
			t.Errorf("issuer %v", d["issuer"])
		}
		if m, _ := d["code_challenge_methods_supported"].([]any); len(m) != 1 || m[0] != "S256" {
			t.Errorf("code_challenge_methods_supported %v", d["code_challenge_methods_supported"])
		}
		for _, g := range []string{"implicit", "password"} {
			if gt, _ := d["grant_types_supported"].([]any); slices.Contains(gt, any(g)) {
				t.Errorf("grant type %s advertised: %v", g, gt)
			}
		}
		root := newBrowser(t, in).get(in.URL + "/.well-known/openid-configuration")
		if root.Status != 200 || !strings.Contains(root.Body, `"issuer":"`+in.URL+`/oidc"`) {
			t.Errorf("root discovery: %d %s", root.Status, root.Body)
		}

		// Code + PKCE through the hosted page.
		b := newBrowser(t, in)
		ar := rp.authURL([]string{"openid", "profile", "email", "offline_access"})
		p := b.get(ar.URL)
		if p.Status != 200 || !strings.Contains(p.URL.Path, "/oidc/login") || !strings.Contains(p.Body, "Shop") {
			t.Fatalf("sign-in page: %d %s", p.Status, p.URL)
		}
		csp := p.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("CSP %q", csp)
		}
		// A wrong password is shown on the page, the form comes back.
		p2 := b.signIn(p, email, "wrong password 123")
		if p2.Location != "" || !strings.Contains(p2.Body, `id="error"`) {
			t.Fatalf("wrong password: %d %s", p2.Status, p2.Body)
		}
		p = b.signIn(p2, email, oidcPassword)
		q := ar.callback(t, rp, p)
		tok, idt := rp.exchange(t, ar, q.Get("code"))
		var claims struct {
			Azp      string   `json:"azp"`
			Sid      string   `json:"sid"`
			AuthTime int64    `json:"auth_time"`
			AMR      []string `json:"amr"`
			AtHash   string   `json:"at_hash"`
		}
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if claims.Azp != rp.app.ID || claims.Sid == "" || claims.AuthTime == 0 || !slices.Equal(claims.AMR, []string{"pwd"}) || claims.AtHash == "" {
			t.Errorf("ID token claims %+v", claims)
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Errorf("at_hash: %v", err)
		}
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token with offline_access")
		}
		// Userinfo through go-oidc (GET with the header), and POST with the
		// token in the body.
		ui, err := rp.provider.UserInfo(ctx, oauth2StaticSource(tok.AccessToken))
		if err != nil || ui.Email != email || ui.Subject != idt.Subject {
			t.Fatalf("userinfo: %+v %v", ui, err)
		}
		resp, err := http.PostForm(rp.endpoint(t, "userinfo_endpoint"), url.Values{"access_token": {tok.AccessToken}})
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("userinfo POST body: %v %v", resp, err)
		}
		resp.Body.Close()
		if in := rp.introspect(t, tok.AccessToken); in["active"] != true || in["client_id"] != rp.app.ID || in["sub"] != idt.Subject {
			t.Errorf("introspection: %v", in)
		}

		// SSO: a second app of the pool signs in without the form.
		rp2 := newRP(t, in, "", client.CreateAppRequest{Name: "Blog", FirstParty: true, RedirectURIs: []string{"https://blog.example.com/cb"}})
		ar2 := rp2.authURL(nil)
		p = b.get(ar2.URL)
		q2 := ar2.callback(t, rp2, p)
		tok2, idt2 := rp2.exchange(t, ar2, q2.Get("code"))
		if idt2.Subject != idt.Subject {
			t.Errorf("SSO subject %s, want %s", idt2.Subject, idt.Subject)
		}

		// Refresh rotation: the new refresh token works, the old one is a
		// reuse: the family and its session are revoked.
		tokenURL := rp.endpoint(t, "token_endpoint")
		st, r1 := rp.tokenCall(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, rp.app.ID, rp.app.ClientSecret)
		newRefresh, _ := r1["refresh_token"].(string)
		if st != 200 || newRefresh == "" || newRefresh == tok.RefreshToken || r1["access_token"] == "" {
			t.Fatalf("refresh: %d %v", st, r1)
		}
		st, r2 := rp.tokenCall(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, rp.app.ID, rp.app.ClientSecret)
		if st != 400 || r2["error"] != "invalid_grant" {
			t.Fatalf("reuse of a rotated refresh token: %d %v", st, r2)
		}
		st, r3 := rp.tokenCall(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {newRefresh}}, rp.app.ID, rp.app.ClientSecret)
		if st != 400 || r3["error"] != "invalid_grant" {
			t.Fatalf("the family's newest token after a reuse: %d %v", st, r3)
		}
		if in := rp.introspect(t, tok.AccessToken); in["active"] != false {
			t.Errorf("access token after reuse detection: %v", in)
		}
		// The session is revoked: the other app's token dies too, and the
		// browser must sign in again.
		if in := rp2.introspect(t, tok2.AccessToken); in["active"] != false {
			t.Errorf("SSO app's token after reuse detection: %v", in)
		}
		if code, _ := userinfo(t, rp2.endpoint(t, "userinfo_endpoint"), tok2.AccessToken); code != http.StatusUnauthorized && code != http.StatusForbidden {
			t.Errorf("userinfo after the session's revocation: %d", code)
		}
		ar3 := rp.authURL(nil)
		if p := b.get(ar3.URL); p.Location != "" || p.form(t, "password-form") == nil {
			t.Fatalf("after reuse detection the browser session must be gone: %+v", p)
		}

		// Revocation (RFC 7009) of an access token.
		tok, idt = b.codeFlow(rp, []string{"openid", "email"}, email, oidcPassword)
		st, _ = rp.tokenCall(t, rp.endpoint(t, "revocation_endpoint"), url.Values{"token": {tok.AccessToken}}, rp.app.ID, rp.app.ClientSecret)
		if st != 200 {
			t.Fatalf("revocation: %d", st)
		}
		if in := rp.introspect(t, tok.AccessToken); in["active"] != false {
			t.Errorf("revoked token: %v", in)
		}

		// RP-initiated logout: id_token_hint, exact post_logout_redirect_uri,
		// state; the session ends, so tokens are inactive at once.
		tok, idt = b.codeFlow(rp, []string{"openid"}, email, oidcPassword)
		rawID, _ := tok.Extra("id_token").(string)
		st0 := "bye-" + randomString()
		lo := b.get(rp.endpoint(t, "end_session_endpoint") + "?" + url.Values{
			"id_token_hint": {rawID}, "post_logout_redirect_uri": {"https://app.example.com/bye"}, "state": {st0},
		}.Encode())
		if lo.Location != "https://app.example.com/bye?state="+st0 {
			t.Fatalf("logout redirect %q (%d %s)", lo.Location, lo.Status, lo.Body)
		}
		if in := rp.introspect(t, tok.AccessToken); in["active"] != false {
			t.Errorf("token after logout: %v", in)
		}
		// A post-logout URI that is only a prefix match is not used.
		tok, _ = b.codeFlow(rp, []string{"openid"}, email, oidcPassword)
		rawID, _ = tok.Extra("id_token").(string)
		lo = b.get(rp.endpoint(t, "end_session_endpoint") + "?" + url.Values{
			"id_token_hint": {rawID}, "post_logout_redirect_uri": {"https://app.example.com/bye/more"},
		}.Encode())
		if strings.HasPrefix(lo.Location, "https://app.example.com/bye") {
			t.Errorf("logout redirected to an unregistered URI: %q", lo.Location)
		}
	})
}

type staticSource string

func oauth2StaticSource(tok string) staticSource { return staticSource(tok) }

var _ = gooidc.ScopeOpenID

func (s staticSource) Token() (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: string(s), TokenType: "Bearer"}, nil
}

package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/authpool/authpool/client"
)

// TestOIDCConsent: an app that is not first party shows the consent page
// once; the consent is remembered per user, app and scopes (a new scope
// asks again), listed and withdrawn through the native API and SDK, and a
// withdrawal revokes the app's tokens and asks again. Deny answers
// access_denied to the app.
func TestOIDCConsent(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		email := "grace@example.com"
		must[*client.User](t)(in.client().RegisterByEmail(ctx, email, oidcPassword, nil, nil))
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Third Party"})
		b := newBrowser(t, in)

		ar := rp.authURL([]string{"openid", "email"})
		p := b.signIn(b.get(ar.URL), email, oidcPassword)
		if p.Location != "" || !strings.Contains(p.Body, "Third Party") {
			t.Fatalf("no consent page: %d %q", p.Status, p.Location)
		}
		// A consent form from another browser (its CSRF token and cookie
		// do not match) is refused.
		other := newBrowser(t, in)
		f := p.form(t, "consent-form")
		if got := other.submit(p, f, map[string]string{"decision": "allow"}); got.Status != http.StatusForbidden {
			t.Errorf("foreign consent post: %d", got.Status)
		}
		q := ar.callback(t, rp, b.consent(p, "allow"))
		tok, _ := rp.exchange(t, ar, q.Get("code"))

		// Remembered: no page the second time.
		ar = rp.authURL([]string{"openid", "email"})
		q = ar.callback(t, rp, b.get(ar.URL))
		if q.Get("code") == "" {
			t.Fatalf("remembered consent: %v", q)
		}
		// A scope not granted yet asks again; deny answers access_denied.
		ar = rp.authURL([]string{"openid", "email", "phone"})
		p = b.get(ar.URL)
		if p.Location != "" {
			t.Fatalf("a new scope did not ask: %q", p.Location)
		}
		q = ar.callback(t, rp, b.consent(p, "deny"))
		if q.Get("error") != "access_denied" || q.Get("code") != "" {
			t.Fatalf("deny: %v", q)
		}
		// prompt=consent asks even when granted.
		ar = rp.authURL([]string{"openid"}, oauth2.SetAuthURLParam("prompt", "consent"))
		if p := b.get(ar.URL); p.Location != "" {
			t.Fatalf("prompt=consent did not ask")
		}

		// Listed and withdrawn through the SDK.
		c := in.client()
		must[*client.User](t)(c.LoginByEmail(ctx, email, oidcPassword, nil))
		list := must[[]client.GrantedApp](t)(c.ListGrantedApps(ctx))
		if len(list) != 1 || list[0].AppID != rp.app.ID || list[0].Name != "Third Party" || strings.Join(list[0].Scopes, " ") != "email openid" {
			t.Fatalf("granted apps: %+v", list)
		}
		if err := c.RevokeGrantedApp(ctx, rp.app.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, c.RevokeGrantedApp(ctx, rp.app.ID), 1004)
		wantCode(t, c.RevokeGrantedApp(ctx, strings.Repeat("x", 65)), 1004)
		if list := must[[]client.GrantedApp](t)(c.ListGrantedApps(ctx)); len(list) != 0 {
			t.Fatalf("after revoke: %+v", list)
		}
		if in := rp.introspect(t, tok.AccessToken); in["active"] != false {
			t.Errorf("token after the consent's withdrawal: %v", in)
		}
		ar = rp.authURL([]string{"openid", "email"})
		if p := b.get(ar.URL); p.Location != "" || p.form(t, "consent-form") == nil {
			t.Fatalf("withdrawn consent did not ask again")
		}
		_, err := in.client().ListGrantedApps(ctx)
		wantCode(t, err, 2020)
	})
}

// TestOIDCClientCredentials: a machine app gets a token for itself; a
// public client, a web app, a wrong secret and the password and implicit
// grants are refused.
func TestOIDCClientCredentials(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		in := start(t, adminConfig(dbURL), nil)
		m := newRP(t, in, "", client.CreateAppRequest{Name: "Cron", Type: client.AppTypeMachine, Scopes: []string{"orders:read"}})
		tokenURL := m.endpoint(t, "token_endpoint")
		st, out := m.tokenCall(t, tokenURL, url.Values{"grant_type": {"client_credentials"}, "scope": {"orders:read orders:write"}}, m.app.ID, m.app.ClientSecret)
		at, _ := out["access_token"].(string)
		if st != 200 || at == "" || out["refresh_token"] != nil {
			t.Fatalf("client credentials: %d %v", st, out)
		}
		if in := m.introspect(t, at); in["active"] != true || in["client_id"] != m.app.ID || in["scope"] != "orders:read" {
			t.Errorf("introspection of a client token: %v", in)
		}
		if code, _ := userinfo(t, m.endpoint(t, "userinfo_endpoint"), at); code == 200 {
			t.Error("a client's token got userinfo")
		}
		st, out = m.tokenCall(t, tokenURL, url.Values{"grant_type": {"client_credentials"}}, m.app.ID, m.app.ClientSecret+"x")
		if st != 401 || out["error"] != "invalid_client" {
			t.Errorf("wrong secret: %d %v", st, out)
		}
		spa := newRP(t, in, "", client.CreateAppRequest{Name: "SPA", Type: client.AppTypeSPA})
		st, out = spa.tokenCall(t, tokenURL, url.Values{"grant_type": {"client_credentials"}}, spa.app.ID, "")
		if st/100 != 4 || out["access_token"] != nil {
			t.Errorf("public client credentials: %d %v", st, out)
		}
		web := newRP(t, in, "", client.CreateAppRequest{Name: "Web"})
		st, out = web.tokenCall(t, tokenURL, url.Values{"grant_type": {"client_credentials"}}, web.app.ID, web.app.ClientSecret)
		if st/100 != 4 || out["access_token"] != nil {
			t.Errorf("web app client credentials: %d %v", st, out)
		}
		st, out = web.tokenCall(t, tokenURL, url.Values{"grant_type": {"password"}, "username": {"a"}, "password": {"b"}}, web.app.ID, web.app.ClientSecret)
		if st/100 != 4 || out["access_token"] != nil {
			t.Errorf("password grant: %d %v", st, out)
		}
		// Implicit: response_type=token is refused, never answered with a token.
		b := newBrowser(t, in)
		p := b.get(web.endpoint(t, "authorization_endpoint") + "?" + url.Values{"client_id": {web.app.ID}, "response_type": {"token"},
			"redirect_uri": {"https://app.example.com/callback"}, "scope": {"openid"}, "state": {"s"}, "nonce": {"n"}}.Encode())
		if strings.Contains(p.Location, "access_token") || (p.Location != "" && !strings.Contains(p.Location, "error=")) {
			t.Errorf("implicit: %q", p.Location)
		}
		// Revocation of a client token.
		st, _ = m.tokenCall(t, m.endpoint(t, "revocation_endpoint"), url.Values{"token": {at}}, m.app.ID, m.app.ClientSecret)
		if in := m.introspect(t, at); st != 200 || in["active"] != false {
			t.Errorf("revoked client token: %d %v", st, in)
		}
	})
}

// TestOIDCNegative: what a hostile client or browser tries.
func TestOIDCNegative(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		clk := newClock()
		in := start(t, adminConfig(dbURL), clk)
		email := "mallory-target@example.com"
		u := must[*client.User](t)(in.client().RegisterByEmail(ctx, email, oidcPassword, nil, nil))
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Shop", FirstParty: true})
		spa := newRP(t, in, "", client.CreateAppRequest{Name: "SPA", Type: client.AppTypeSPA, FirstParty: true, RedirectURIs: []string{"https://spa.example.com/cb"}})
		authz := rp.endpoint(t, "authorization_endpoint")
		tokenURL := rp.endpoint(t, "token_endpoint")

		// Unregistered and prefix-matched redirect URIs: an error on the
		// page, never a redirect.
		for _, ru := range []string{"https://evil.example.com/callback", "https://app.example.com/callback/x", "https://app.example.com/callbackx",
			"https://app.example.com/callback?x=1", "https://APP.example.com/callback", "http://app.example.com/callback", ""} {
			p := newBrowser(t, in).get(authz + "?" + url.Values{"client_id": {rp.app.ID}, "response_type": {"code"}, "redirect_uri": {ru},
				"scope": {"openid"}, "state": {"s"}, "code_challenge": {"x"}, "code_challenge_method": {"S256"}}.Encode())
			if p.Location != "" || p.Status != http.StatusBadRequest {
				t.Errorf("redirect_uri %q: status %d, location %q", ru, p.Status, p.Location)
			}
		}
		// Unknown client: shown, not redirected.
		if p := newBrowser(t, in).get(authz + "?client_id=nope&response_type=code&redirect_uri=https://app.example.com/callback&scope=openid"); p.Location != "" {
			t.Errorf("unknown client redirected to %q", p.Location)
		}

		// PKCE: plain refused; a public client without PKCE refused.
		b := newBrowser(t, in)
		p := b.get(authz + "?" + url.Values{"client_id": {spa.app.ID}, "response_type": {"code"}, "redirect_uri": {"https://spa.example.com/cb"},
			"scope": {"openid"}, "state": {"s1"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"plain"}}.Encode())
		if !strings.Contains(p.Location, "error=invalid_request") || !strings.Contains(p.Location, "state=s1") {
			t.Errorf("plain PKCE: %d %q", p.Status, p.Location)
		}
		p = b.get(authz + "?" + url.Values{"client_id": {spa.app.ID}, "response_type": {"code"}, "redirect_uri": {"https://spa.example.com/cb"},
			"scope": {"openid"}, "state": {"s2"}}.Encode())
		if !strings.Contains(p.Location, "error=invalid_request") {
			t.Errorf("public client without PKCE: %d %q", p.Status, p.Location)
		}

		// prompt=none without a session: login_required to the app.
		ar := rp.authURL(nil, oauth2.SetAuthURLParam("prompt", "none"))
		if q := ar.callback(t, rp, newBrowser(t, in).get(ar.URL)); q.Get("error") != "login_required" {
			t.Errorf("prompt=none: %v", q)
		}

		// CSRF: a sign-in post without the token, and one with another
		// browser's token, are refused (and sign nobody in).
		ar = rp.authURL(nil)
		p = b.get(ar.URL)
		f := p.form(t, "password-form")
		noTok := b.submit(p, &htmlForm{Action: f.Action, Fields: url.Values{"authRequestID": f.Fields["authRequestID"]}},
			map[string]string{"identifier": email, "password": oidcPassword})
		if noTok.Status != http.StatusForbidden || noTok.Location != "" {
			t.Errorf("sign-in without CSRF token: %d %q", noTok.Status, noTok.Location)
		}
		foreign := newBrowser(t, in)
		fp := foreign.get(rp.authURL(nil).URL)
		ff := fp.form(t, "password-form")
		forged := b.submit(p, &htmlForm{Action: f.Action, Fields: url.Values{"authRequestID": f.Fields["authRequestID"], "csrf": ff.Fields["csrf"]}},
			map[string]string{"identifier": email, "password": oidcPassword})
		if forged.Status != http.StatusForbidden || forged.Location != "" {
			t.Errorf("sign-in with a foreign CSRF token: %d %q", forged.Status, forged.Location)
		}

		// Codes: a missing or wrong verifier fails; a code is single use
		// and a replay revokes the first exchange's tokens; an expired
		// code fails.
		code := func() (*authRequest, string) {
			ar := rp.authURL(nil)
			p := b.get(ar.URL)
			if p.Location == "" {
				p = b.signIn(p, email, oidcPassword)
			}
			return ar, ar.callback(t, rp, p).Get("code")
		}
		ar, c := code()
		if _, err := rp.conf.Exchange(ctx, c, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
			t.Error("a wrong verifier exchanged")
		}
		if _, err := rp.conf.Exchange(ctx, c); err == nil {
			t.Error("a missing verifier exchanged")
		}
		tok, _ := rp.exchange(t, ar, c) // failed attempts did not spend it
		if _, err := rp.conf.Exchange(ctx, c, oauth2.VerifierOption(ar.Verifier)); err == nil {
			t.Error("a code was exchanged twice")
		}
		if in := rp.introspect(t, tok.AccessToken); in["active"] != false {
			t.Errorf("the first exchange's token after a replay: %v", in)
		}
		ar, c = code()
		clk.Advance(61 * time.Second)
		if _, err := rp.conf.Exchange(ctx, c, oauth2.VerifierOption(ar.Verifier)); err == nil {
			t.Error("an expired code exchanged")
		}
		// A code is bound to its client.
		ar, c = code()
		st, out := rp.tokenCall(t, tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {c}, "code_verifier": {ar.Verifier},
			"redirect_uri": {"https://spa.example.com/cb"}}, spa.app.ID, "")
		if st/100 != 4 || out["access_token"] != nil {
			t.Errorf("another client's code: %d %v", st, out)
		}
		// Wrong client secret.
		ar, c = code()
		st, out = rp.tokenCall(t, tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {c}, "code_verifier": {ar.Verifier},
			"redirect_uri": {rp.conf.RedirectURL}}, rp.app.ID, rp.app.ClientSecret+"x")
		if st != 401 || out["error"] != "invalid_client" {
			t.Errorf("wrong secret: %d %v", st, out)
		}
		// Garbage refresh tokens and tokens.
		for _, rt := range []string{"", "apr_x", "apr_" + strings.Repeat("a", 32) + ".0.AAAA", strings.Repeat("x", 5000)} {
			st, out = rp.tokenCall(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, rp.app.ID, rp.app.ClientSecret)
			if st/100 != 4 || out["access_token"] != nil {
				t.Errorf("refresh token %.20q: %d %v", rt, st, out)
			}
		}

		// Block: tokens become inactive at once.
		tok, _ = b.codeFlow(rp, nil, email, oidcPassword)
		must[*client.BlockedUser](t)(in.admin().BlockUser(ctx, "default", u.ID))
		if in := rp.introspect(t, tok.AccessToken); in["active"] != false {
			t.Errorf("token of a blocked user: %v", in)
		}
		if code, _ := userinfo(t, rp.endpoint(t, "userinfo_endpoint"), tok.AccessToken); code == 200 {
			t.Error("userinfo for a blocked user")
		}
	})
}

// TestOIDCPools: another pool is its own issuer under /oidc/pools/{id}; a
// token of one pool is refused at the other's userinfo and introspection,
// and the browser session of one pool does not sign in to the other.
func TestOIDCPools(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		pb := must[*client.Pool](t)(in.admin().CreatePool(ctx, client.CreatePoolRequest{Name: "Pool B"}))
		email := "pat@example.com"
		must[*client.User](t)(in.client().RegisterByEmail(ctx, email, oidcPassword, nil, nil))
		cb := client.NewAuthenticationClient(client.Options{AppHost: in.URL, UserPoolID: pb.ID, Timeout: 30 * time.Second})
		must[*client.User](t)(cb.RegisterByEmail(ctx, email, oidcPassword, nil, nil))
		rpA := newRP(t, in, "", client.CreateAppRequest{Name: "A", FirstParty: true})
		rpB := newRP(t, in, pb.ID, client.CreateAppRequest{Name: "B", FirstParty: true})
		if rpB.issuer != in.URL+"/oidc/pools/"+pb.ID || rpB.endpoint(t, "userinfo_endpoint") != rpB.issuer+"/me" {
			t.Fatalf("pool B's issuer %s", rpB.issuer)
		}
		b := newBrowser(t, in)
		tokA, idA := b.codeFlow(rpA, nil, email, oidcPassword)
		// The session of pool A does not sign in to pool B.
		arB := rpB.authURL(nil)
		if p := b.get(arB.URL); p.Location != "" {
			t.Fatalf("pool A's session signed in to pool B: %q", p.Location)
		}
		tokB, idB := b.codeFlow(rpB, nil, email, oidcPassword)
		if idA.Subject == idB.Subject || idB.Issuer != rpB.issuer {
			t.Errorf("subjects %s %s, issuer %s", idA.Subject, idB.Subject, idB.Issuer)
		}
		if code, _ := userinfo(t, rpB.endpoint(t, "userinfo_endpoint"), tokA.AccessToken); code == 200 {
			t.Error("pool A's token at pool B's userinfo")
		}
		if code, _ := userinfo(t, rpA.endpoint(t, "userinfo_endpoint"), tokB.AccessToken); code == 200 {
			t.Error("pool B's token at pool A's userinfo")
		}
		if in := rpB.introspect(t, tokA.AccessToken); in["active"] != false {
			t.Errorf("pool A's token introspected at pool B: %v", in)
		}
		// The default pool is reachable only at /oidc, unknown pools not at all.
		for _, path := range []string{"/oidc/pools/" + in.Srv.DefaultPoolID() + "/.well-known/openid-configuration", "/oidc/pools/nope/.well-known/openid-configuration",
			"/oidc/pools/" + strings.Repeat("x", 100) + "/auth"} {
			if p := b.get(in.URL + path); p.Status != http.StatusNotFound {
				t.Errorf("%s: %d", path, p.Status)
			}
		}
	})
}

// TestOIDCPrompts: with a browser session, prompt=login and an exceeded
// max_age show the sign-in form again, a fitting max_age and prompt=none
// answer at once (auth_time unchanged), login_hint fills the identifier,
// and an id_token_hint of another user is not answered by this session.
func TestOIDCPrompts(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		for _, e := range []string{"kim@example.com", "lee@example.com"} {
			must[*client.User](t)(in.client().RegisterByEmail(ctx, e, oidcPassword, nil, nil))
		}
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Shop", FirstParty: true})
		b := newBrowser(t, in)
		ar := rp.authURL(nil, oauth2.SetAuthURLParam("login_hint", "kim@example.com"))
		p := b.get(ar.URL)
		if f := p.form(t, "password-form"); f.Fields.Get("identifier") != "kim@example.com" {
			t.Errorf("login_hint: %v", f.Fields)
		}
		_, idt := rp.exchange(t, ar, ar.callback(t, rp, b.signIn(p, "kim@example.com", oidcPassword)).Get("code"))
		var first struct {
			AuthTime int64 `json:"auth_time"`
		}
		_ = idt.Claims(&first)
		rawHint := ""
		{
			ar := rp.authURL(nil)
			tok, _ := rp.exchange(t, ar, ar.callback(t, rp, b.get(ar.URL)).Get("code"))
			rawHint, _ = tok.Extra("id_token").(string)
		}

		in.Clock.Advance(5 * time.Second)
		for _, c := range []struct {
			name   string
			params []oauth2.AuthCodeOption
			form   bool
		}{
			{"prompt=none", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "none")}, false},
			{"max_age=3600", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("max_age", "3600")}, false},
			{"id_token_hint of the user", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("id_token_hint", rawHint)}, false},
			{"prompt=login", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "login")}, true},
			{"max_age=2", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("max_age", "2")}, true},
		} {
			ar := rp.authURL(nil, c.params...)
			p := b.get(ar.URL)
			if c.form != (p.Location == "") {
				t.Errorf("%s: form shown %v, want %v (%q)", c.name, p.Location == "", c.form, p.Location)
				continue
			}
			if !c.form {
				_, idt := rp.exchange(t, ar, ar.callback(t, rp, p).Get("code"))
				var got struct {
					AuthTime int64 `json:"auth_time"`
				}
				_ = idt.Claims(&got)
				if got.AuthTime != first.AuthTime {
					t.Errorf("%s: auth_time %d, want the session's %d", c.name, got.AuthTime, first.AuthTime)
				}
			}
		}
		// Another user's id_token_hint: this session does not answer.
		other := newBrowser(t, in)
		tok, _ := other.codeFlow(rp, nil, "lee@example.com", oidcPassword)
		leeHint, _ := tok.Extra("id_token").(string)
		ar = rp.authURL(nil, oauth2.SetAuthURLParam("id_token_hint", leeHint), oauth2.SetAuthURLParam("prompt", "none"))
		if q := ar.callback(t, rp, b.get(ar.URL)); q.Get("error") != "login_required" {
			t.Errorf("another user's id_token_hint with prompt=none: %v", q)
		}
	})
}

package e2e

import (
	"context"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/authpool/authpool/client"
)

// TestOIDCIntrospectionByAnotherApp: another confidential app of the pool
// (a resource server the token was sent to) learns whether a token is
// active, for whom and which scopes, but not the user's claims or the
// session id, which only the app the user granted them to reads. Found by
// review (any app read the user's email and sid); failed before the fix.
func TestOIDCIntrospectionByAnotherApp(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		email := "intro@example.com"
		must[*client.User](t)(in.client().RegisterByEmail(ctx, email, oidcPassword, nil, nil))
		shop := newRP(t, in, "", client.CreateAppRequest{Name: "Shop", FirstParty: true})
		tok, _ := newBrowser(t, in).codeFlow(shop, []string{"openid", "email"}, email, oidcPassword)
		other := newRP(t, in, "", client.CreateAppRequest{Name: "Reports", Type: client.AppTypeMachine, Scopes: []string{"reports"}})
		out := other.introspect(t, tok.AccessToken)
		if out["active"] != true || out["client_id"] != shop.app.ID || out["sub"] == nil {
			t.Fatalf("another app's introspection: %v, want active with client_id and sub", out)
		}
		for _, claim := range []string{"email", "email_verified", "sid"} {
			if _, ok := out[claim]; ok {
				t.Fatalf("app %s read %s of app %s's user token: %v", other.app.ID, claim, shop.app.ID, out)
			}
		}
		own := shop.introspect(t, tok.AccessToken)
		if own["active"] != true || own["email"] != email || own["sid"] == nil {
			t.Fatalf("the token's own app: %v, want active with email and sid", own)
		}
	})
}

// TestOIDCWithdrawnConsentVoidsPendingCode: a code issued before the user
// withdrew their consent, and not yet exchanged, gets no tokens. Found by
// review (the exchange made a grant without consent); failed before the fix.
func TestOIDCWithdrawnConsentVoidsPendingCode(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		email := "withdraw@example.com"
		must[*client.User](t)(in.client().RegisterByEmail(ctx, email, oidcPassword, nil, nil))
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Third Party"})
		b := newBrowser(t, in)
		ar := rp.authURL([]string{"openid", "email"})
		q := ar.callback(t, rp, b.consent(b.signIn(b.get(ar.URL), email, oidcPassword), "allow"))
		if q.Get("code") == "" {
			t.Fatalf("no code: %v", q)
		}
		c := in.client()
		must[*client.User](t)(c.LoginByEmail(ctx, email, oidcPassword, nil))
		if err := c.RevokeGrantedApp(ctx, rp.app.ID); err != nil {
			t.Fatal(err)
		}
		if tok, err := rp.conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(ar.Verifier)); err == nil {
			t.Fatalf("a code issued before the consent was withdrawn got tokens: %v", tok.AccessToken != "")
		}
	})
}

// TestOIDCRefreshNarrowsScope: a refresh that asks for fewer scopes (RFC
// 6749 §6) gets an access token that reads only those at userinfo, and
// the family keeps the narrower set. Found by review (the grant's full
// scopes stayed); failed before the fix.
func TestOIDCRefreshNarrowsScope(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		email := "narrow@example.com"
		must[*client.User](t)(in.client().RegisterByEmail(ctx, email, oidcPassword, nil, nil))
		shop := newRP(t, in, "", client.CreateAppRequest{Name: "Shop", FirstParty: true})
		tok, _ := newBrowser(t, in).codeFlow(shop, []string{"openid", "email", "offline_access"}, email, oidcPassword)
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token")
		}
		st, out := shop.tokenCall(t, shop.endpoint(t, "token_endpoint"), url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {tok.RefreshToken}, "scope": {"openid"}}, shop.app.ID, shop.app.ClientSecret)
		at, _ := out["access_token"].(string)
		if st != 200 || at == "" {
			t.Fatalf("refresh: %d %v", st, out)
		}
		code, info := userinfo(t, shop.endpoint(t, "userinfo_endpoint"), at)
		if code == 200 && info["email"] != nil {
			t.Fatalf("access token refreshed with scope=openid still reads the email at userinfo: %v (token answer scope %v)", info, out["scope"])
		}
	})
}

package e2e

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/authpool/authpool/client"
)

// TestSocialOIDCUpstream: a second authpool server is the upstream. The
// first sign-in creates a user (the verified email becomes the
// account's) holding the identity; the token works; a second sign-in is
// the same user; the identity shows in the SDK and the admin API; the
// identity, the account's only way in, cannot be unlinked.
func TestSocialOIDCUpstream(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		s := newSocial(t, dbURL)
		sub := s.upstreamUser(t, "ada@example.com", true)

		c, u, err := s.exchange(t, s.signIn(t, "ada@example.com"))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		if !u.NewlyCreated || u.Email != "ada@example.com" || !u.EmailVerified || u.Token == "" || u.LoginsCount != 1 {
			t.Fatalf("first sign-in: %+v", u)
		}
		me := must[*client.User](t)(c.GetCurrentUser(ctx))
		if me.ID != u.ID {
			t.Fatalf("token is %s's, want %s", me.ID, u.ID)
		}
		ids := must[[]client.Identity](t)(c.ListIdentities(ctx))
		if len(ids) != 1 || ids[0].Provider != "upstream" || ids[0].Subject != sub || !strings.Contains(string(ids[0].Data), `"email":"ada@example.com"`) {
			t.Fatalf("identities: %+v", ids)
		}
		au := must[*client.User](t)(s.down.admin().GetUser(ctx, "default", u.ID))
		if len(au.Identities) != 1 || au.Identities[0].Subject != sub {
			t.Fatalf("admin user's identities: %+v", au.Identities)
		}

		_, again, err := s.exchange(t, s.signIn(t, "ada@example.com"))
		if err != nil {
			t.Fatalf("second exchange: %v", err)
		}
		if again.ID != u.ID || again.NewlyCreated || again.LoginsCount != 2 {
			t.Fatalf("second sign-in: %+v", again)
		}
		if n := s.userCount(t); n != 1 {
			t.Fatalf("%d users, want 1", n)
		}
		wantCode(t, c.UnlinkIdentity(ctx, "upstream", sub), 2217)
		wantCode(t, c.UnlinkIdentity(ctx, "upstream", "someone-else"), 1004)
	})
}

// TestSocialStateAndCode: the callback's state is single use and bound
// to the browser that started the sign-in; a forged state is refused;
// the one-time code works once, only with its redirect URI.
func TestSocialStateAndCode(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		s := newSocial(t, dbURL)
		s.upstreamUser(t, "bob@example.com", true)

		// Another browser presenting a valid callback: refused, and the
		// state is spent (its owner cannot use it afterwards either).
		b := newSocialBrowser(t, s)
		b.stopAtCallback = true
		cb := b.toUpstream(s, "bob@example.com", "").Location
		if !strings.Contains(cb, "/api/v1/social/callback?") {
			t.Fatalf("no redirect to the callback: %q", cb)
		}
		thief := newSocialBrowser(t, s)
		p := thief.get(cb)
		if p.Status != 400 || !strings.Contains(p.Body, "2801") {
			t.Fatalf("callback in another browser: %d\n%s", p.Status, p.Body)
		}
		p = b.get(cb)
		if p.Status != 400 || !strings.Contains(p.Body, "2801") {
			t.Fatalf("callback after the theft: %d\n%s", p.Status, p.Body)
		}

		// Replayed callback: the first one works, the replay is refused.
		b = newSocialBrowser(t, s)
		b.stopAtCallback = true
		cb = b.toUpstream(s, "bob@example.com", "").Location
		q := atApp(t, b.get(cb))
		p = b.get(cb)
		if p.Status != 400 || !strings.Contains(p.Body, "social_state_invalid") {
			t.Fatalf("replayed callback: %d\n%s", p.Status, p.Body)
		}

		// A state that was never issued (or altered).
		b = newSocialBrowser(t, s)
		b.stopAtCallback = true
		cb = b.toUpstream(s, "bob@example.com", "").Location
		u, _ := url.Parse(cb)
		v := u.Query()
		v.Set("state", v.Get("state")+"x")
		u.RawQuery = v.Encode()
		if p = b.get(u.String()); p.Status != 400 || !strings.Contains(p.Body, "2801") {
			t.Fatalf("altered state: %d\n%s", p.Status, p.Body)
		}

		// The code: wrong redirect URI refused (and spent), then a fresh
		// code works once.
		ctx := context.Background()
		_, err := s.down.client().ExchangeSocialCode(ctx, q.Get("code"), "https://app.example.com/other")
		wantCode(t, err, 2801)
		_, _, err = s.exchange(t, q.Get("code"))
		wantCode(t, err, 2801)
		code := s.signIn(t, "bob@example.com")
		if _, _, err := s.exchange(t, code); err != nil {
			t.Fatalf("exchange: %v", err)
		}
		_, _, err = s.exchange(t, code)
		wantCode(t, err, 2801)
		_, _, err = s.exchange(t, "never-issued")
		wantCode(t, err, 2801)
	})
}

// TestSocialAuthorizeRefusals: an unregistered redirect URI, an unknown
// or disabled connector, an upstream that cannot be reached: coded
// errors, no redirect anywhere, nothing created.
func TestSocialAuthorizeRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		s := newSocial(t, dbURL)
		b := newSocialBrowser(t, s)
		c := s.down.client()
		for _, tc := range []struct {
			name, url string
			status    int
			code      string
		}{
			{"unregistered redirect", c.BuildSocialAuthorizeURL("upstream", "https://evil.example/cb", ""), 400, "1003"},
			{"redirect prefix", c.BuildSocialAuthorizeURL("upstream", socialAppRedirect+"/more", ""), 400, "1003"},
			{"no redirect", s.down.URL + "/api/v1/social/upstream/authorize", 400, "1003"},
			{"unknown connector", c.BuildSocialAuthorizeURL("nope", socialAppRedirect, ""), 400, "2806"},
			{"bad connector id", c.BuildSocialAuthorizeURL("UP STREAM", socialAppRedirect, ""), 400, "2806"},
			{"state too long", c.BuildSocialAuthorizeURL("upstream", socialAppRedirect, strings.Repeat("s", 513)), 400, "1003"},
		} {
			p := b.get(tc.url)
			if p.Status != tc.status || p.Location != "" || !strings.Contains(p.Body, `"code":`+tc.code) {
				t.Errorf("%s: %d %q\n%s", tc.name, p.Status, p.Location, p.Body)
			}
		}
		off := false
		must[*client.Connector](t)(s.down.admin().UpdateConnector(ctx, "default", "upstream", client.UpdateConnectorRequest{Enabled: &off}))
		if p := b.get(c.BuildSocialAuthorizeURL("upstream", socialAppRedirect, "")); p.Status != 400 || !strings.Contains(p.Body, `"code":2806`) {
			t.Errorf("disabled connector: %d\n%s", p.Status, p.Body)
		}
		// An issuer nobody answers at: 2802, and no user.
		must[*client.Connector](t)(s.down.admin().CreateConnector(ctx, "default", client.CreateConnectorRequest{
			ID: "down", Type: client.ConnectorOIDC, Issuer: "http://127.0.0.1:1/oidc", ClientID: "x",
		}))
		if p := b.get(c.BuildSocialAuthorizeURL("down", socialAppRedirect, "")); p.Status != 502 || !strings.Contains(p.Body, `"reason":"upstream_unreachable"`) {
			t.Errorf("unreachable upstream: %d\n%s", p.Status, p.Body)
		}
		if n := s.userCount(t); n != 0 {
			t.Errorf("%d users after refusals", n)
		}
	})
}

// TestSocialUpstreamFailures: the upstream answers an error, or goes down
// between the authorization and the callback: the app gets 2802 through
// its code, and no user is created.
func TestSocialUpstreamFailures(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		s := newSocial(t, dbURL)
		s.upstreamUser(t, "cy@example.com", true)

		// The upstream's error page: error=access_denied back to the callback.
		b := newSocialBrowser(t, s)
		b.stopAtHost = strings.TrimPrefix(s.up.URL, "http://")
		p := b.get(s.down.client().BuildSocialAuthorizeURL("upstream", socialAppRedirect, "st"))
		to, err := url.Parse(p.Location)
		if err != nil || to.Query().Get("state") == "" || to.Query().Get("code_challenge_method") != "S256" || to.Query().Get("nonce") == "" {
			t.Fatalf("not sent to the upstream with state, nonce and PKCE: %q", p.Location)
		}
		state := to.Query().Get("state")
		q := atApp(t, b.get(s.down.URL+"/api/v1/social/callback?error=access_denied&state="+url.QueryEscape(state)))
		if q.Get("state") != "st" {
			t.Fatalf("app state: %v", q)
		}
		_, _, err = s.exchange(t, q.Get("code"))
		if ce := wantCode(t, err, 2802); ce.Reason != "upstream_refused" {
			t.Fatalf("reason %s", ce.Reason)
		}

		// The upstream goes down after the user signed in there.
		b = newSocialBrowser(t, s)
		b.stopAtCallback = true
		cb := b.toUpstream(s, "cy@example.com", "").Location
		s.up.stop()
		q = atApp(t, b.get(cb))
		_, _, err = s.exchange(t, q.Get("code"))
		if ce := wantCode(t, err, 2802); ce.Reason != "upstream_unreachable" {
			t.Fatalf("reason %s", ce.Reason)
		}
		if n := s.userCount(t); n != 0 {
			t.Fatalf("%d users after failed sign-ins", n)
		}
	})
}

// TestSocialRaceFirstSignIn: two first sign-ins with one upstream
// identity, their callbacks at once: one user, both signed in to it.
func TestSocialRaceFirstSignIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		s := newSocial(t, dbURL)
		s.upstreamUser(t, "dee@example.com", true)
		const n = 4
		browsers := make([]*socialBrowser, n)
		cbs := make([]string, n)
		for i := range n {
			browsers[i] = newSocialBrowser(t, s)
			browsers[i].stopAtCallback = true
			cbs[i] = browsers[i].toUpstream(s, "dee@example.com", "").Location
		}
		codes := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				p := browsers[i].get(cbs[i])
				if u, err := url.Parse(p.Location); err == nil {
					codes[i] = u.Query().Get("code")
				}
			})
		}
		wg.Wait()
		ids := map[string]bool{}
		for i, code := range codes {
			_, u, err := s.exchange(t, code)
			if err != nil {
				t.Fatalf("sign-in %d: %v", i, err)
			}
			ids[u.ID] = true
		}
		if len(ids) != 1 || s.userCount(t) != 1 {
			t.Fatalf("%d distinct users signed in, %d stored; want 1 and 1", len(ids), s.userCount(t))
		}
	})
}

package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/authpool/authpool/client"
)

// TestSocialHostedPage: an OpenID authorization that starts on the
// server's hosted sign-in page continues through the connector's button
// to the upstream and back, and ends at the relying party with an ID
// token for the user the identity made. A second authorization offered
// an existing account's email goes through the link step: the password
// form carries the link token, and signing in confirms the link.
func TestSocialHostedPage(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		s := newSocial(t, dbURL)
		s.upstreamUser(t, "ida@example.com", true)
		rp := newRP(t, s.down, "", client.CreateAppRequest{Name: "RP", FirstParty: true})

		b := newSocialBrowser(t, s)
		ar := rp.authURL(nil)
		p := b.get(ar.URL)
		f := p.form(t, "social-form")
		if !strings.Contains(p.Body, `id="social-upstream"`) || !strings.Contains(p.Body, ">Upstream</button>") {
			t.Fatalf("no button for the connector:\n%s", p.Body)
		}
		p = b.submit(p, f, map[string]string{"connector": "upstream"})
		p = b.signIn(p, "ida@example.com", socialPassword)
		q := ar.callback(t, rp, p)
		_, idt := rp.exchange(t, ar, q.Get("code"))
		u := must[*client.User](t)(s.down.admin().GetUser(ctx, "default", idt.Subject))
		if u.Email != "ida@example.com" || len(u.Identities) != 1 {
			t.Fatalf("the ID token's user: %+v", u)
		}
		var claims struct {
			AMR []string `json:"amr"`
		}
		_ = idt.Claims(&claims)
		if len(claims.AMR) != 1 || claims.AMR[0] != "fed" {
			t.Errorf("amr %v, want [fed]", claims.AMR)
		}

		// acr_values asking for MFA holds through the upstream: the
		// sign-in stops at the second-factor step (this user has no
		// factor: enrolment), no code reaches the app (review: the
		// callback's login had lost the request's RequireMFA).
		bm := newSocialBrowser(t, s)
		arm := rp.authURL(nil, oauth2.SetAuthURLParam("acr_values", "mfa"))
		p = bm.get(arm.URL)
		p = bm.submit(p, p.form(t, "social-form"), map[string]string{"connector": "upstream"})
		p = bm.signIn(p, "ida@example.com", socialPassword)
		if p.Location != "" {
			t.Fatalf("acr_values=mfa: a social sign-in went to the app without a second factor: %s", p.Location)
		}
		if !strings.Contains(p.Body, `name="mfaToken"`) && !strings.Contains(p.Body, "two-step verification") {
			t.Fatalf("acr_values=mfa: no second-factor step (%d):\n%s", p.Status, p.Body)
		}

		// A forged button (CSRF token missing) is refused.
		b2 := newSocialBrowser(t, s)
		ar2 := rp.authURL(nil)
		p = b2.get(ar2.URL)
		f = p.form(t, "social-form")
		f.Fields.Del("csrf")
		if p = b2.submit(p, f, map[string]string{"connector": "upstream"}); p.Status != http.StatusForbidden {
			t.Fatalf("social start without CSRF token: %d", p.Status)
		}

		// The link step on the hosted page.
		must[*client.User](t)(s.down.client().RegisterByEmail(ctx, "jo@example.com", "Harbor-Fennel-52", nil, nil))
		s.upstreamUser(t, "jo@example.com", true)
		b3 := newSocialBrowser(t, s)
		ar3 := rp.authURL(nil)
		p = b3.get(ar3.URL)
		p = b3.submit(p, p.form(t, "social-form"), map[string]string{"connector": "upstream"})
		p = b3.signIn(p, "jo@example.com", socialPassword)
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `name="linkToken"`) || !strings.Contains(p.Body, "Sign in to it first") {
			t.Fatalf("link step: %d\n%s", p.Status, p.Body)
		}
		p = b3.signIn(p, "jo@example.com", "Harbor-Fennel-52")
		q = ar3.callback(t, rp, p)
		_, idt = rp.exchange(t, ar3, q.Get("code"))
		u = must[*client.User](t)(s.down.admin().GetUser(ctx, "default", idt.Subject))
		if u.Email != "jo@example.com" || len(u.Identities) != 1 || u.Identities[0].Provider != "upstream" {
			t.Fatalf("after the link step: %+v", u)
		}
	})
}

// TestSocialBrowser: the same sign-in in headless Chromium: the button on
// the hosted page, the upstream's own hosted page, back through the
// callback (the binding cookie set by the first server reaches it), to a
// native app's loopback redirect; then the account page lists the
// identity and refuses to unlink the account's only way to sign in.
func TestSocialBrowser(t *testing.T) {
	if chromiumPath() == "" {
		t.Skip("no chromium binary found (install Debian's chromium package; .ci/run does)")
	}
	eachBackend(t, func(t *testing.T, dbURL string) {
		s := newSocial(t, dbURL)
		s.upstreamUser(t, "kai@example.com", true)
		codes := make(chan url.Values, 2)
		cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/cb" {
				http.NotFound(w, r)
				return
			}
			codes <- r.URL.Query()
			_, _ = w.Write([]byte("<!doctype html><title>done</title><p id=done>done</p>"))
		}))
		defer cb.Close()
		rp := newRP(t, s.down, "", client.CreateAppRequest{Name: "Desktop", Type: client.AppTypeNative, FirstParty: true,
			RedirectURIs: []string{"http://127.0.0.1/cb"}})
		rp.conf.RedirectURL = cb.URL + "/cb"

		bctx, cancel := newChromium(t)
		defer cancel()
		ar := rp.authURL(nil)
		if err := chromedp.Do(bctx,
			chromedp.Navigate(ar.URL), chromedp.WaitVisible(chromedp.ID("social-upstream")),
			chromedp.Click(chromedp.ID("social-upstream")),
		); err != nil {
			t.Fatal(err)
		}
		// The server's own page has an identifier field too: wait until
		// the browser is at the upstream's.
		for i := 0; ; i++ {
			// An error while the browser is between documents is expected
			// ("Inspected target navigated or closed"): ask again.
			loc, err := chromedp.Run(bctx, chromedp.Evaluate[string](`location.href`))
			if err == nil && strings.HasPrefix(loc, s.up.URL+"/oidc/login") {
				break
			}
			if i == 300 {
				t.Fatalf("the browser did not reach the upstream's sign-in page (at %s)", loc)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err := chromedp.Do(bctx,
			chromedp.WaitVisible(chromedp.ID("identifier")),
			chromedp.SetValue(chromedp.ID("identifier"), "kai@example.com"),
			chromedp.SetValue(chromedp.ID("password"), socialPassword),
			chromedp.Submit(chromedp.ID("password-form")),
		); err != nil {
			t.Fatal(err)
		}
		select {
		case q := <-codes:
			if q.Get("state") != ar.State || q.Get("code") == "" {
				t.Fatalf("callback: %v", q)
			}
			_, idt := rp.exchange(t, ar, q.Get("code"))
			u := must[*client.User](t)(s.down.admin().GetUser(context.Background(), "default", idt.Subject))
			if u.Email != "kai@example.com" || len(u.Identities) != 1 {
				t.Fatalf("signed-in user: %+v", u)
			}
		case <-time.After(time.Minute):
			t.Fatal("the browser never reached the application")
		}

		// The account page lists the identity (issue 15); unlinking the
		// account's only way to sign in shows the use case's refusal.
		if err := chromedp.Do(bctx,
			chromedp.Navigate(oidcIssuer(s.down, "")+"/account?ui_locales=en"), chromedp.WaitVisible(chromedp.ID("identities")),
		); err != nil {
			t.Fatal(err)
		}
		listed, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("identity-list")))
		if err != nil || !strings.Contains(listed, "Upstream") || !strings.Contains(listed, "kai@example.com") {
			t.Fatalf("identity list %q (%v)", listed, err)
		}
		checkAxe(t, bctx, "account page with a linked identity")
		if err := chromedp.Do(bctx,
			chromedp.Click(chromedp.CSS("#unlink-0 button")), chromedp.WaitVisible(chromedp.ID("error")),
		); err != nil {
			t.Fatal(err)
		}
		if msg, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("error"))); err != nil || !strings.Contains(msg, "only way to sign in") {
			t.Fatalf("unlinking the last way to sign in: %q (%v)", msg, err)
		}
		checkAxe(t, bctx, "account page with an error")
	})
}

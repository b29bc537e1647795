package e2e

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/authpool/authpool/client"
)

// accountSignIn opens the pool's account page in b: without a session it
// goes to the sign-in page (no OIDC request), whose password form brings
// it back signed in.
func accountSignIn(t *testing.T, b *browser, issuer, identifier, password string) *page {
	t.Helper()
	p := b.get(issuer + "/account")
	if p.Status != http.StatusOK || !strings.HasSuffix(p.URL.Path, "/login") || p.URL.Query().Get("authRequestID") != "account" {
		t.Fatalf("the account page without a session: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	p = b.signIn(p, identifier, password)
	if p.Status != http.StatusOK || !strings.HasSuffix(p.URL.Path, "/account") || !strings.Contains(p.Body, `id="account"`) {
		t.Fatalf("after signing in: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	return p
}

// TestAccountPageForms drives the account page's forms as a browser
// without JavaScript would, and as an attacker would: a form without its
// CSRF token or with another browser's, a page of pool A with the session
// of pool B (its cookie copied under pool A's name), a withdrawn session,
// hostile values.
func TestAccountPageForms(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeAdminConfig(dbURL), nil)
		mc := in.admin()
		email := "page@example.com"
		must[*client.User](t)(in.client().RegisterByEmail(ctx, email, oidcPassword, nil, nil))
		issuer := oidcIssuer(in, "")

		b := newBrowser(t, in)
		p := accountSignIn(t, b, issuer, email, oidcPassword)
		if !strings.Contains(p.Body, email) || !strings.Contains(p.Body, `id="profile-form"`) {
			t.Fatalf("account page:\n%s", p.Body)
		}
		if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Fatalf("CSP %q", csp)
		}

		// The profile form changes the nickname through UpdateProfile.
		p = b.submit(p, p.form(t, "profile-form"), map[string]string{"nickname": "Lin 林"})
		if !strings.Contains(p.Body, `id="notice"`) || !strings.Contains(p.Body, `value="Lin 林"`) {
			t.Fatalf("after saving the profile:\n%s", p.Body)
		}
		// Hostile values: the use case's limits answer, nothing changes.
		p2 := b.submit(p, p.form(t, "profile-form"), map[string]string{"nickname": strings.Repeat("x", 5000), "website": "javascript:alert(1)"})
		if p2.Status != http.StatusBadRequest || !strings.Contains(p2.Body, `role="alert"`) {
			t.Fatalf("hostile profile: %d\n%s", p2.Status, p2.Body)
		}

		// A code to the new address; a second one at once is refused by the
		// API's sending limit, and the page says when to try again.
		// (The send buttons post the email form to their formaction.)
		ef := p.form(t, "email-form")
		if !strings.Contains(p.Body, `formaction="/oidc/account/email/code"`) {
			t.Fatal("no send button posting to /oidc/account/email/code")
		}
		ef.Action = "/oidc/account/email/code"
		p2 = b.submit(p, ef, map[string]string{"email": "new@example.com", "which": "new"})
		if p2.Status != http.StatusOK || !strings.Contains(p2.Body, `id="email-sent-new"`) || !strings.Contains(p2.Body, `value="new@example.com"`) {
			t.Fatalf("send a code: %d\n%s", p2.Status, p2.Body)
		}
		p2 = b.submit(p, ef, map[string]string{"email": "new@example.com", "which": "new"})
		if p2.Status != http.StatusTooManyRequests || !strings.Contains(p2.Body, "Try again in 60 s.") {
			t.Fatalf("a second code at once: %d\n%s", p2.Status, p2.Body)
		}
		// "old" always goes to the account's own address, whatever is typed.
		p2 = b.submit(p, ef, map[string]string{"email": "victim@example.com", "which": "old"})
		if p2.Status != http.StatusOK || len(in.Outbox.sentTo("victim@example.com")) != 0 || len(in.Outbox.sentTo(email)) != 1 {
			t.Fatalf("a code to the current address: %d, sent to %v", p2.Status, in.Outbox.sentTo(email))
		}

		// Without the CSRF token, or with another browser's, nothing runs.
		f := p.form(t, "profile-form")
		f.Fields.Del("csrf")
		if p2 := b.submit(p, f, map[string]string{"nickname": "csrf"}); p2.Status != http.StatusForbidden {
			t.Fatalf("no CSRF token: %d", p2.Status)
		}
		other := newBrowser(t, in)
		accountSignIn(t, other, issuer, must[*client.User](t)(in.client().RegisterByEmail(ctx, "other@example.com", oidcPassword, nil, nil)).Email, oidcPassword)
		f = p.form(t, "profile-form")
		otherTok := other.get(issuer+"/account").form(t, "profile-form").Fields.Get("csrf")
		if p2 := b.submit(p, f, map[string]string{"nickname": "csrf", "csrf": otherTok}); p2.Status != http.StatusForbidden {
			t.Fatalf("another browser's CSRF token: %d", p2.Status)
		}
		if got := must[*client.UserList](t)(mc.ListUsers(ctx, "default", client.ListUsersOptions{Search: email})).Users[0].Nickname; got != "Lin 林" {
			t.Fatalf("nickname %q", got)
		}

		// A page of pool B with pool A's session: no session there.
		pb := must[*client.Pool](t)(mc.CreatePool(ctx, client.CreatePoolRequest{Name: "Pool B"}))
		issuerB := oidcIssuer(in, pb.ID)
		if p := b.get(issuerB + "/account"); !strings.HasSuffix(p.URL.Path, "/login") {
			t.Fatalf("pool B's page with pool A's session: %s", p.URL)
		}
		// Pool A's token copied under pool B's cookie name is refused too.
		base, _ := url.Parse(in.URL)
		var tokA, nameB string
		for _, ck := range b.http.Jar.Cookies(&url.URL{Scheme: "http", Host: base.Host, Path: "/oidc/account"}) {
			if strings.HasPrefix(ck.Name, "authpool_session_") {
				tokA = ck.Value
			}
		}
		bb := newBrowser(t, in)
		must[*client.User](t)(client.NewAuthenticationClient(client.Options{AppHost: in.URL, UserPoolID: pb.ID}).RegisterByEmail(ctx, "b@example.com", oidcPassword, nil, nil))
		accountSignIn(t, bb, issuerB, "b@example.com", oidcPassword)
		for _, ck := range bb.http.Jar.Cookies(&url.URL{Scheme: "http", Host: base.Host, Path: "/oidc/pools/" + pb.ID + "/account"}) {
			if strings.HasPrefix(ck.Name, "authpool_session_") {
				nameB = ck.Name
			}
		}
		if tokA == "" || nameB == "" {
			t.Fatal("no session cookies")
		}
		forged := newBrowser(t, in)
		forged.http.Jar.SetCookies(&url.URL{Scheme: "http", Host: base.Host, Path: "/oidc"}, []*http.Cookie{{Name: nameB, Value: tokA, Path: "/oidc"}})
		if p := forged.get(issuerB + "/account"); !strings.HasSuffix(p.URL.Path, "/login") || strings.Contains(p.Body, email) {
			t.Fatalf("pool B's page with pool A's token: %s\n%s", p.URL, p.Body)
		}
		if p := forged.post(issuerB+"/account/delete", url.Values{"confirm": {"1"}, "password": {oidcPassword}}); !strings.HasSuffix(p.URL.Path, "/login") {
			t.Fatalf("pool B's form with pool A's token: %d %s", p.Status, p.URL)
		}

		// Signing out one session, then every other one (from another
		// browser of the same user), ends those browsers' sessions: back to
		// sign-in.
		b3 := newBrowser(t, in)
		accountSignIn(t, b3, issuer, email, oidcPassword)
		b2 := newBrowser(t, in)
		p3 := accountSignIn(t, b2, issuer, email, oidcPassword)
		if n := strings.Count(p3.Body, `class="session`); n != 3 {
			t.Fatalf("%d sessions listed, want 3:\n%s", n, p3.Body)
		}
		var others []string
		for _, m := range regexp.MustCompile(`<tr class="session( current)?" data-session="([^"]+)"`).FindAllStringSubmatch(p3.Body, -1) {
			if m[1] == "" {
				others = append(others, m[2])
			}
		}
		if len(others) != 2 {
			t.Fatalf("other sessions %v", others)
		}
		rf := p3.form(t, "revoke-"+others[0])
		p3 = b2.submit(p3, rf, nil)
		if !strings.Contains(p3.Body, `id="notice"`) || strings.Count(p3.Body, `class="session`) != 2 || strings.Contains(p3.Body, others[0]) {
			t.Fatalf("after signing one out:\n%s", p3.Body)
		}
		// The same form again: that session ended already (1004).
		if p := b2.submit(p3, rf, nil); p.Status != http.StatusBadRequest {
			t.Fatalf("signing out an ended session: %d", p.Status)
		}
		// Another user's session cannot be named.
		otherSess := regexp.MustCompile(`<tr class="session current" data-session="([^"]+)"`).FindStringSubmatch(other.get(issuer + "/account").Body)
		if otherSess == nil {
			t.Fatal("no current session on the other user's page")
		}
		rf.Fields.Set("session", otherSess[1])
		if p := b2.submit(p3, rf, nil); p.Status != http.StatusBadRequest {
			t.Fatalf("signing out another user's session: %d", p.Status)
		}
		if p := other.get(issuer + "/account"); !strings.Contains(p.Body, `id="account"`) {
			t.Fatal("the other user was signed out")
		}
		p3 = b2.submit(p3, p3.form(t, "sessions-others-form"), nil)
		if !strings.Contains(p3.Body, `id="notice"`) || strings.Count(p3.Body, `class="session`) != 1 {
			t.Fatalf("after signing out the others:\n%s", p3.Body)
		}
		if p := b.get(issuer + "/account"); !strings.HasSuffix(p.URL.Path, "/login") {
			t.Fatalf("the signed-out browser still sees %s", p.URL)
		}

		// Self-deletion: no form while the pool does not allow it, and a
		// forged post is refused by the use case.
		if strings.Contains(p3.Body, `id="delete-form"`) {
			t.Fatal("delete form shown while self-deletion is off")
		}
		f = p3.form(t, "password-form")
		p4 := b2.post(issuer+"/account/delete", url.Values{"csrf": {f.Fields.Get("csrf")}, "confirm": {"1"}, "password": {oidcPassword}})
		if p4.Status != http.StatusBadRequest || !strings.Contains(p4.Body, "You are not allowed to do this.") {
			t.Fatalf("self-deletion while off: %d\n%s", p4.Status, p4.Body)
		}
		if users := must[*client.UserList](t)(mc.ListUsers(ctx, "default", client.ListUsersOptions{Search: email})); users.Total != 1 {
			t.Fatal("deleted while off")
		}
		must[*client.Pool](t)(mc.UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"allowSelfDelete": true}}))
		p4 = b2.get(issuer + "/account")
		df := p4.form(t, "delete-form")
		if p5 := b2.submit(p4, df, map[string]string{"password": oidcPassword, "confirm": ""}); p5.Status != http.StatusBadRequest {
			t.Fatalf("without the confirmation: %d", p5.Status)
		}
		if p5 := b2.submit(p4, df, map[string]string{"password": "wrong", "confirm": "1"}); p5.Status != http.StatusBadRequest || !strings.Contains(p5.Body, "The password is not correct.") {
			t.Fatalf("wrong password: %d\n%s", p5.Status, p5.Body)
		}
		p5 := b2.submit(p4, df, map[string]string{"password": oidcPassword, "confirm": "1"})
		if !strings.HasSuffix(p5.URL.Path, "/account/deleted") || p5.Status != http.StatusOK {
			t.Fatalf("after deletion: %d %s", p5.Status, p5.URL)
		}
		if users := must[*client.UserList](t)(mc.ListUsers(ctx, "default", client.ListUsersOptions{Search: email})); users.Total != 0 {
			t.Fatal("the user is still there")
		}
		if p := b2.get(issuer + "/account"); !strings.HasSuffix(p.URL.Path, "/login") {
			t.Fatalf("after deletion the page shows %s", p.URL)
		}
	})
}

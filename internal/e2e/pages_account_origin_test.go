package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/authpool/authpool/client"
)

// TestPagesFromTheAccountSignIn: the account page's own sign-in (no
// authorization request behind it) links to sign-up and forgot-password
// like any sign-in, and those pages work from there (they answered 500:
// review); a sign-up from there lands on the account page. That sign-in
// offers no social buttons, and a forged social post from it is refused
// with a page, not a crash.
func TestPagesFromTheAccountSignIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeAdminConfig(dbURL), nil)
		b := newBrowser(t, in)
		p := b.get(in.URL + "/oidc/account")
		if !strings.Contains(p.URL.String(), "authRequestID=account") {
			t.Fatalf("the account page without a session went to %s", p.URL)
		}
		signup := b.get(p.link(t, "/signup?"))
		wantPage(t, signup, http.StatusOK, "Create your account")
		wantPage(t, b.get(p.link(t, "/reset?")), http.StatusOK)

		email := "origin.account@example.com"
		done := b.submit(signup, signup.form(t, "signup-form"), map[string]string{"email": email, "password": oidcPassword})
		if done.Status != http.StatusOK || !strings.Contains(done.URL.String(), "/oidc/account") {
			t.Fatalf("sign-up from the account sign-in ended at %d %s", done.Status, done.URL)
		}
		must[*client.User](t)(in.client().LoginByEmail(ctx, email, oidcPassword, nil))

		social := b.get(in.URL + "/oidc/login?authRequestID=account")
		if strings.Contains(social.Body, `id="social-form"`) {
			t.Fatal("the account sign-in shows social buttons")
		}
	})
}

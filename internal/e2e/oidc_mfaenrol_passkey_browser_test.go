package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/authpool/authpool/client"
)

// TestOIDCMFAEnrolPasskeyBrowser: in headless Chromium with the DevTools
// virtual authenticator, a user of a pool that requires MFA and has no
// factor signs in with the password through /oidc/auth, is shown the
// enrolment step, chooses "Use a passkey instead" beside the QR code, and
// lands at the app with amr pwd hwk mfa; the passkey is stored (one
// credential in the authenticator, one passkey factor of the user).
func TestOIDCMFAEnrolPasskeyBrowser(t *testing.T) {
	if chromiumPath() == "" {
		t.Skip("no chromium binary found (install Debian's chromium package; .ci/run does)")
	}
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		email := "penny@example.com"
		uid := must[*client.User](t)(in.client().RegisterByEmail(ctx, email, oidcPassword, nil, nil)).ID
		setMFAPolicy(t, in, "required")

		codes := make(chan url.Values, 4)
		cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/cb" {
				http.NotFound(w, r)
				return
			}
			codes <- r.URL.Query()
			_, _ = w.Write([]byte("<!doctype html><title>done</title><p id=done>done</p>"))
		}))
		defer cb.Close()
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Desktop", Type: client.AppTypeNative, FirstParty: true,
			RedirectURIs: []string{"http://127.0.0.1/cb"}})
		rp.conf.RedirectURL = cb.URL + "/cb"

		bctx, cancel := newChromium(t)
		defer cancel()
		if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(bctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			t.Fatal(err)
		}
		added, err := chromedp.Call(bctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
				Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
				IsUserVerified: true, AutomaticPresenceSimulation: true,
			}})
		if err != nil {
			t.Fatal(err)
		}

		ar := rp.authURL(nil)
		if err := chromedp.Do(bctx,
			chromedp.Navigate(onLocalhost(ar.URL)), chromedp.WaitVisible(chromedp.ID("identifier")),
			chromedp.SetValue(chromedp.ID("identifier"), email),
			chromedp.SetValue(chromedp.ID("password"), oidcPassword),
			chromedp.Submit(chromedp.ID("password-form")),
			chromedp.WaitVisible(chromedp.ID("mfa-enrol-form")),
			chromedp.WaitVisible(chromedp.ID("mfa-enrol-passkey-button")),
		); err != nil {
			t.Fatal(err)
		}
		checkAxe(t, bctx, "mfa-enrol with the passkey choice")
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("mfa-enrol-passkey-button"))); err != nil {
			t.Fatal(err)
		}
		select {
		case q := <-codes:
			if q.Get("state") != ar.State || q.Get("code") == "" {
				t.Fatalf("callback: %v", q)
			}
			_, idt := rp.exchange(t, ar, q.Get("code"))
			if got := amrOfToken(t, idt); got != "pwd hwk mfa" {
				t.Errorf("amr %q, want \"pwd hwk mfa\"", got)
			}
			if idt.Subject != uid {
				t.Errorf("sub %s, want %s", idt.Subject, uid)
			}
		case <-time.After(time.Minute):
			body, _ := chromedp.Run(bctx, chromedp.Text("body"))
			t.Fatalf("the browser never reached the application; the page says: %s", body)
		}
		got, err := chromedp.Call(bctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: added.AuthenticatorID})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Credentials) != 1 || !got.Credentials[0].IsResidentCredential {
			t.Fatalf("virtual authenticator holds %+v", got.Credentials)
		}
		st := must[*client.MFAStatus](t)(in.admin().GetUserMFA(ctx, "default", uid))
		n := 0
		for _, f := range st.Factors {
			if f.Kind == "passkey" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("the user's factors: %+v", st.Factors)
		}
	})
}

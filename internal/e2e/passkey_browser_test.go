package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/userpool"
	"github.com/authpool/authpool/internal/web"
)

// onLocalhost rewrites a URL of the test server (127.0.0.1) to localhost:
// browsers refuse an IP address as a WebAuthn relying party, and the
// server serves a loopback public URL's passkeys as localhost.
func onLocalhost(u string) string {
	return strings.Replace(u, "http://127.0.0.1:", "http://localhost:", 1)
}

// TestPasskeyBrowser drives the hosted pages in headless Chromium with the
// DevTools virtual authenticator (CTAP2, internal transport, resident keys
// and user verification): register a passkey on the account page's
// passkeys section (reached by the former /oidc/passkeys) after a
// password sign-in, sign out, sign in passwordless with the sign-in page's
// passkey button (amr hwk mfa), sign in with the password and the passkey
// as second factor (amr pwd hwk mfa), and a counter set back on the
// virtual credential is refused with the clone message.
func TestPasskeyBrowser(t *testing.T) {
	if chromiumPath() == "" {
		t.Skip("no chromium binary found (install Debian's chromium package; .ci/run does)")
	}
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		setMFAPolicy(t, in, "optional")
		email := "kiki@example.com"
		must[*client.User](t)(in.client().RegisterByEmail(ctx, email, oidcPassword, nil, nil))

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
		authID := added.AuthenticatorID
		credentials := func() []*webauthn.Credential {
			t.Helper()
			got, err := chromedp.Call(bctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: authID})
			if err != nil {
				t.Fatal(err)
			}
			return got.Credentials
		}
		amrOf := func(ar *authRequest) string {
			t.Helper()
			select {
			case q := <-codes:
				if q.Get("state") != ar.State || q.Get("code") == "" {
					t.Fatalf("callback: %v", q)
				}
				_, idt := rp.exchange(t, ar, q.Get("code"))
				return amrOfToken(t, idt)
			case <-time.After(time.Minute):
				body, _ := chromedp.Run(bctx, chromedp.Text("body"))
				t.Fatalf("the browser never reached the application; the page says: %s", body)
			}
			return ""
		}
		signOut := func() {
			t.Helper()
			if _, err := chromedp.Call(bctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
				t.Fatal(err)
			}
		}

		// 1. Password sign-in, then add a passkey on the account page.
		ar := rp.authURL(nil)
		if err := chromedp.Do(bctx,
			chromedp.Navigate(onLocalhost(ar.URL)), chromedp.WaitVisible(chromedp.ID("identifier")),
			chromedp.SetValue(chromedp.ID("identifier"), email),
			chromedp.SetValue(chromedp.ID("password"), oidcPassword),
			chromedp.Submit(chromedp.ID("password-form")),
		); err != nil {
			t.Fatal(err)
		}
		if amr := amrOf(ar); amr != "pwd" {
			t.Fatalf("password sign-in amr %q", amr)
		}
		// The former /passkeys page sends to the account page's section.
		var listed string
		if err := chromedp.Do(bctx,
			chromedp.Navigate(onLocalhost(in.URL)+"/oidc/passkeys"), chromedp.WaitVisible(chromedp.ID("account")),
			chromedp.WaitVisible(chromedp.ID("passkey-add")),
		); err != nil {
			t.Fatal(err)
		}
		checkAxe(t, bctx, "account page, passkeys section (none yet)")
		if err := chromedp.Do(bctx,
			chromedp.SetValue(chromedp.ID("passkey-name"), "Virtual key"),
			chromedp.Click(chromedp.ID("passkey-add")),
			chromedp.WaitVisible(chromedp.ID("passkey-list")),
			chromedp.WaitVisible(chromedp.ID("notice")),
		); err != nil {
			t.Fatal(err)
		}
		listed, err = chromedp.Run(bctx, chromedp.Text(chromedp.ID("passkey-list")))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(listed, "Virtual key") {
			t.Fatalf("the account page lists %q", listed)
		}
		checkAxe(t, bctx, "account page, passkeys section (one passkey)")
		stored := credentials()
		if len(stored) != 1 || !stored[0].IsResidentCredential {
			t.Fatalf("virtual authenticator holds %+v", stored)
		}

		// 2. Signed out: passwordless, by conditional UI.
		signOut()
		ar = rp.authURL(nil)
		// The page starts conditional mediation at once (the username
		// field's autofill); the virtual authenticator answers it without
		// a pick, so loading the page signs in.
		if err := chromedp.Do(bctx, chromedp.Navigate(onLocalhost(ar.URL))); err != nil {
			t.Fatal(err)
		}
		if amr := amrOf(ar); amr != "hwk mfa" {
			t.Fatalf("passwordless amr %q", amr)
		}

		// 3. Signed out: password, then the passkey as second factor. The
		// user picks nothing from the autofill (presence not simulated on
		// the sign-in page), types the password, then uses the passkey.
		signOut()
		presence := func(on bool) {
			t.Helper()
			if _, err := chromedp.Call(bctx, webauthn.SetAutomaticPresenceSimulation,
				webauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: authID, Enabled: on}); err != nil {
				t.Fatal(err)
			}
		}
		presence(false)
		ar = rp.authURL(nil)
		if err := chromedp.Do(bctx,
			chromedp.Navigate(onLocalhost(ar.URL)), chromedp.WaitVisible(chromedp.ID("identifier")),
			chromedp.SetValue(chromedp.ID("identifier"), email),
			chromedp.SetValue(chromedp.ID("password"), oidcPassword),
			chromedp.Submit(chromedp.ID("password-form")),
			chromedp.WaitVisible(chromedp.ID("mfa-passkey")),
		); err != nil {
			t.Fatal(err)
		}
		presence(true)
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("mfa-passkey"))); err != nil {
			t.Fatal(err)
		}
		if amr := amrOf(ar); amr != "pwd hwk mfa" {
			t.Fatalf("second-factor amr %q", amr)
		}

		// 4. A clone: the virtual credential's counter set back.
		got := credentials()
		if len(got) != 1 {
			t.Fatalf("virtual authenticator holds %+v", got)
		}
		c := *got[0]
		if c.SignCount < 2 {
			t.Errorf("the virtual credential's counter is %v after two uses", c.SignCount)
		}
		if _, err := chromedp.Call(bctx, webauthn.RemoveCredential, webauthn.RemoveCredentialParams{AuthenticatorID: authID, CredentialID: c.CredentialID}); err != nil {
			t.Fatal(err)
		}
		// Sent without the generated type's CMTG fields, which this
		// authenticator refuses even when false.
		addCredential := cdp.Command[map[string]any, cdp.Empty]{Method: webauthn.CommandAddCredential}
		if _, err := chromedp.Call(bctx, addCredential, map[string]any{"authenticatorId": authID, "credential": map[string]any{
			"credentialId": c.CredentialID, "isResidentCredential": c.IsResidentCredential, "rpId": c.RpID,
			"privateKey": c.PrivateKey, "userHandle": c.UserHandle, "signCount": 0,
		}}); err != nil {
			t.Fatal(err)
		}
		signOut()
		ar = rp.authURL(nil)
		want := web.ErrorMessage(web.LangEN, userpool.Errorf(userpool.CodePasskeyCloned, "passkey_cloned", ""))
		// Conditional UI answers first; the page showing its error starts
		// no other; then the button, a modal request, is refused too.
		for _, step := range [][]chromedp.Action[chromedp.Void]{
			{chromedp.Navigate(onLocalhost(ar.URL))},
			{chromedp.WaitVisible(chromedp.ID("passkey-signin")), chromedp.Click(chromedp.ID("passkey-signin")), chromedp.Sleep(time.Second)},
		} {
			if err := chromedp.Do(bctx, append(step, chromedp.WaitVisible(chromedp.ID("error")))...); err != nil {
				t.Fatal(err)
			}
			msg, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("error")))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(msg, want) {
				t.Fatalf("the clone was answered %q, want %q", msg, want)
			}
		}
		select {
		case q := <-codes:
			t.Fatalf("a cloned passkey reached the application: %v", q)
		default:
		}
	})
}

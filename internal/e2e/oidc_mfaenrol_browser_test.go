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

// TestOIDCMFAEnrolBrowser: in a real browser (headless Chromium, the
// page's real CSP), a user of a pool that requires MFA and has no factor
// signs in through /oidc/auth, sees the QR code (a data: PNG that
// renders), types the first code of the secret shown (computed with
// pquerna/otp), is shown ten recovery codes, says "I saved them" and
// lands at the app with a code whose ID token has amr pwd otp mfa; a
// second sign-in (prompt=login) asks for the authenticator's code as the
// second factor and lands at the app again.
func TestOIDCMFAEnrolBrowser(t *testing.T) {
	if chromiumPath() == "" {
		t.Skip("no chromium binary found (install Debian's chromium package; .ci/run does)")
	}
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		setMFAPolicy(t, in, "required")
		uid := must[*client.User](t)(in.client().RegisterByEmail(ctx, "chrome@example.com", "passw0rd!", nil, nil)).ID

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
		land := func(ar *authRequest) {
			t.Helper()
			select {
			case q := <-codes:
				if q.Get("state") != ar.State || q.Get("code") == "" {
					t.Fatalf("callback: %v", q)
				}
				_, idt := rp.exchange(t, ar, q.Get("code"))
				if got := amrOfToken(t, idt); got != "pwd otp mfa" {
					t.Errorf("amr %q, want \"pwd otp mfa\"", got)
				}
				if idt.Subject != uid {
					t.Errorf("sub %s, want %s", idt.Subject, uid)
				}
			case <-time.After(time.Minute):
				t.Fatal("the browser never reached the application")
			}
		}

		bctx, cancel := newChromium(t)
		defer cancel()
		ar := rp.authURL(nil)
		if err := chromedp.Do(bctx,
			chromedp.Navigate(ar.URL), chromedp.WaitVisible(chromedp.ID("identifier")),
			chromedp.SetValue(chromedp.ID("identifier"), "chrome@example.com"),
			chromedp.SetValue(chromedp.ID("password"), "passw0rd!"),
			chromedp.Submit(chromedp.ID("password-form")),
			chromedp.WaitVisible(chromedp.ID("mfa-enrol-form")),
		); err != nil {
			t.Fatal(err)
		}
		var loaded bool
		var err error
		for i := 0; i < 50 && !loaded && err == nil; i++ {
			loaded, err = chromedp.Run(bctx,
				chromedp.Evaluate[bool](`(() => { const i = document.getElementById("mfa-enrol-qr"); return i.complete && i.naturalWidth > 0 })()`))
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil || !loaded {
			t.Fatalf("the QR code did not render under the CSP: %v", err)
		}
		checkAxe(t, bctx, "mfa-enrol")
		secret, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById("mfa-enrol-secret").textContent`))
		if err != nil || len(secret) != 32 {
			t.Fatalf("secret %q: %v", secret, err)
		}
		if err := chromedp.Do(bctx,
			chromedp.SetValue(chromedp.ID("enrol-code"), codeAt(t, in, secret)),
			chromedp.Submit(chromedp.ID("mfa-enrol-form")),
			chromedp.WaitVisible(chromedp.ID("mfa-recovery-codes")),
		); err != nil {
			t.Fatal(err)
		}
		n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#mfa-recovery-codes li").length`))
		if err != nil || n != 10 {
			t.Fatalf("%d recovery codes shown: %v", n, err)
		}
		checkAxe(t, bctx, "mfa-enrol recovery codes")
		if err := chromedp.Do(bctx, chromedp.Submit(chromedp.ID("mfa-recovery-saved-form"))); err != nil {
			t.Fatal(err)
		}
		land(ar)

		// The second sign-in asks for the authenticator's code.
		in.Clock.Advance(30 * time.Second)
		ar = rp.authURL(nil, oauth2.SetAuthURLParam("prompt", "login"))
		if err := chromedp.Do(bctx,
			chromedp.Navigate(ar.URL), chromedp.WaitVisible(chromedp.ID("identifier")),
			chromedp.SetValue(chromedp.ID("identifier"), "chrome@example.com"),
			chromedp.SetValue(chromedp.ID("password"), "passw0rd!"),
			chromedp.Submit(chromedp.ID("password-form")),
			chromedp.WaitVisible(chromedp.ID("mfa-totp-form")),
		); err != nil {
			t.Fatal(err)
		}
		body, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerHTML`))
		if err != nil || strings.Contains(body, "mfa-enrol-form") {
			t.Fatalf("the second sign-in offered the enrolment again: %v", err)
		}
		if err := chromedp.Do(bctx,
			chromedp.SetValue(chromedp.ID("totp-code"), codeAt(t, in, secret)),
			chromedp.Submit(chromedp.ID("mfa-totp-form")),
		); err != nil {
			t.Fatal(err)
		}
		land(ar)
	})
}

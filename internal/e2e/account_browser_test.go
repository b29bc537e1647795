package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/authpool/authpool/client"
)

// TestAccountBrowser walks the account page in headless Chromium as its
// user would: signed in by an app's OpenID Connect flow (single sign-on
// brings the account page), change the nickname, the email address and
// the phone number (codes from the console senders' log, the pool
// verifying the old ones), the password, enrol an authenticator app and
// sign in with it (codes from pquerna/otp), sign out the other sessions,
// withdraw the app's consent, and delete the account.
func TestAccountBrowser(t *testing.T) {
	if chromiumPath() == "" {
		t.Skip("no chromium binary found (install Debian's chromium package; .ci/run does)")
	}
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeAdminConfig(dbURL), nil)
		mc := in.admin()
		must[*client.Pool](t)(mc.UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{
			"allowSelfDelete": true, "mfaPolicy": "optional",
		}}))
		email, email2 := "walk@example.com", "walk2@example.com"
		sdk := in.client()
		u := must[*client.User](t)(sdk.RegisterByEmail(ctx, email, oidcPassword, nil, &client.RegisterOptions{ForceLogin: true}))
		must[*client.User](t)(sdk.BindPhone(ctx, cnPhone, sms(t, in, cnPhone)))
		in.Clock.Advance(61 * time.Second)

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
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Photo Book", Type: client.AppTypeNative, RedirectURIs: []string{"http://127.0.0.1/cb"}})
		rp.conf.RedirectURL = cb.URL + "/cb"
		issuer := oidcIssuer(in, "")

		bctx, cancel := newChromium(t)
		defer cancel()
		run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
			t.Helper()
			if err := chromedp.Do(bctx, actions...); err != nil {
				body, _ := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("body")))
				t.Fatalf("%s: %v\n%s", what, err, body)
			}
		}
		text := func(sel string) string {
			t.Helper()
			v, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
			if err != nil {
				t.Fatalf("text of %s: %v", sel, err)
			}
			return v
		}
		done := func() chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(chromedp.CSS("#notice")) }
		// press fills a form and presses its button, then waits for the
		// page the post leads to: the old page is marked, so that nothing
		// on it (a notice of the last form) is taken for the answer.
		press := func(what, button string, fill ...chromedp.Action[chromedp.Void]) {
			t.Helper()
			run(what, fill...)
			if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`window.__oldPage = true`)); err != nil {
				t.Fatalf("%s: mark the page: %v", what, err)
			}
			run(what, chromedp.Click(chromedp.CSS(button)))
			deadline := time.Now().Add(time.Minute)
			for {
				// Errors while the browser is between documents are expected.
				fresh, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`window.__oldPage !== true && document.readyState === "complete"`))
				if err == nil && fresh {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: no new page after pressing %s", what, button)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}

		ar := rp.authURL([]string{"openid", "email"}, oauth2.SetAuthURLParam("ui_locales", "en"))
		run("sign in to the app", chromedp.Navigate(ar.URL),
			chromedp.SetValue(chromedp.CSS("#identifier"), email), chromedp.SetValue(chromedp.CSS("#password"), oidcPassword),
			chromedp.Submit(chromedp.CSS("#password-form")), chromedp.WaitVisible(chromedp.CSS("#allow")), chromedp.Click(chromedp.CSS("#allow")))
		select {
		case q := <-codes:
			rp.exchange(t, ar, q.Get("code"))
		case <-time.After(time.Minute):
			t.Fatal("the browser never reached the application")
		}

		// Single sign-on: the account page needs no second sign-in.
		run("open the account page", chromedp.Navigate(issuer+"/account"), chromedp.WaitVisible(chromedp.CSS("#account")))
		if html := text("#apps"); !strings.Contains(html, "Photo Book") {
			t.Fatalf("the consented app is not listed: %s", html)
		}

		press("change the nickname", "#profile-form button[type=submit]", chromedp.SetValue(chromedp.CSS("#p-nickname"), "Walker"))
		run("the profile is saved", done())
		checkAxe(t, bctx, "account page with a notice")
		if got := must[*client.User](t)(mc.GetUser(ctx, "default", u.ID)); got.Nickname != "Walker" {
			t.Fatalf("nickname %q", got.Nickname)
		}

		press("send the new address's code", "#email-send-new", chromedp.SetValue(chromedp.CSS("#new-email"), email2))
		run("the new address's code is sent", chromedp.WaitVisible(chromedp.CSS("#email-sent-new")))
		if disabled, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.getElementById("email-send-new").disabled`)); err != nil || !disabled {
			t.Error("the send button is not waiting after a send")
		}
		newCode := in.Outbox.last(t, email2).Code
		press("send the current address's code", "#email-send-old")
		run("the current address's code is sent", chromedp.WaitVisible(chromedp.CSS("#email-sent-old")))
		oldCode := in.Outbox.last(t, email).Code
		press("change the email address", "#email-submit", chromedp.SetValue(chromedp.CSS("#email-code"), newCode), chromedp.SetValue(chromedp.CSS("#email-old-code"), oldCode))
		run("the email address is saved", done())
		if got := must[*client.User](t)(mc.GetUser(ctx, "default", u.ID)); got.Email != email2 || !got.EmailVerified {
			t.Fatalf("email %q verified %v", got.Email, got.EmailVerified)
		}

		press("send the new phone's code", "#phone-send-new", chromedp.SetValue(chromedp.CSS("#new-phone"), cnPhone2))
		run("the new phone's code is sent", chromedp.WaitVisible(chromedp.CSS("#phone-sent-new")))
		newCode = in.Outbox.code(t, cnPhone2)
		press("send the current phone's code", "#phone-send-old")
		run("the current phone's code is sent", chromedp.WaitVisible(chromedp.CSS("#phone-sent-old")))
		oldCode = in.Outbox.code(t, cnPhone)
		press("change the phone number", "#phone-submit", chromedp.SetValue(chromedp.CSS("#phone-code"), newCode), chromedp.SetValue(chromedp.CSS("#phone-old-code"), oldCode))
		run("the phone number is saved", done())
		if got := must[*client.User](t)(mc.GetUser(ctx, "default", u.ID)); got.Phone != cnPhone2 {
			t.Fatalf("phone %q", got.Phone)
		}

		newPassword := "an0ther-long-passw0rd"
		press("change the password", "#password-form button[type=submit]", chromedp.SetValue(chromedp.CSS("#old-password"), oidcPassword),
			chromedp.SetValue(chromedp.CSS("#new-password"), newPassword), chromedp.SetValue(chromedp.CSS("#confirm-password"), newPassword))
		run("the password is changed", done(), chromedp.WaitVisible(chromedp.CSS("#account")))
		_, err := sdk.GetCurrentUser(ctx)
		wantCode(t, err, 2207) // every other session ended
		must[*client.User](t)(sdk.LoginByEmail(ctx, email2, newPassword, nil))

		press("start an authenticator app", "#totp-start")
		run("the QR code", chromedp.WaitVisible(chromedp.CSS("#totp-qr")))
		checkAxe(t, bctx, "account page, authenticator app enrolment")
		secret, recovery := text("#totp-secret"), text("#enrol-recovery-codes")
		if strings.Count(recovery, "\n") < 5 {
			t.Fatalf("recovery codes %q", recovery)
		}
		code, err := totp.GenerateCode(secret, in.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		press("confirm the authenticator app", "#totp-confirm-form button[type=submit]", chromedp.SetValue(chromedp.CSS("#totp-code"), code))
		run("the authenticator app is on", done(), chromedp.WaitVisible(chromedp.CSS("#totp-on")))

		// The SDK's session (signed in before the factor) is another one.
		press("sign out the other sessions", "#sessions-others")
		run("the other sessions are signed out", done())
		_, err = sdk.GetCurrentUser(ctx)
		wantCode(t, err, 2207)

		press("withdraw the app's consent", "li.app button")
		run("the consent is withdrawn", done(), chromedp.WaitVisible(chromedp.CSS("#no-apps")))
		if apps := must[[]client.GrantedApp](t)(loginClient(t, in, email2, newPassword, secret).ListGrantedApps(ctx)); len(apps) != 0 {
			t.Fatalf("still granted: %+v", apps)
		}

		// Sign out, and in again with the new password and the app's code.
		in.Clock.Advance(30 * time.Second) // the next TOTP step
		code, err = totp.GenerateCode(secret, in.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		press("sign out", "#signout")
		if loc, err := chromedp.Run(bctx, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "/logged-out") {
			t.Fatalf("after signing out at %s", loc)
		}
		run("open the account page signed out", chromedp.Navigate(issuer+"/account"), chromedp.WaitVisible(chromedp.CSS("#identifier")))
		press("sign in with the new password", "#password-form button[type=submit]",
			chromedp.SetValue(chromedp.CSS("#identifier"), email2), chromedp.SetValue(chromedp.CSS("#password"), newPassword))
		press("pass the authenticator app's code", "#mfa-totp-form button[type=submit]", chromedp.SetValue(chromedp.CSS("#totp-code"), code))
		run("back on the account page", chromedp.WaitVisible(chromedp.CSS("#account")))

		// A sign-in older than auth.FreshSignIn adds no passkey: the page
		// says so and offers to sign in again, which brings the browser
		// back here with a fresh sign-in and the add form.
		in.Clock.Advance(5*time.Minute + time.Second)
		run("the account page of a stale sign-in", chromedp.Navigate(issuer+"/account"), chromedp.WaitVisible(chromedp.CSS("#passkey-stale")))
		checkAxe(t, bctx, "account page, sign in again to add a passkey")
		press("sign in again to add a passkey", "#passkey-reauth")
		code, err = totp.GenerateCode(secret, in.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		press("sign in again", "#password-form button[type=submit]",
			chromedp.SetValue(chromedp.CSS("#identifier"), email2), chromedp.SetValue(chromedp.CSS("#password"), newPassword))
		press("pass the authenticator app's code again", "#mfa-totp-form button[type=submit]", chromedp.SetValue(chromedp.CSS("#totp-code"), code))
		run("back with a fresh sign-in", chromedp.WaitVisible(chromedp.CSS("#passkey-add-form")))

		press("delete the account", "#delete-submit", chromedp.SetValue(chromedp.CSS("#delete-password"), newPassword), chromedp.Click(chromedp.CSS("#delete-confirm")))
		if loc, err := chromedp.Run(bctx, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "/account/deleted") {
			t.Fatalf("after deletion at %s", loc)
		}
		checkAxe(t, bctx, "account deleted page")
		_, err = mc.GetUser(ctx, "default", u.ID)
		wantCode(t, err, 2004)
	})
}

// loginClient signs in through the SDK with a password and a TOTP code
// of the next step.
func loginClient(t *testing.T, in *instance, email, password, secret string) *client.AuthenticationClient {
	t.Helper()
	ctx := context.Background()
	c := in.client()
	_, err := c.LoginByEmail(ctx, email, password, nil)
	ce := wantCode(t, err, 1635)
	tok, _ := ce.Data["mfaToken"].(string)
	in.Clock.Advance(30 * time.Second)
	code, err := totp.GenerateCode(secret, in.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	must[*client.User](t)(c.VerifyMFA(ctx, tok, "totp", code))
	return c
}

// TestAccountPageLayout opens the account page at a desktop and a phone
// width: it fits (no sideways scrolling), in English and in Chinese. With
// AUTHPOOL_SCREENSHOTS set to a directory it writes the page there
// (docs/ACCOUNT.md shows them):
//
//	AUTHPOOL_SCREENSHOTS=$PWD/docs/img go test ./internal/e2e -run 'TestAccountPageLayout/sqlite' -count=1
func TestAccountPageLayout(t *testing.T) {
	if chromiumPath() == "" {
		t.Skip("no chromium binary found (install Debian's chromium package; .ci/run does)")
	}
	shots := os.Getenv("AUTHPOOL_SCREENSHOTS")
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, codeAdminConfig(dbURL), nil)
		mc := in.admin()
		must[*client.Pool](t)(mc.UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"allowSelfDelete": true}}))
		must[*client.Field](t)(mc.DefineField(ctx, "default", client.DefineFieldRequest{Key: "city", DataType: "STRING", Label: "City", UserEditable: true}))
		must[*client.Field](t)(mc.DefineField(ctx, "default", client.DefineFieldRequest{Key: "newsletter", DataType: "BOOLEAN", Label: "Newsletter", UserEditable: true}))
		email := "ada@example.com"
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(ctx, email, oidcPassword, &client.Profile{Nickname: "Ada"}, &client.RegisterOptions{ForceLogin: true}))
		must[[]client.UserDefinedData](t)(c.SetUdv(ctx, "city", "London"))
		// A passkey (through the SDK), so the passkeys section lists one.
		a := newSoftAuthenticator(t, in)
		cred, _ := a.create(t, must[json.RawMessage](t)(c.BeginPasskeyRegistration(ctx)))
		must[*client.Passkey](t)(c.FinishPasskeyRegistration(ctx, "MacBook Pro", cred))
		issuer := oidcIssuer(in, "")
		for _, vp := range []struct {
			name          string
			width, height int64
			mobile        bool
		}{{"desktop", 1280, 800, false}, {"phone", 390, 844, true}} {
			t.Run(vp.name, func(t *testing.T) {
				bctx, cancel := newChromium(t)
				defer cancel()
				opts := []chromedp.EmulateViewportOption{}
				if vp.mobile {
					opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
				}
				if err := chromedp.Do(bctx, chromedp.EmulateViewport(vp.width, vp.height, opts...),
					chromedp.Navigate(issuer+"/account?ui_locales=en"), chromedp.WaitVisible(chromedp.CSS("#identifier")),
					chromedp.SetValue(chromedp.CSS("#identifier"), email), chromedp.SetValue(chromedp.CSS("#password"), oidcPassword),
					chromedp.Submit(chromedp.CSS("#password-form")), chromedp.WaitVisible(chromedp.CSS("#account"))); err != nil {
					t.Fatal(err)
				}
				checkAxe(t, bctx, "account page, "+vp.name)
				fits(t, bctx, vp.width, "account")
				screenshot(t, bctx, shots, "account-"+vp.name+".png")
				if err := chromedp.Do(bctx, chromedp.Navigate(issuer+"/account?ui_locales=zh-CN"), chromedp.WaitVisible(chromedp.CSS("#account"))); err != nil {
					t.Fatal(err)
				}
				checkAxe(t, bctx, "account page, zh-CN, "+vp.name)
				title, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("h1")))
				if err != nil {
					t.Fatal(err)
				}
				if title != "我的账号" {
					t.Fatalf("Chinese title %q", title)
				}
				fits(t, bctx, vp.width, "account (zh-CN)")
			})
		}
	})
}

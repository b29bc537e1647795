package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/authpool/authpool/client"
)

// TestPagesBrowser walks the hosted user pages in headless Chromium as a
// person would: sign up by email from an application's sign-in (the
// password rules marked as they type) → back at the app with a code →
// the verification mail's link → signed out → forgot password → the code
// from the mail → new password → sign in; then sign up by phone code with
// the send button's countdown. axe-core checks every page on the way, and
// each page again in Chinese (with the sign-in, consent and MFA pages).
// With AUTHPOOL_SCREENSHOTS set to a directory, the pages are written
// there at a desktop and a phone width (docs/PAGES.md shows them):
//
//	AUTHPOOL_SCREENSHOTS=$PWD/docs/img go test ./internal/e2e -run 'TestPagesBrowser/sqlite' -count=1
func TestPagesBrowser(t *testing.T) {
	if chromiumPath() == "" {
		t.Skip("no chromium binary found (install Debian's chromium package; .ci/run does)")
	}
	shots := os.Getenv("AUTHPOOL_SCREENSHOTS")
	eachBackend(t, func(t *testing.T, dbURL string) {
		in := start(t, codeAdminConfig(dbURL), nil)
		var cur context.Context // the browser in use, for the failure message
		codes := make(chan url.Values, 8)
		cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/cb" {
				http.NotFound(w, r)
				return
			}
			codes <- r.URL.Query()
			_, _ = w.Write([]byte("<!doctype html><html lang=en><title>done</title><main><p id=done>done</p></main></html>"))
		}))
		defer cb.Close()
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Photo Book", Type: client.AppTypeNative, FirstParty: true,
			RedirectURIs: []string{"http://127.0.0.1/cb"}})
		rp.conf.RedirectURL = cb.URL + "/cb"
		wait := func(ar *authRequest) string {
			t.Helper()
			select {
			case q := <-codes:
				if q.Get("state") != ar.State || q.Get("code") == "" {
					t.Fatalf("callback: %v", q)
				}
				tok, _ := rp.exchange(t, ar, q.Get("code"))
				raw, _ := tok.Extra("id_token").(string)
				return raw
			case <-time.After(time.Minute):
				where, _ := chromedp.Run(cur, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
				t.Fatalf("the browser never reached the application; it shows %s", where)
			}
			return ""
		}
		do := func(ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
			t.Helper()
			if err := chromedp.Do(ctx, steps...); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		text := func(ctx context.Context, sel string) string {
			t.Helper()
			s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
			if err != nil {
				t.Fatalf("text of %s: %v", sel, err)
			}
			return s
		}
		ruleClass := func(ctx context.Context, rule string) string {
			t.Helper()
			s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('li[data-rule="`+rule+`"]').className`))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}

		// Sign up by email from the app's sign-in.
		bctx, cancel := newChromium(t)
		defer cancel()
		cur = bctx
		email := "ada@example.com"
		ar := rp.authURL(nil, oauth2.SetAuthURLParam("ui_locales", "en"))
		do(bctx, "sign-in", chromedp.Navigate(ar.URL), chromedp.WaitVisible(chromedp.ID("signup-link")))
		checkAxe(t, bctx, "sign-in, en")
		do(bctx, "to sign-up", chromedp.Click(chromedp.ID("signup-link")), chromedp.WaitVisible(chromedp.ID("new-password")))
		checkAxe(t, bctx, "sign-up by email, en")
		screenshot(t, bctx, shots, "pages-signup-desktop.png")
		do(bctx, "a weak password", chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("new-password"), "ada12"))
		if l, i := ruleClass(bctx, "length"), ruleClass(bctx, "identity"); l != "bad" || i != "bad" {
			t.Fatalf("rules for a short password containing the address's name: length %q, identity %q", l, i)
		}
		if _, err := chromedp.Run(bctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("new-password").value = ""`)); err != nil {
			t.Fatal(err)
		}
		do(bctx, "a good password", chromedp.SendKeys(chromedp.ID("new-password"), oidcPassword))
		if l, i := ruleClass(bctx, "length"), ruleClass(bctx, "identity"); l != "ok" || i != "ok" {
			t.Fatalf("rules for a good password: length %q, identity %q", l, i)
		}
		screenshot(t, bctx, shots, "pages-signup-rules-desktop.png")
		do(bctx, "sign up", chromedp.Click(chromedp.ID("signup-submit")))
		idToken := wait(ar)

		// The verification mail's link, in the same browser.
		link := mailLink(t, in, email, "VERIFY_EMAIL")
		do(bctx, "verify", chromedp.Navigate(link.String()), chromedp.WaitVisible(chromedp.ID("done-title")))
		if got := text(bctx, "#done-title"); got != "Email address confirmed" {
			t.Fatalf("verification page: %q", got)
		}
		checkAxe(t, bctx, "email confirmed, en")
		screenshot(t, bctx, shots, "pages-verified-desktop.png")

		// Signed out by the app (RP-initiated logout).
		end := rp.endpoint(t, "end_session_endpoint") + "?" + url.Values{"id_token_hint": {idToken}, "client_id": {rp.app.ID}}.Encode()
		do(bctx, "sign out", chromedp.Navigate(end), chromedp.WaitVisible(chromedp.CSS("h1")))
		do(bctx, "status page signed out", chromedp.Navigate(in.URL+"/oidc/verify-email"), chromedp.WaitVisible(chromedp.ID("done-body")))
		if got := text(bctx, "#done-body"); !strings.Contains(got, "Sign in to ask") {
			t.Fatalf("after signing out: %q", got)
		}

		// Forgot password.
		ar = rp.authURL(nil, oauth2.SetAuthURLParam("ui_locales", "en"))
		in.Clock.Advance(61 * time.Second)
		do(bctx, "to reset", chromedp.Navigate(ar.URL), chromedp.WaitVisible(chromedp.ID("reset-link")),
			chromedp.Click(chromedp.ID("reset-link")), chromedp.WaitVisible(chromedp.ID("address")))
		checkAxe(t, bctx, "forgot password, en")
		do(bctx, "send the code", chromedp.SendKeys(chromedp.ID("address"), email), chromedp.Click(chromedp.ID("send-code")),
			chromedp.WaitVisible(chromedp.ID("code")))
		checkAxe(t, bctx, "new password, en")
		screenshot(t, bctx, shots, "pages-reset-desktop.png")
		newPw := "a new passw0rd!"
		do(bctx, "reset", chromedp.SendKeys(chromedp.ID("code"), in.Outbox.code(t, email)), chromedp.SendKeys(chromedp.ID("new-password"), newPw),
			chromedp.Submit(chromedp.ID("reset-form")), chromedp.WaitVisible(chromedp.ID("done-body")))
		if got := text(bctx, "#done-body"); !strings.Contains(got, "every session of your account has ended") {
			t.Fatalf("after the reset: %q", got)
		}
		checkAxe(t, bctx, "password changed, en")
		do(bctx, "sign in again", chromedp.Click(chromedp.ID("done-link")), chromedp.WaitVisible(chromedp.ID("identifier")),
			chromedp.SendKeys(chromedp.ID("identifier"), email), chromedp.SendKeys(chromedp.ID("password"), newPw),
			chromedp.Submit(chromedp.ID("password-form")))
		wait(ar)

		// Sign up by phone code in a fresh browser.
		pctx, pcancel := newChromium(t)
		defer pcancel()
		cur = pctx
		phone := "+8613800138555"
		ar = rp.authURL(nil)
		do(pctx, "phone sign-up", chromedp.Navigate(ar.URL), chromedp.WaitVisible(chromedp.ID("signup-link")),
			chromedp.Click(chromedp.ID("signup-link")), chromedp.WaitVisible(chromedp.ID("email")),
			chromedp.Click(chromedp.CSS(`a[href*="method=phone"]`)), chromedp.WaitVisible(chromedp.ID("send-phone")))
		checkAxe(t, pctx, "sign-up by phone, en")
		do(pctx, "send the SMS", chromedp.SendKeys(chromedp.ID("send-phone"), phone), chromedp.Click(chromedp.ID("send-code")),
			chromedp.WaitVisible(chromedp.ID("code-sent")), chromedp.Sleep(1500*time.Millisecond))
		if label := strings.TrimSpace(text(pctx, "#send-code")); !strings.HasSuffix(label, "s") {
			t.Errorf("the send button shows %q: the countdown did not run", label)
		}
		do(pctx, "phone code", chromedp.SendKeys(chromedp.ID("code"), in.Outbox.code(t, phone)), chromedp.Submit(chromedp.ID("signup-form")))
		wait(ar)

		// Every page in Chinese, and the pages that were there before.
		zctx, zcancel := newChromium(t)
		defer zcancel()
		zh := "?ui_locales=zh-CN"
		for _, pg := range []struct{ what, path, sel string }{
			{"sign-up by email", "/oidc/signup" + zh, "new-password"},
			{"sign-up by username", "/oidc/signup" + zh + "&method=username", "username"},
			{"sign-up by phone", "/oidc/signup" + zh + "&method=phone", "send-phone"},
			{"forgot password by email", "/oidc/reset" + zh, "address"},
			{"forgot password by phone", "/oidc/reset" + zh + "&method=phone", "address"},
			{"email verification", "/oidc/verify-email" + zh, "done-title"},
			{"verification link refused", "/oidc/verify-email" + zh + "&email=x%40example.com&code=000000", "done-title"},
		} {
			do(zctx, pg.what, chromedp.Navigate(in.URL+pg.path), chromedp.WaitVisible(chromedp.ID(pg.sel)))
			checkAxe(t, zctx, pg.what+", zh-CN")
		}
		// Sign-in, consent and the second-factor page, in both languages.
		setMFAPolicy(t, in, "optional")
		enrolTOTP(t, in, "mia@example.com")
		third := newRP(t, in, "", client.CreateAppRequest{Name: "Third Party", Type: client.AppTypeNative, RedirectURIs: []string{"http://127.0.0.1/cb"}})
		third.conf.RedirectURL = cb.URL + "/cb"
		for _, lang := range []string{"en", "zh-CN"} {
			lctx, lcancel := newChromium(t)
			ar := third.authURL([]string{"openid", "email"}, oauth2.SetAuthURLParam("ui_locales", lang))
			do(lctx, "sign-in", chromedp.Navigate(ar.URL), chromedp.WaitVisible(chromedp.ID("identifier")))
			checkAxe(t, lctx, "sign-in, "+lang)
			do(lctx, "consent", chromedp.SendKeys(chromedp.ID("identifier"), "ada@example.com"), chromedp.SendKeys(chromedp.ID("password"), newPw),
				chromedp.Submit(chromedp.ID("password-form")), chromedp.WaitVisible(chromedp.ID("allow")))
			checkAxe(t, lctx, "consent, "+lang)
			lcancel()
			mctx, mcancel := newChromium(t)
			ar = rp.authURL(nil, oauth2.SetAuthURLParam("ui_locales", lang))
			do(mctx, "second factor", chromedp.Navigate(ar.URL), chromedp.WaitVisible(chromedp.ID("identifier")),
				chromedp.SendKeys(chromedp.ID("identifier"), "mia@example.com"), chromedp.SendKeys(chromedp.ID("password"), "passw0rd!"),
				chromedp.Submit(chromedp.ID("password-form")), chromedp.WaitVisible(chromedp.ID("totp-code")))
			checkAxe(t, mctx, "second factor, "+lang)
			mcancel()
		}
	})
}

// TestPagesBrowserWidths shows the user pages at a desktop and a phone
// width, and on a phone in the dark scheme: each fits (no sideways
// scrolling); the dark scheme follows the browser's preference and passes
// axe's checks (contrast included); with AUTHPOOL_SCREENSHOTS set, they
// are written there (see TestPagesBrowser).
func TestPagesBrowserWidths(t *testing.T) {
	if chromiumPath() == "" {
		t.Skip("no chromium binary found (install Debian's chromium package; .ci/run does)")
	}
	shots := os.Getenv("AUTHPOOL_SCREENSHOTS")
	eachBackend(t, func(t *testing.T, dbURL string) {
		in := start(t, codeAdminConfig(dbURL), nil)
		for _, vp := range []struct {
			name          string
			width, height int64
			mobile, dark  bool
		}{{"desktop", 1280, 800, false, false}, {"phone", 390, 844, true, false}, {"phone-dark", 390, 844, true, true}} {
			t.Run(vp.name, func(t *testing.T) {
				ctx, cancel := newChromium(t)
				defer cancel()
				opts := []chromedp.EmulateViewportOption{}
				if vp.mobile {
					opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
				}
				if vp.dark {
					if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
						t.Fatal(err)
					}
					if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
						Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
						t.Fatal(err)
					}
				}
				for _, pg := range []struct{ name, path, sel string }{
					{"signup", "/oidc/signup?method=email", "new-password"},
					{"signup-phone", "/oidc/signup?method=phone", "send-phone"},
					{"forgot", "/oidc/reset", "address"},
					{"verify-expired", "/oidc/verify-email?email=x%40example.com&code=000000", "done-title"},
				} {
					if err := chromedp.Do(ctx, chromedp.EmulateViewport(vp.width, vp.height, opts...),
						chromedp.Navigate(in.URL+pg.path), chromedp.WaitVisible(chromedp.ID(pg.sel))); err != nil {
						t.Fatal(err)
					}
					fits(t, ctx, vp.width, pg.name)
					if vp.dark {
						bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
						if err != nil || bg != "rgb(13, 17, 23)" {
							t.Fatalf("the dark scheme is not applied: %q %v", bg, err)
						}
						checkAxe(t, ctx, pg.name+", dark")
					}
					if vp.mobile || pg.name != "signup" {
						screenshot(t, ctx, shots, "pages-"+pg.name+"-"+vp.name+".png")
					}
				}
			})
		}
	})
}

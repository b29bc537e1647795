package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/server"
)

// chromiumPath finds a Chromium to drive; .ci/run installs Debian's
// chromium package when it is missing.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newChromium starts a headless Chromium with a fresh profile.
func newChromium(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	bin := chromiumPath()
	if bin == "" {
		t.Skip("no chromium binary found (install Debian's chromium package; .ci/run does)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	return ctx, func() { cancelTimeout(); cancelCtx(); cancelAlloc() }
}

// TestOIDCBrowser signs in through the hosted page in a real browser
// (headless Chromium): the CAPTCHA page after failed passwords, then a
// phone-code sign-in whose send button's countdown runs under the CSP, both
// ending at a native app's loopback redirect with a code that exchanges.
func TestOIDCBrowser(t *testing.T) {
	if chromiumPath() == "" {
		t.Skip("no chromium binary found (install Debian's chromium package; .ci/run does)")
	}
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		ans := &answers{}
		in := startWith(t, codeAdminConfig(dbURL), nil, server.Options{NewCaptchaAnswer: ans.next})
		email := "chrome@example.com"
		must[*client.User](t)(in.client().RegisterByEmail(ctx, email, oidcPassword, nil, nil))
		phone := "+8613800138001"
		must[*client.User](t)(in.client().RegisterByPhoneCode(ctx, phone, sms(t, in, phone), "", nil, nil))
		in.Clock.Advance(61 * time.Second)

		codes := make(chan url.Values, 4)
		cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/cb" {
				http.NotFound(w, r) // the browser's favicon request
				return
			}
			codes <- r.URL.Query()
			_, _ = w.Write([]byte("<!doctype html><title>done</title><p id=done>done</p>"))
		}))
		defer cb.Close()
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Desktop", Type: client.AppTypeNative, FirstParty: true,
			RedirectURIs: []string{"http://127.0.0.1/cb"}})
		rp.conf.RedirectURL = cb.URL + "/cb" // a native app's ephemeral loopback port

		bctx, cancel := newChromium(t)
		defer cancel()
		wait := func(ar *authRequest) {
			t.Helper()
			select {
			case q := <-codes:
				if q.Get("state") != ar.State || q.Get("code") == "" {
					t.Fatalf("callback: %v", q)
				}
				rp.exchange(t, ar, q.Get("code"))
			case <-time.After(time.Minute):
				t.Fatal("the browser never reached the application")
			}
		}

		// Password, failed until the CAPTCHA shows, then with its answer.
		ar := rp.authURL(nil)
		if err := chromedp.Do(bctx, chromedp.Navigate(ar.URL), chromedp.WaitVisible(chromedp.ID("identifier"))); err != nil {
			t.Fatal(err)
		}
		var captcha bool
		for i := 0; i < 6 && !captcha; i++ {
			err := chromedp.Do(bctx,
				chromedp.SetValue(chromedp.ID("identifier"), email),
				chromedp.SetValue(chromedp.ID("password"), "wrong password 123"),
				chromedp.Submit(chromedp.ID("password-form")),
				chromedp.Sleep(300*time.Millisecond),
				chromedp.WaitVisible(chromedp.ID("error")),
			)
			if err != nil {
				t.Fatal(err)
			}
			n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#captcha-image").length`))
			if err != nil {
				t.Fatal(err)
			}
			captcha = n == 1
		}
		if !captcha {
			t.Fatal("no CAPTCHA after failed passwords")
		}
		var loaded bool
		var err error
		for i := 0; i < 50 && !loaded && err == nil; i++ {
			loaded, err = chromedp.Run(bctx,
				chromedp.Evaluate[bool](`(() => { const i = document.getElementById("captcha-image"); return i.complete && i.naturalWidth > 0 })()`))
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil || !loaded {
			t.Fatalf("the CAPTCHA image did not render under the CSP: %v", err)
		}
		if err := chromedp.Do(bctx,
			chromedp.SetValue(chromedp.ID("identifier"), email),
			chromedp.SetValue(chromedp.ID("password"), oidcPassword),
			chromedp.SetValue(chromedp.ID("captcha"), ans.last()),
			chromedp.Submit(chromedp.ID("password-form")),
		); err != nil {
			t.Fatal(err)
		}
		wait(ar)

		// Phone code in a fresh browser.
		pctx, pcancel := newChromium(t)
		defer pcancel()
		ar = rp.authURL([]string{"openid", "phone"})
		if err := chromedp.Do(pctx,
			chromedp.Navigate(ar.URL), chromedp.WaitVisible(chromedp.ID("use-phone")),
			chromedp.Click(chromedp.ID("use-phone")), chromedp.WaitVisible(chromedp.ID("send-phone")),
			chromedp.SetValue(chromedp.ID("send-phone"), phone),
			chromedp.Click(chromedp.ID("send-code")),
			chromedp.WaitVisible(chromedp.ID("code-sent")),
			chromedp.Sleep(1500*time.Millisecond),
		); err != nil {
			t.Fatal(err)
		}
		label, err := chromedp.Run(pctx, chromedp.Text(chromedp.ID("send-code")))
		if err != nil {
			t.Fatal(err)
		}
		// The script (served under script-src 'self') counts down.
		if !strings.HasSuffix(strings.TrimSpace(label), "s") {
			t.Errorf("the send button shows %q: the countdown script did not run", label)
		}
		code := in.Outbox.code(t, phone)
		if err := chromedp.Do(pctx,
			chromedp.SetValue(chromedp.ID("code"), code),
			chromedp.Submit(chromedp.ID("phone-form")),
		); err != nil {
			t.Fatal(err)
		}
		wait(ar)
	})
}

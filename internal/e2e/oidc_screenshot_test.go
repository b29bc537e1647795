package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/authpool/authpool/client"
)

// TestOIDCBrowserPages walks the hosted sign-in and consent pages in
// headless Chromium at a desktop and a phone width: each page fits its
// width (nothing wider than the viewport, so no sideways scrolling on a
// phone), the password sign-in and the consent's allow button work in the
// browser, and the flow ends at the app with a code that exchanges. With
// AUTHPOOL_SCREENSHOTS set to a directory, it writes the four pages there
// as PNGs (docs/OIDC.md shows them):
//
//	AUTHPOOL_SCREENSHOTS=$PWD/docs/img go test ./internal/e2e -run 'TestOIDCBrowserPages/sqlite' -count=1
func TestOIDCBrowserPages(t *testing.T) {
	if chromiumPath() == "" {
		t.Skip("no chromium binary found (install Debian's chromium package; .ci/run does)")
	}
	shots := os.Getenv("AUTHPOOL_SCREENSHOTS")
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		email := "ada@example.com"
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
		// Not first party: the consent page comes after the sign-in.
		rp := newRP(t, in, "", client.CreateAppRequest{Name: "Photo Book", Type: client.AppTypeNative,
			RedirectURIs: []string{"http://127.0.0.1/cb"}})
		rp.conf.RedirectURL = cb.URL + "/cb"

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
				// A new browser each time, so the consent is asked for
				// again only because the scopes are new for the user.
				scopes := []string{"openid", "email"}
				if vp.mobile {
					scopes = []string{"openid", "email", "profile"}
				}
				ar := rp.authURL(scopes, oauth2.SetAuthURLParam("ui_locales", "en"))
				if err := chromedp.Do(bctx, chromedp.EmulateViewport(vp.width, vp.height, opts...),
					chromedp.Navigate(ar.URL), chromedp.WaitVisible(chromedp.ID("identifier"))); err != nil {
					t.Fatal(err)
				}
				fits(t, bctx, vp.width, "sign-in")
				screenshot(t, bctx, shots, "oidc-signin-"+vp.name+".png")
				if err := chromedp.Do(bctx,
					chromedp.SetValue(chromedp.ID("identifier"), email),
					chromedp.SetValue(chromedp.ID("password"), oidcPassword),
					chromedp.Submit(chromedp.ID("password-form")),
					chromedp.WaitVisible(chromedp.ID("allow")),
				); err != nil {
					t.Fatal(err)
				}
				fits(t, bctx, vp.width, "consent")
				screenshot(t, bctx, shots, "oidc-consent-"+vp.name+".png")
				if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("allow"))); err != nil {
					t.Fatal(err)
				}
				select {
				case q := <-codes:
					if q.Get("state") != ar.State || q.Get("code") == "" {
						t.Fatalf("callback: %v", q)
					}
					rp.exchange(t, ar, q.Get("code"))
				case <-time.After(time.Minute):
					t.Fatal("the browser never reached the application")
				}
			})
		}
	})
}

// fits fails when the page is laid out wider than the device (a phone
// would shrink it), is wider than the viewport (a phone would scroll
// sideways) or any element of it ends past the viewport's right edge.
func fits(t *testing.T, ctx context.Context, width int64, page string) {
	t.Helper()
	over, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const w = window.innerWidth, out = [];
		// A phone lays out a page without a viewport meta tag at 980 px
		// and shrinks it: unreadable.
		if (w > `+strconv.FormatInt(width, 10)+`) out.push("layout viewport " + w);
		if (document.documentElement.scrollWidth > w) out.push("document " + document.documentElement.scrollWidth);
		for (const el of document.body.querySelectorAll("*")) {
			const r = el.getBoundingClientRect();
			if (r.width > 0 && r.right > w + 0.5) out.push(el.tagName + (el.id ? "#" + el.id : "") + " " + Math.round(r.right));
		}
		return out;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(over) > 0 {
		t.Errorf("the %s page is wider than %d px: %v", page, width, over)
	}
}

// screenshot writes the page as a PNG into dir ("" writes nothing).
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

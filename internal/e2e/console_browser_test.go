package e2e

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/authpool/authpool/client"
)

// TestConsoleBrowser drives the console in headless Chromium: sign in
// with the administrator key, find a user by the start of their email,
// block them (their token check turns false through the SDK), unblock
// them, reset their second factors, and set one of their user-defined
// values with its typed editor; every change shows up through the admin
// SDK. The key never reaches a URL, a page or the log. With
// AUTHPOOL_SCREENSHOTS set to a directory it writes the overview, users
// and user pages there (docs/CONSOLE.md shows them):
//
//	AUTHPOOL_SCREENSHOTS=$PWD/docs/img go test ./internal/e2e -run 'TestConsoleBrowser/sqlite' -count=1
func TestConsoleBrowser(t *testing.T) {
	if chromiumPath() == "" {
		t.Skip("no chromium binary found (install Debian's chromium package; .ci/run does)")
	}
	shots := os.Getenv("AUTHPOOL_SCREENSHOTS")
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		for _, e := range []string{"ann@example.com", "bob@example.com", "eve.other@example.org"} {
			consoleUser(t, in, e)
		}
		_, _, userID, uc := enrolTOTPClient(t, in, "eve@example.com")
		must[*client.Field](t)(in.admin().DefineField(ctx, "default", client.DefineFieldRequest{Key: "level", DataType: "NUMBER", Label: "Level"}))
		if st := must[*client.LoginStatus](t)(in.client().CheckLoginStatus(ctx, uc.Token())); !st.Status {
			t.Fatal("the user's token does not check before the test")
		}

		b, cancel := newConsoleChrome(t, in, testAdminKey)
		defer cancel()
		bctx, base, run := b.ctx, b.base, b.run
		value := func(what string, a chromedp.Action[string]) string {
			t.Helper()
			v, err := chromedp.Run(bctx, a)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			return v
		}
		run("overview", chromedp.WaitVisible(chromedp.ID("fig-users")))
		loc := value("location", chromedp.Location())
		if !strings.HasSuffix(loc, "/console/pools/default/overview") || strings.Contains(loc, testAdminKey) {
			t.Fatalf("after sign-in at %s", loc)
		}
		b.axe("console overview, en")
		screenshot(t, bctx, shots, "console-overview.png")

		run("find the user",
			chromedp.Navigate(base+"/pools/default/users"),
			chromedp.WaitVisible(chromedp.ID("q")),
			chromedp.SendKeys(chromedp.ID("q"), "EVE@"),
			chromedp.Click(chromedp.ID("search")),
			// The list before the search is visible at once: wait for the answer's.
			chromedp.WaitVisible(chromedp.CSS("#users tbody tr:only-child")),
		)
		rows, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#users tbody tr")].map(r => r.textContent)`))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || !strings.Contains(rows[0], "eve@example.com") {
			t.Fatalf("searching EVE@ found %q", rows)
		}
		b.axe("console users (search), en")
		run("open the user",
			chromedp.Click(chromedp.CSS("#users a")),
			chromedp.WaitVisible(chromedp.ID("user-id")),
		)
		b.axe("console user")

		run("block", chromedp.Click(chromedp.ID("block")), chromedp.WaitVisible(chromedp.ID("unblock")))
		if st := must[*client.LoginStatus](t)(in.client().CheckLoginStatus(ctx, uc.Token())); st.Status {
			t.Fatal("blocked in the console, yet the user's token still checks")
		}
		if !must[*client.User](t)(in.admin().GetUser(ctx, "default", userID)).Blocked {
			t.Fatal("the admin API does not see the block")
		}
		run("unblock", chromedp.Click(chromedp.ID("unblock")), chromedp.WaitVisible(chromedp.ID("block")))
		if must[*client.User](t)(in.admin().GetUser(ctx, "default", userID)).Blocked {
			t.Fatal("unblocked in the console, yet still blocked")
		}

		if n := len(must[*client.MFAStatus](t)(in.admin().GetUserMFA(ctx, "default", userID)).Factors); n != 1 {
			t.Fatalf("%d factors before the reset", n)
		}
		run("reset MFA", chromedp.Click(chromedp.ID("reset-mfa")), chromedp.WaitVisible(chromedp.ID("no-factors")))
		if n := len(must[*client.MFAStatus](t)(in.admin().GetUserMFA(ctx, "default", userID)).Factors); n != 0 {
			t.Fatalf("%d factors after the reset", n)
		}

		run("set a value",
			chromedp.SetValue(chromedp.ID("v-level"), "42"),
			chromedp.Submit(chromedp.ID("value-level")),
			chromedp.WaitVisible(chromedp.ID("notice")),
		)
		notice := value("notice", chromedp.Text(chromedp.ID("notice")))
		got := must[*client.User](t)(in.admin().GetUser(ctx, "default", userID))
		if v, ok := got.CustomData["level"].(float64); !ok || v != 42 {
			t.Fatalf("after setting level=42 the user has %v (%q)", got.CustomData, notice)
		}
		screenshot(t, bctx, shots, "console-user.png")
		run("users page", chromedp.Navigate(base+"/pools/default/users"), chromedp.WaitVisible(chromedp.ID("users")))
		b.axe("console users, en")
		screenshot(t, bctx, shots, "console-users.png")
		b.open("/users/new", "#email")
		b.axe("console new user")

		// The pages in Chinese, and the sign-in page after signing out.
		b.lang("zh-CN")
		b.open("/overview", "#fig-users")
		if got := b.eval(`document.documentElement.lang`); got != "zh-CN" {
			t.Fatalf("the overview with Accept-Language zh-CN is in %q", got)
		}
		b.axe("console overview, zh-CN")
		b.open("/users", "#users")
		b.axe("console users, zh-CN")
		b.open("/users/"+userID, "#user-id")
		b.axe("console user, zh-CN")
		run("sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("key")))
		b.axe("console sign-in, zh-CN")
		b.lang("en")

		html := value("page source", chromedp.OuterHTML(chromedp.CSS("html")))
		if strings.Contains(html, testAdminKey) {
			t.Fatal("a page holds the administrator key")
		}
		in.Outbox.noLeak(t, testAdminKey)
	})
}

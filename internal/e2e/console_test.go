package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/console"
	"github.com/authpool/authpool/internal/httpapi"
)

const consolePassword = "console password 1234"

// consoleUser registers a user and logs them in; it returns the user and
// their token.
func consoleUser(t *testing.T, in *instance, email string) (*client.User, string) {
	t.Helper()
	ctx := context.Background()
	u := must[*client.User](t)(in.client().RegisterByEmail(ctx, email, consolePassword, nil, nil))
	c := in.client()
	must[*client.User](t)(c.LoginByEmail(ctx, email, consolePassword, nil))
	return u, c.Token()
}

// TestConsoleSignIn: a wrong key is refused without being shown back; the
// right one starts a session whose cookie is HttpOnly, SameSite=Strict and
// scoped to the console; the pages render; sign-out ends the session on
// the server, so the old cookie no longer opens anything. The key never
// reaches a page, a URL or the log.
func TestConsoleSignIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		in := start(t, adminConfig(dbURL), nil)
		u, _ := consoleUser(t, in, "ada@example.com")
		c := newConsoleClient(t, in)

		a := c.get("/pools/default/overview")
		if a.Status != http.StatusSeeOther || a.Location != "/console/signin" {
			t.Fatalf("without a session: %d %q", a.Status, a.Location)
		}
		c.get("/signin")
		wrong := "wrong-key-" + strings.Repeat("x", 40)
		a = c.post("/signin", url.Values{"key": {wrong}})
		if a.Status != http.StatusUnauthorized || strings.Contains(a.Body, wrong) || c.sessionCookie() != "" {
			t.Fatalf("wrong key: %d, cookie %q", a.Status, c.sessionCookie())
		}

		c.get("/signin")
		a = c.post("/signin", url.Values{"key": {testAdminKey}})
		if a.Status != http.StatusSeeOther {
			t.Fatalf("sign-in: %d\n%s", a.Status, a.Body)
		}
		set := a.Header.Values("Set-Cookie")
		var ck string
		for _, v := range set {
			if strings.HasPrefix(v, "authpool_console=") {
				ck = v
			}
		}
		for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/console/"} {
			if !strings.Contains(ck, want) {
				t.Errorf("session cookie %q lacks %s", ck, want)
			}
		}
		token := c.sessionCookie()

		a = c.get("/")
		if a.Status != http.StatusSeeOther || a.Location != "/console/pools/default/overview" {
			t.Fatalf("home: %d %q", a.Status, a.Location)
		}
		pages := []string{"/pools/default/overview", "/pools/default/users", "/pools/default/users?q=ada", "/pools/default/users/new", "/pools/default/users/" + u.ID}
		for _, p := range pages {
			a = c.get(p)
			if a.Status != http.StatusOK {
				t.Fatalf("GET %s: %d\n%s", p, a.Status, a.Body)
			}
			if strings.Contains(a.Body, testAdminKey) || strings.Contains(a.Body, token) {
				t.Fatalf("GET %s shows the key or the session token", p)
			}
			if csp := a.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("GET %s: CSP %q", p, csp)
			}
		}
		if a = c.get("/pools/default/users?q=ada"); !strings.Contains(a.Body, "ada@example.com") {
			t.Fatal("the search does not find the user")
		}
		if a = c.get("/pools/nope/overview"); a.Status != http.StatusNotFound {
			t.Fatalf("unknown pool: %d", a.Status)
		}

		a = c.post("/signout", nil)
		if a.Status != http.StatusSeeOther || a.Location != "/console/signin" {
			t.Fatalf("sign-out: %d %q", a.Status, a.Location)
		}
		// The old cookie, replayed, opens nothing: the session is gone.
		replay := newConsoleClient(t, in)
		cu, _ := url.Parse(in.URL + "/console/")
		replay.hc.Jar.SetCookies(cu, []*http.Cookie{{Name: "authpool_console", Value: token, Path: "/console/"}})
		if a = replay.get("/pools/default/overview"); a.Status != http.StatusSeeOther {
			t.Fatalf("a signed-out session still works: %d", a.Status)
		}
		in.Outbox.noLeak(t, testAdminKey, wrong, token)
	})
}

// TestConsoleNeedsSession: no route but the sign-in answers anything
// without a session: pages send to the sign-in, changes are refused,
// and nothing is changed.
func TestConsoleNeedsSession(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		u, tok := consoleUser(t, in, "bob@example.com")
		c := newConsoleClient(t, in)
		c.get("/signin") // a pre-session form token, which opens nothing else
		for _, rt := range console.Routes() {
			if rt.Public {
				continue
			}
			p := consolePath(rt.Path, u.ID)
			var a consoleAnswer
			if rt.Method == http.MethodGet {
				a = c.get(p)
				if a.Status != http.StatusSeeOther || a.Location != "/console/signin" {
					t.Errorf("GET %s without a session: %d %q", p, a.Status, a.Location)
				}
				continue
			}
			a = c.post(p, url.Values{"confirm": {"1"}, "key": {"k"}, "value": {"1"}})
			if a.Status != http.StatusUnauthorized {
				t.Errorf("%s %s without a session: %d", rt.Method, p, a.Status)
			}
		}
		for _, p := range []string{"/nothing", "/pools/default/nothing", "/static/../signin"} {
			if a := c.get(p); a.Status < 300 || a.Status >= 500 {
				t.Errorf("GET %s: %d", p, a.Status)
			}
		}
		// Nothing changed: the user is there, not blocked, still signed in.
		got := must[*client.User](t)(in.admin().GetUser(ctx, "default", u.ID))
		if got.Blocked {
			t.Fatal("a request without a session blocked the user")
		}
		if st := must[*client.LoginStatus](t)(in.client().CheckLoginStatus(ctx, tok)); !st.Status {
			t.Fatal("a request without a session ended the user's session")
		}
	})
}

// consolePath fills a route's path parameters.
func consolePath(p, userID string) string {
	if p == "/switch" {
		return "/switch?pool=default"
	}
	return strings.NewReplacer("{poolId}", "default", "{userId}", userID, "{sessionId}", "nosuchsession", "{$}", "",
		"{key}", "nosuchfield", "{appId}", "nosuchapp", "{pipelineId}", "nosuchpipeline", "{webhookId}", "nosuchwebhook", "{deliveryId}", "nosuchdelivery", "{connectorId}", "nosuchconnector", "{keyId}", "nosuchkey").Replace(p)
}

// TestConsoleCrossOrigin: with a live session, a change is refused when
// it comes from a page of another origin (Origin, Sec-Fetch-Site), when
// it lacks this session's form token, or carries another session's.
func TestConsoleCrossOrigin(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		u, tok := consoleUser(t, in, "carol@example.com")
		c := newConsoleClient(t, in)
		c.signIn(testAdminKey)
		c.get("/pools/default/users/" + u.ID)
		other := newConsoleClient(t, in)
		other.signIn(testAdminKey)
		other.get("/pools/default/users/" + u.ID)
		if other.csrf == c.csrf {
			t.Fatal("two sessions share a form token")
		}
		block := "/pools/default/users/" + u.ID + "/block"
		for name, tc := range map[string]struct {
			form    url.Values
			headers map[string]string
		}{
			"another origin":          {nil, map[string]string{"Origin": "http://evil.example"}},
			"origin null":             {nil, map[string]string{"Origin": "null"}},
			"cross-site":              {nil, map[string]string{"Sec-Fetch-Site": "cross-site"}},
			"same-site":               {nil, map[string]string{"Sec-Fetch-Site": "same-site", "Origin": in.URL}},
			"no form token":           {url.Values{"csrf": {""}}, map[string]string{"Origin": in.URL}},
			"another session's token": {url.Values{"csrf": {other.csrf}}, map[string]string{"Origin": in.URL}},
		} {
			if a := c.postWith(block, tc.form, tc.headers); a.Status != http.StatusForbidden {
				t.Errorf("%s: %d", name, a.Status)
			}
		}
		// A sign-in from another origin is refused too (no login CSRF).
		fresh := newConsoleClient(t, in)
		fresh.get("/signin")
		if a := fresh.postWith("/signin", url.Values{"key": {testAdminKey}}, map[string]string{"Origin": "http://evil.example"}); a.Status != http.StatusForbidden || fresh.sessionCookie() != "" {
			t.Errorf("cross-origin sign-in: %d", a.Status)
		}
		if st := must[*client.LoginStatus](t)(in.client().CheckLoginStatus(ctx, tok)); !st.Status {
			t.Fatal("a refused request blocked the user")
		}
		// The same request from the console's own page goes through.
		if a := c.post(block, nil); a.Status != http.StatusSeeOther {
			t.Fatalf("block from the console: %d\n%s", a.Status, a.Body)
		}
		if st := must[*client.LoginStatus](t)(in.client().CheckLoginStatus(ctx, tok)); st.Status {
			t.Fatal("blocked, yet the user's token still checks")
		}
	})
}

// TestConsoleSessionTimeouts: a session unused for the idle timeout ends;
// one in use ends at its absolute lifetime.
func TestConsoleSessionTimeouts(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		in := start(t, adminConfig(dbURL), nil)
		c := newConsoleClient(t, in)
		c.signIn(testAdminKey)
		in.Clock.Advance(29 * time.Minute)
		if a := c.get("/pools/default/overview"); a.Status != http.StatusOK {
			t.Fatalf("within the idle timeout: %d", a.Status)
		}
		in.Clock.Advance(31 * time.Minute)
		if a := c.get("/pools/default/overview"); a.Status != http.StatusSeeOther {
			t.Fatalf("after 31 idle minutes: %d", a.Status)
		}
		c.signIn(testAdminKey)
		for range 25 { // 25 x 29 minutes > 12 hours, never idle
			in.Clock.Advance(29 * time.Minute)
			if a := c.get("/pools/default/overview"); a.Status != http.StatusOK {
				if a.Status != http.StatusSeeOther {
					t.Fatalf("%d", a.Status)
				}
				return
			}
		}
		t.Fatal("a session in use outlived its 12-hour lifetime")
	})
}

// TestConsoleReadOnlyKey: a read-only named key sees every page and
// changes nothing: each change route of the console and of the admin API
// is refused (2018 / 403); a revoked key's console session ends at once.
func TestConsoleReadOnlyKey(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		u, tok := consoleUser(t, in, "dan@example.com")
		ro := must[*client.CreatedNamedAdminKey](t)(in.admin().CreateAdminKey(ctx, "auditor", true))

		c := newConsoleClient(t, in)
		c.signIn(ro.Key)
		for _, rt := range console.Routes() {
			if rt.Public || rt.Method != http.MethodGet {
				continue
			}
			p := consolePath(rt.Path, u.ID)
			// Pages of one field, app, pipeline, webhook or delivery name
			// none that exists here (TestConsoleConfigReadOnly opens real ones).
			a := c.get(p)
			if a.Status != http.StatusOK && a.Status != http.StatusSeeOther && (a.Status != http.StatusNotFound || !strings.Contains(p, "nosuch")) {
				t.Errorf("read-only GET %s: %d", p, a.Status)
			}
		}
		a := c.get("/pools/default/users/" + u.ID)
		if !strings.Contains(a.Body, "auditor") || strings.Contains(a.Body, `id="block"`) {
			t.Error("the read-only user page names no key or offers changes")
		}
		for _, rt := range console.Routes() {
			if rt.Public || rt.Method == http.MethodGet || rt.ReadOnlyOK {
				continue
			}
			p := consolePath(rt.Path, u.ID)
			if a := c.post(p, url.Values{"confirm": {"1"}, "key": {"k"}, "value": {"1"}, "email": {"x@example.com"}}); a.Status != http.StatusForbidden {
				t.Errorf("read-only %s %s: %d", rt.Method, p, a.Status)
			}
		}

		// The admin API: every route that is not GET refuses the key
		// before it reads anything; every GET lets it through.
		for _, rt := range httpapi.AdminRoutes() {
			p := strings.NewReplacer("{poolId}", "default", "{userId}", u.ID, "{sessionId}", "s", "{key}", "k",
				"{pipelineId}", "p", "{webhookId}", "w", "{deliveryId}", "d", "{appId}", "a", "{keyId}", "k").Replace(rt.Path)
			req, err := http.NewRequest(rt.Method, in.URL+p, strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+ro.Key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			refused := resp.StatusCode == http.StatusForbidden
			if rt.Method == http.MethodGet && (refused || resp.StatusCode == http.StatusUnauthorized) {
				t.Errorf("read-only key refused on %s %s: %d", rt.Method, rt.Path, resp.StatusCode)
			}
			if rt.Method != http.MethodGet && !refused {
				t.Errorf("read-only key not refused on %s %s: %d", rt.Method, rt.Path, resp.StatusCode)
			}
		}
		got := must[*client.User](t)(in.admin().GetUser(ctx, "default", u.ID))
		if got.Blocked || !must[*client.LoginStatus](t)(in.client().CheckLoginStatus(ctx, tok)).Status {
			t.Fatal("the read-only key changed the user")
		}
		// A read-only key may sign out; revoking it ends its sessions.
		must[struct{}](t)(struct{}{}, in.admin().RevokeAdminKey(ctx, ro.ID))
		if a := c.get("/pools/default/overview"); a.Status != http.StatusSeeOther {
			t.Fatalf("a revoked key's session still works: %d", a.Status)
		}
		in.Outbox.noLeak(t, ro.Key, testAdminKey)
	})
}

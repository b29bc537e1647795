package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/console"
)

// TestConsoleUserActions drives every action of the users pages as a
// browser without JavaScript would, checking each through the SDK:
// create (a refusal keeps what was typed but never the password), the
// verified flags, typed values of each kind (and refusals), ending one
// session and all, deleting only when confirmed, and keyset paging that
// neither repeats nor skips a user.
func TestConsoleUserActions(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		adm := in.admin()
		for _, f := range []client.DefineFieldRequest{{Key: "nick", DataType: "STRING"}, {Key: "vip", DataType: "BOOLEAN"},
			{Key: "prefs", DataType: "OBJECT"}, {Key: "born", DataType: "DATETIME"}, {Key: "level", DataType: "NUMBER"}} {
			must[*client.Field](t)(adm.DefineField(ctx, "default", f))
		}
		c := newConsoleClient(t, in)
		c.signIn(testAdminKey)
		c.get("/pools/default/users/new")

		secret := "Secret password 991"
		a := c.post("/pools/default/users", url.Values{"email": {"not an email"}, "username": {"zed"}, "password": {secret}})
		if a.Status != http.StatusBadRequest || !strings.Contains(a.Body, `value="zed"`) || strings.Contains(a.Body, secret) {
			t.Fatalf("refused create: %d\n%s", a.Status, a.Body)
		}
		a = c.post("/pools/default/users", url.Values{"email": {"zed@example.com"}, "username": {"zed"}, "password": {secret}, "emailVerified": {"1"}})
		if a.Status != http.StatusSeeOther || !strings.HasPrefix(a.Location, "/console/pools/") {
			t.Fatalf("create: %d %q\n%s", a.Status, a.Location, a.Body)
		}
		userPath := strings.TrimPrefix(a.Location, "/console")
		id := userPath[strings.LastIndex(userPath, "/")+1:]
		u := must[*client.User](t)(adm.GetUser(ctx, "default", id))
		if u.Email != "zed@example.com" || !u.EmailVerified {
			t.Fatalf("created: %+v", u)
		}
		// The password works: the user logs in, twice (two sessions).
		var tokens []string
		for range 2 {
			uc := in.client()
			must[*client.User](t)(uc.LoginByEmail(ctx, "zed@example.com", secret, nil))
			tokens = append(tokens, uc.Token())
		}
		in.Outbox.noLeak(t, secret)

		c.get(userPath)
		if a = c.post(userPath+"/verified", url.Values{"phoneVerified": {"1"}}); a.Status != http.StatusSeeOther {
			t.Fatalf("verified: %d", a.Status)
		}
		if u = must[*client.User](t)(adm.GetUser(ctx, "default", id)); u.EmailVerified || !u.PhoneVerified {
			t.Fatalf("flags after the form: email %v phone %v", u.EmailVerified, u.PhoneVerified)
		}

		for _, v := range []struct{ key, text string }{
			{"nick", `Zed "the" <b>`}, {"vip", "true"}, {"prefs", `{"theme":"dark"}`}, {"born", "1990-05-01T12:00:00Z"}, {"level", "7.5"},
		} {
			if a = c.post(userPath+"/values", url.Values{"key": {v.key}, "value": {v.text}}); a.Status != http.StatusSeeOther {
				t.Fatalf("set %s: %d\n%s", v.key, a.Status, a.Body)
			}
		}
		u = must[*client.User](t)(adm.GetUser(ctx, "default", id))
		if u.CustomData["nick"] != `Zed "the" <b>` || u.CustomData["vip"] != true || u.CustomData["level"] != 7.5 ||
			fmt.Sprint(u.CustomData["prefs"]) != "map[theme:dark]" {
			t.Fatalf("values: %#v", u.CustomData)
		}
		if a = c.get(userPath); !strings.Contains(a.Body, `Zed &#34;the&#34; &lt;b&gt;`) {
			t.Fatal("the user page does not show the escaped string value")
		}
		for _, v := range []struct{ key, text string }{
			{"level", "seven"}, {"vip", "yes"}, {"prefs", "[1"}, {"born", "yesterday"}, {"nosuch", "1"},
		} {
			if a = c.post(userPath+"/values", url.Values{"key": {v.key}, "value": {v.text}}); a.Status < 400 || a.Status >= 500 {
				t.Errorf("set %s=%q: %d", v.key, v.text, a.Status)
			}
		}
		if a = c.post(userPath+"/values/remove", url.Values{"key": {"vip"}}); a.Status != http.StatusSeeOther {
			t.Fatalf("remove: %d", a.Status)
		}
		if _, ok := must[*client.User](t)(adm.GetUser(ctx, "default", id)).CustomData["vip"]; ok {
			t.Fatal("the removed value is still there")
		}

		sessions := must[[]client.Session](t)(adm.ListUserSessions(ctx, "default", id))
		if len(sessions) != 2 {
			t.Fatalf("%d sessions", len(sessions))
		}
		if a = c.post(userPath+"/sessions/"+sessions[0].ID+"/revoke", nil); a.Status != http.StatusSeeOther {
			t.Fatalf("revoke one: %d", a.Status)
		}
		alive := 0
		for _, tok := range tokens {
			if must[*client.LoginStatus](t)(in.client().CheckLoginStatus(ctx, tok)).Status {
				alive++
			}
		}
		if alive != 1 {
			t.Fatalf("%d sessions alive after ending one of two", alive)
		}
		if a = c.post(userPath+"/sessions/revoke", nil); a.Status != http.StatusSeeOther {
			t.Fatalf("revoke all: %d", a.Status)
		}
		for _, tok := range tokens {
			if must[*client.LoginStatus](t)(in.client().CheckLoginStatus(ctx, tok)).Status {
				t.Fatal("a session outlived ending them all")
			}
		}

		if a = c.post(userPath+"/delete", nil); a.Status != http.StatusBadRequest {
			t.Fatalf("delete without confirming: %d", a.Status)
		}
		must[*client.User](t)(adm.GetUser(ctx, "default", id))
		if a = c.post(userPath+"/delete", url.Values{"confirm": {"1"}}); a.Status != http.StatusSeeOther {
			t.Fatalf("delete: %d", a.Status)
		}
		_, err := adm.GetUser(ctx, "default", id)
		wantCode(t, err, 2004)

		// Paging: 60 users, pages of 25, every user exactly once.
		for i := range 60 {
			must[*client.User](t)(adm.CreateUser(ctx, "default", client.CreateUserRequest{Email: fmt.Sprintf("p%02d@example.com", i)}))
		}
		seen := map[string]int{}
		next := "/pools/default/users"
		for pages := 0; next != ""; pages++ {
			if pages > 5 {
				t.Fatalf("paging does not end: %q, seen %d", next, len(seen))
			}
			a = c.get(next)
			for i := range 60 {
				if strings.Contains(a.Body, fmt.Sprintf(">p%02d@example.com<", i)) {
					seen[fmt.Sprint(i)]++
				}
			}
			next = ""
			if i := strings.Index(a.Body, `rel="next" id="next-page"`); i >= 0 {
				j := strings.LastIndex(a.Body[:i], `href="`)
				next = strings.ReplaceAll(strings.TrimPrefix(a.Body[j+6:strings.Index(a.Body[j+6:], `"`)+j+6], "/console"), "&amp;", "&")
			}
		}
		if len(seen) != 60 {
			t.Fatalf("paging showed %d of 60 users", len(seen))
		}
		for k, n := range seen {
			if n != 1 {
				t.Fatalf("user p%s shown %d times", k, n)
			}
		}
		if a = c.get("/pools/default/users?after=bad"); a.Status != http.StatusBadRequest {
			t.Fatalf("a bad cursor: %d", a.Status)
		}
	})
}

// TestConsoleListeners: AUTHPOOL_CONSOLE_ADDR serves the console on its
// own address and not on the main one; AUTHPOOL_CONSOLE_PATH moves it;
// off serves none.
func TestConsoleListeners(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		cfg := adminConfig(dbURL)
		cfg.ConsoleAddr = addr
		in := start(t, cfg, nil)
		if resp, err := http.Get(in.URL + "/console/signin"); err != nil || resp.StatusCode != http.StatusNotFound {
			t.Fatalf("the main listener serves the console: %v %v", err, resp.StatusCode)
		}
		own := &instance{URL: "http://" + addr, Outbox: in.Outbox}
		c := newConsoleClient(t, own)
		c.signIn(testAdminKey)
		if a := c.get("/pools/default/overview"); a.Status != http.StatusOK {
			t.Fatalf("the console's own listener: %d", a.Status)
		}
		in.stop()

		cfg = adminConfig(storeURLAgain(t, dbURL))
		cfg.ConsolePath = "/ops/console"
		in = start(t, cfg, nil)
		if resp, err := http.Get(in.URL + "/ops/console/signin"); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("moved console: %v %v", err, resp.StatusCode)
		}
		in.stop()

		cfg = adminConfig(storeURLAgain(t, dbURL))
		cfg.ConsolePath = "off"
		in = start(t, cfg, nil)
		if resp, err := http.Get(in.URL + "/console/signin"); err != nil || resp.StatusCode != http.StatusNotFound {
			t.Fatalf("console off: %v %v", err, resp.StatusCode)
		}
		if len(console.Routes()) == 0 {
			t.Fatal("no routes")
		}
	})
}

// storeURLAgain is the same database for the next server of a test.
func storeURLAgain(t *testing.T, dbURL string) string { return dbURL }

// TestConsoleOverviewAndPools: the overview counts what the store holds
// (users, today's new users, sign-ins, failed logins, CAPTCHA demands),
// per pool, and the pool switcher opens the same section of another pool;
// an imported user's upstream identities show on their page.
func TestConsoleOverviewAndPools(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		consoleUser(t, in, "o1@example.com")
		consoleUser(t, in, "o2@example.com")
		for range 2 {
			_, err := in.client().LoginByEmail(ctx, "o1@example.com", "wrong password 000", nil)
			if err == nil {
				t.Fatal("a wrong password logged in")
			}
		}
		other := must[*client.Pool](t)(in.admin().CreatePool(ctx, client.CreatePoolRequest{ID: "shop", Name: "Shop"}))
		c := newConsoleClient(t, in)
		c.signIn(testAdminKey)
		a := c.get("/pools/default/overview")
		for id, want := range map[string]string{"fig-users": "2", "fig-new-users": "2", "fig-sign-ins": "2", "fig-failed-logins": "2"} {
			if !strings.Contains(a.Body, `id="`+id+`">`+want+`<`) {
				t.Errorf("overview %s is not %s", id, want)
			}
		}
		if !strings.Contains(a.Body, "<svg") || !strings.Contains(a.Body, `role="img"`) {
			t.Error("the overview has no charts")
		}
		a = c.get("/switch?pool=" + other.ID + "&section=/users")
		if a.Status != http.StatusSeeOther || a.Location != "/console/pools/shop/users" {
			t.Fatalf("switch: %d %q", a.Status, a.Location)
		}
		if a = c.get("/switch?pool=../../api&section=/users"); a.Status != http.StatusNotFound {
			t.Fatalf("switch to a bad pool: %d", a.Status)
		}
		if a = c.get("/pools/shop/overview"); !strings.Contains(a.Body, `id="fig-users">0<`) {
			t.Error("the other pool's overview counts the default pool's users")
		}

		line := `{"externalId":"g1","email":"linked@example.com","identities":[{"provider":"google-oauth2","subject":"g-123"}]}` + "\n"
		must[*client.ImportSummary](t)(in.admin().ImportUsers(ctx, "default", strings.NewReader(line), client.ImportOptions{Source: "auth0"}, func(client.ImportReport) error { return nil }))
		list := must[*client.UserList](t)(in.admin().ListUsers(ctx, "default", client.ListUsersOptions{Search: "linked@"}))
		if len(list.Users) != 1 {
			t.Fatalf("imported user: %+v", list)
		}
		if a = c.get("/pools/default/users/" + list.Users[0].ID); !strings.Contains(a.Body, "google-oauth2") || !strings.Contains(a.Body, "g-123") {
			t.Fatal("the user page does not show the imported identity")
		}
	})
}

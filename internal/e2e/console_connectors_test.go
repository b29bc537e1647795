package e2e

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/authpool/authpool/client"
)

// TestConsoleConnectors (issue 15's console page): through the console's
// forms an administrator adds a social sign-in connector (the secret
// written once, shown on no page and in no log line), and a refused one
// keeps what was typed with the use case's message; edits it with the
// secret left empty (kept) and then replaced; turns it off and on;
// deletes it only with the box ticked. Each change is seen through the
// admin SDK and in the pool's public list of sign-in buttons.
func TestConsoleConnectors(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		c := newConsoleClient(t, in)
		c.signIn(testAdminKey)
		const secret = "corp-client-secret-9f2c"
		form := url.Values{
			"type": {"oauth2"}, "id": {"corp"}, "label": {"Corp SSO"}, "clientId": {"corp-app"}, "clientSecret": {secret},
			"authUrl": {"https://corp.example/authorize"}, "tokenUrl": {"https://corp.example/token"},
			"userInfoUrl": {"https://corp.example/userinfo"}, "scopes": {"profile email"}, "claimMap": {"subject = data.id\nemail = data.mail"},
			"enabled": {"1"},
		}
		a := c.get("/pools/default/connectors")
		if a.Status != http.StatusOK || !strings.Contains(a.Body, `id="no-connectors"`) {
			t.Fatalf("empty page: %d", a.Status)
		}
		// Refused: plain http to a non-loopback host; what was typed stays,
		// the secret does not come back.
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("tokenUrl", "http://corp.example/token")
		if a := c.post("/pools/default/connectors", bad); a.Status != http.StatusBadRequest || !strings.Contains(a.Body, "Corp SSO") || strings.Contains(a.Body, secret) {
			t.Fatalf("refused connector: %d", a.Status)
		}
		if a := c.post("/pools/default/connectors", form); a.Status != http.StatusSeeOther {
			t.Fatalf("create: %d %s", a.Status, a.Body)
		}
		got := must[*client.Connector](t)(in.admin().GetConnector(ctx, "default", "corp"))
		if got.Type != "oauth2" || got.ClientID != "corp-app" || !got.HasSecret || !got.Enabled || got.ClaimMap["email"] != "data.mail" || strings.Join(got.Scopes, " ") != "profile email" {
			t.Fatalf("created: %+v", got)
		}
		a = c.get("/pools/default/connectors")
		if !strings.Contains(a.Body, `id="connector-corp"`) || strings.Contains(a.Body, secret) {
			t.Fatal("the list does not show the connector, or shows its secret")
		}
		if p := enabledConnectors(t, in); !strings.Contains(p, "Corp SSO") {
			t.Fatal("the enabled connector is not among the sign-in buttons")
		}

		// Edit with the secret left empty: kept.
		edit := url.Values{"label": {"Corp"}, "clientId": {"corp-app-2"}, "authUrl": {"https://corp.example/authorize"},
			"tokenUrl": {"https://corp.example/token"}, "userInfoUrl": {"https://corp.example/userinfo"}, "scopes": {"profile"}, "claimMap": {"subject = data.id"}}
		if a := c.post("/pools/default/connectors/corp", edit); a.Status != http.StatusSeeOther {
			t.Fatalf("edit: %d %s", a.Status, a.Body)
		}
		got = must[*client.Connector](t)(in.admin().GetConnector(ctx, "default", "corp"))
		if got.Label != "Corp" || got.ClientID != "corp-app-2" || !got.HasSecret || len(got.ClaimMap) != 1 {
			t.Fatalf("after the edit: %+v", got)
		}
		edit.Set("removeSecret", "1")
		c.post("/pools/default/connectors/corp", edit)
		if got = must[*client.Connector](t)(in.admin().GetConnector(ctx, "default", "corp")); got.HasSecret {
			t.Fatal("the secret was not removed")
		}

		// Off: no button; on again.
		c.post("/pools/default/connectors/corp/enabled", url.Values{"enabled": {"0"}})
		if got = must[*client.Connector](t)(in.admin().GetConnector(ctx, "default", "corp")); got.Enabled {
			t.Fatal("still enabled")
		}
		if p := enabledConnectors(t, in); strings.Contains(p, "Corp") {
			t.Fatal("a disabled connector has a button")
		}
		c.post("/pools/default/connectors/corp/enabled", url.Values{"enabled": {"1"}})

		// Delete: only with the box ticked.
		if a := c.post("/pools/default/connectors/corp/delete", url.Values{}); a.Status != http.StatusBadRequest {
			t.Fatalf("delete without the box: %d", a.Status)
		}
		if a := c.post("/pools/default/connectors/corp/delete", url.Values{"confirm": {"1"}}); a.Status != http.StatusSeeOther {
			t.Fatalf("delete: %d", a.Status)
		}
		if cs := must[[]client.Connector](t)(in.admin().ListConnectors(ctx, "default")); len(cs) != 0 {
			t.Fatalf("after deletion: %+v", cs)
		}

		// A preset's settings form, saved as the page shows it: the
		// fields it does not use stay empty, its secret stays.
		must[*client.Connector](t)(in.admin().CreateConnector(ctx, "default", client.CreateConnectorRequest{
			ID: "github", Type: "github", Label: "GitHub", ClientID: "gh-app", ClientSecret: "gh-secret",
		}))
		if a := c.post("/pools/default/connectors/github", url.Values{"label": {"GitHub (work)"}, "clientId": {"gh-app"}, "scopes": {"read:user user:email"}}); a.Status != http.StatusSeeOther {
			t.Fatalf("saving a preset: %d %s", a.Status, a.Body)
		}
		if got := must[*client.Connector](t)(in.admin().GetConnector(ctx, "default", "github")); got.Label != "GitHub (work)" || !got.HasSecret || got.Type != "github" {
			t.Fatalf("the preset after saving: %+v", got)
		}
		in.Outbox.noLeak(t, secret)
	})
}

// enabledConnectors is the default pool's public list of enabled connectors
// (GET /api/v1/social/connectors: what an app and the hosted sign-in page
// draw their buttons from).
func enabledConnectors(t *testing.T, in *instance) string {
	t.Helper()
	resp, err := http.Get(in.URL + "/api/v1/social/connectors")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	if _, err := io.Copy(&sb, resp.Body); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// TestConsoleConnectorsBrowser: the social sign-in page in Chromium (axe,
// both languages), adding a connector through the form; the operators'
// keys page creating a key.
//
//	AUTHPOOL_SCREENSHOTS=$PWD/docs/img go test ./internal/e2e -run 'TestConsoleConnectorsBrowser/sqlite' -count=1
func TestConsoleConnectorsBrowser(t *testing.T) {
	if chromiumPath() == "" {
		t.Skip("no chromium binary found (install Debian's chromium package; .ci/run does)")
	}
	shots := os.Getenv("AUTHPOOL_SCREENSHOTS")
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		must[*client.Connector](t)(in.admin().CreateConnector(ctx, "default", client.CreateConnectorRequest{
			ID: "github", Type: "github", Label: "GitHub", ClientID: "gh-app", ClientSecret: "gh-secret",
		}))
		b, cancel := newConsoleChrome(t, in, testAdminKey)
		defer cancel()
		b.open("/connectors", "#connector-form")
		b.run("add a connector",
			chromedp.SetValue(chromedp.ID("n-type"), "oidc"),
			chromedp.SetValue(chromedp.ID("n-id"), "corp"),
			chromedp.SetValue(chromedp.ID("n-label"), "Corp SSO"),
			chromedp.SetValue(chromedp.ID("n-client"), "corp-app"),
			chromedp.SetValue(chromedp.ID("n-secret"), "corp-secret"),
			chromedp.SetValue(chromedp.ID("n-issuer"), "https://login.corp.example"),
			chromedp.Click(chromedp.ID("create-connector")),
			chromedp.WaitVisible(chromedp.ID("connector-corp")),
		)
		if got := must[*client.Connector](t)(in.admin().GetConnector(ctx, "default", "corp")); got.Issuer != "https://login.corp.example" || !got.HasSecret {
			t.Fatalf("added in the browser: %+v", got)
		}
		b.axe("console connectors")
		screenshot(t, b.ctx, shots, "console-connectors.png")
		b.run("open a connector's settings", chromedp.Click(chromedp.CSS("#edit-corp summary")), chromedp.WaitVisible(chromedp.ID("c-label-corp")))
		b.axe("console connectors, settings open")
		// The operators' keys page, with a key just created (shown once).
		must[*client.CreatedNamedAdminKey](t)(in.admin().CreateAdminKey(ctx, "auditor", true))
		b.open("/admin-keys", "#admin-key-form")
		b.run("create a key", chromedp.SetValue(chromedp.ID("k-name"), "ops"), chromedp.Click(chromedp.ID("create-admin-key")), chromedp.WaitVisible(chromedp.ID("new-key")))
		b.axe("console operators' keys")
		screenshot(t, b.ctx, shots, "console-admin-keys.png")
		b.lang("zh-CN")
		b.open("/connectors", "#connector-form")
		b.axe("console connectors, zh-CN")
		b.open("/admin-keys", "#admin-key-form")
		b.axe("console operators' keys, zh-CN")
	})
}

var newKeyField = regexp.MustCompile(`<code class="secret" id="new-key">([^<]+)</code>`)

// TestConsoleAdminKeys (issue 14's named admin keys, on the console): the
// administrator creates a read-only key and a full one; each is shown in
// the answer that made it and on no later page. The read-only key signs
// in, sees the list and changes nothing; the full named key sees the list
// but may not create or revoke keys (the use case's administrator-only
// rule, 403 with its message). Revoking a key ends its console session
// at once and its sign-in is refused.
func TestConsoleAdminKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		c := newConsoleClient(t, in)
		c.signIn(testAdminKey)
		if a := c.get("/pools/default/admin-keys"); a.Status != http.StatusOK || !strings.Contains(a.Body, `id="no-admin-keys"`) || !strings.Contains(a.Body, `id="admin-key-form"`) {
			t.Fatalf("empty page: %d", a.Status)
		}
		create := func(name string, ro bool) string {
			t.Helper()
			f := url.Values{"name": {name}}
			if ro {
				f.Set("readOnly", "1")
			}
			a := c.post("/pools/default/admin-keys", f)
			m := newKeyField.FindStringSubmatch(a.Body)
			if a.Status != http.StatusCreated || m == nil || a.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("create %s: %d", name, a.Status)
			}
			return m[1]
		}
		auditor, ops := create("auditor", true), create("ops", false)
		keys := must[[]client.NamedAdminKey](t)(in.admin().ListAdminKeys(ctx))
		if len(keys) == 2 && keys[0].Name != "auditor" {
			keys[0], keys[1] = keys[1], keys[0] // created in one instant: either order
		}
		if len(keys) != 2 || keys[0].Name != "auditor" || !keys[0].ReadOnly || keys[1].ReadOnly {
			t.Fatalf("keys: %+v", keys)
		}
		if a := c.get("/pools/default/admin-keys"); strings.Contains(a.Body, auditor) || strings.Contains(a.Body, ops) || !strings.Contains(a.Body, "auditor") {
			t.Fatal("a key shown again, or its name missing")
		}
		if a := c.post("/pools/default/admin-keys", url.Values{"name": {" "}}); a.Status != http.StatusBadRequest {
			t.Fatalf("a blank name: %d", a.Status)
		}

		ro := newConsoleClient(t, in)
		ro.signIn(auditor)
		if a := ro.get("/pools/default/admin-keys"); a.Status != http.StatusOK || strings.Contains(a.Body, `id="admin-key-form"`) || strings.Contains(a.Body, "/revoke") {
			t.Fatalf("the read-only key's page: %d, offers changes", a.Status)
		}
		if a := ro.post("/pools/default/admin-keys", url.Values{"name": {"mine"}}); a.Status != http.StatusForbidden {
			t.Fatalf("read-only create: %d", a.Status)
		}
		full := newConsoleClient(t, in)
		full.signIn(ops)
		if a := full.get("/pools/default/admin-keys"); !strings.Contains(a.Body, `id="admin-keys-admin-only"`) || strings.Contains(a.Body, `id="admin-key-form"`) {
			t.Fatal("a named key is offered key management")
		}
		if a := full.post("/pools/default/admin-keys", url.Values{"name": {"mine"}}); a.Status != http.StatusForbidden {
			t.Fatalf("a named key created a key: %d", a.Status)
		}
		if a := full.post("/pools/default/admin-keys/"+keys[0].ID+"/revoke", url.Values{"confirm": {"1"}}); a.Status != http.StatusForbidden {
			t.Fatalf("a named key revoked a key: %d", a.Status)
		}

		// Revoke the auditor: only with the box; then its session is gone.
		if a := c.post("/pools/default/admin-keys/"+keys[0].ID+"/revoke", url.Values{}); a.Status != http.StatusBadRequest {
			t.Fatalf("revoke without the box: %d", a.Status)
		}
		if a := c.post("/pools/default/admin-keys/"+keys[0].ID+"/revoke", url.Values{"confirm": {"1"}}); a.Status != http.StatusSeeOther {
			t.Fatalf("revoke: %d %s", a.Status, a.Body)
		}
		if a := ro.get("/pools/default/overview"); a.Status != http.StatusSeeOther || a.Location != "/console/signin" {
			t.Fatalf("the revoked key's session: %d %q", a.Status, a.Location)
		}
		again := newConsoleClient(t, in)
		again.get("/signin")
		if a := again.post("/signin", url.Values{"key": {auditor}}); a.Status != http.StatusUnauthorized {
			t.Fatalf("sign-in with a revoked key: %d", a.Status)
		}
		in.Outbox.noLeak(t, auditor, ops)
	})
}

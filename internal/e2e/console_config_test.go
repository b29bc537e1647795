package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/console"
)

// configFixtures makes one of everything the configuration pages show
// and returns the path values naming them.
func configFixtures(t *testing.T, in *instance) map[string]string {
	t.Helper()
	ctx := context.Background()
	rcv := newReceiver(t, nil)
	rcv.subscribe(t, in, "user.registered")
	u, _ := consoleUser(t, in, "fix@example.com")
	must[*client.Field](t)(in.admin().DefineField(ctx, "default", client.DefineFieldRequest{Key: "level", DataType: "NUMBER", Label: "Level"}))
	app := must[*client.App](t)(in.admin().CreateApp(ctx, "default", client.CreateAppRequest{Name: "RP", Type: client.AppTypeWeb, RedirectURIs: []string{"https://app.example.com/cb"}}))
	p := addPipeline(t, in, client.StagePreRegister, 0, pipelineTemplateForTest)
	whs := must[[]client.WebhookSubscription](t)(in.admin().ListWebhooks(ctx, "default"))
	var deliveryID string
	waitFor(t, "a delivery", func() bool {
		ds, err := in.admin().ListDeliveries(ctx, "default", client.DeliveryQuery{})
		if err == nil && len(ds) > 0 {
			deliveryID = ds[0].ID
		}
		return deliveryID != ""
	})
	conn := must[*client.Connector](t)(in.admin().CreateConnector(ctx, "default", client.CreateConnectorRequest{
		ID: "corp", Type: client.ConnectorOAuth2, Label: "Corp", ClientID: "corp-app", ClientSecret: "s3cret",
		AuthURL: "https://corp.example/authorize", TokenURL: "https://corp.example/token", UserInfoURL: "https://corp.example/userinfo",
		ClaimMap: map[string]string{"subject": "id"},
	}))
	return map[string]string{"{poolId}": "default", "{userId}": u.ID, "{sessionId}": "nosuchsession", "{$}": "",
		"{key}": "level", "{appId}": app.ID, "{pipelineId}": p.ID, "{webhookId}": whs[0].ID, "{deliveryId}": deliveryID,
		"{connectorId}": conn.ID}
}

const pipelineTemplateForTest = `async function pipe(user, context, callback) { callback(null, user, context) }`

func fill(path string, ids map[string]string) string {
	for k, v := range ids {
		path = strings.ReplaceAll(path, k, v)
	}
	return path
}

// configRoute reports whether a console route is one of the
// configuration pages'.
func configRoute(p string) bool {
	rest, ok := strings.CutPrefix(p, "/pools/{poolId}")
	for _, s := range []string{"/settings", "/fields", "/apps", "/connectors", "/pipelines", "/webhooks", "/audit", "/keys", "/pools", "/rename"} {
		if ok && strings.HasPrefix(rest, s) {
			return true
		}
	}
	return false
}

// TestConsoleConfigReadOnly: with real fixtures behind every path, a
// read-only key opens every configuration page, is offered no change, and
// is refused every change of them (nothing changes); the administrator
// key is offered the changes on the same pages.
func TestConsoleConfigReadOnly(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, webhookConfig(dbURL), nil)
		ids := configFixtures(t, in)
		ro := must[*client.CreatedNamedAdminKey](t)(in.admin().CreateAdminKey(ctx, "auditor", true))
		c := newConsoleClient(t, in)
		c.signIn(ro.Key)
		admin := newConsoleClient(t, in)
		admin.signIn(testAdminKey)
		changeControl := regexp.MustCompile(`<form method="post" action="/console/pools/`)
		pages := 0
		for _, rt := range console.Routes() {
			if rt.Public || !configRoute(rt.Path) {
				continue
			}
			p := fill(rt.Path, ids)
			if rt.Method == http.MethodGet {
				a := c.get(p)
				if a.Status != http.StatusOK {
					t.Errorf("read-only GET %s: %d", p, a.Status)
					continue
				}
				if changeControl.MatchString(a.Body) {
					t.Errorf("read-only GET %s offers a change", p)
				}
				if strings.HasSuffix(p, "/export") {
					continue
				}
				pages++
				// The same page offers the administrator its changes (the
				// audit log has none).
				if a := admin.get(p); a.Status != http.StatusOK || !strings.Contains(p, "/audit") && !changeControl.MatchString(a.Body) {
					t.Errorf("admin GET %s: %d, offers no change", p, a.Status)
				}
				continue
			}
			c.get("/pools/default/settings") // a fresh form token
			if a := c.post(p, url.Values{"confirm": {"1"}, "name": {"x"}, "label": {"x"}, "enabled": {"0"}, "dir": {"down"}, "id": {"newpool"}, "key": {"k2"}, "dataType": {"STRING"}, "url": {"https://x.example"}, "events": {"*"}, "passwordMinLength": {"30"}}); a.Status != http.StatusForbidden {
				t.Errorf("read-only %s %s: %d", rt.Method, p, a.Status)
			}
		}
		if pages < 12 {
			t.Fatalf("only %d configuration pages checked", pages)
		}
		// Nothing changed.
		if got := must[*client.Pool](t)(in.admin().GetPool(ctx, "default")); got.Settings["passwordMinLength"] != float64(8) || got.Name == "x" {
			t.Fatalf("a read-only key changed the pool: %v %q", got.Settings["passwordMinLength"], got.Name)
		}
		if _, err := in.admin().GetField(ctx, "default", "level"); err != nil {
			t.Fatalf("a read-only key deleted the field: %v", err)
		}
		if _, err := in.admin().GetApp(ctx, "default", ids["{appId}"]); err != nil {
			t.Fatalf("a read-only key deleted the app: %v", err)
		}
		if p := must[*client.Pipeline](t)(in.admin().GetPipeline(ctx, "default", ids["{pipelineId}"])); !p.Enabled || p.Name == "x" {
			t.Fatal("a read-only key changed the pipeline")
		}
		if _, err := in.admin().GetPool(ctx, "newpool"); err == nil {
			t.Fatal("a read-only key created a pool")
		}
		if cs := must[[]client.Connector](t)(in.admin().ListConnectors(ctx, "default")); len(cs) != 1 || cs[0].Label != "Corp" || !cs[0].Enabled {
			t.Fatalf("a read-only key changed the connectors: %+v", cs)
		}
		in.Outbox.noLeak(t, ro.Key, testAdminKey)
	})
}

// TestConsoleConfigChanges: the changes the browser test does not make,
// through the console's forms: pipelines move up and down and switch off;
// app and webhook secrets are shown once (in the answer that made them)
// and appear on no later page nor in the log; a field's deletion needs
// the box ticked; a refused app keeps what was typed.
func TestConsoleConfigChanges(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, webhookConfig(dbURL), nil)
		c := newConsoleClient(t, in)
		c.signIn(testAdminKey)

		a1 := addPipeline(t, in, client.StagePreRegister, 0, pipelineTemplateForTest)
		a2 := addPipeline(t, in, client.StagePreRegister, 1, pipelineTemplateForTest)
		a3 := addPipeline(t, in, client.StagePreRegister, 2, pipelineTemplateForTest)
		order := func() string {
			var ids []string
			for _, p := range must[[]client.Pipeline](t)(in.admin().ListPipelines(ctx, "default", client.StagePreRegister)) {
				ids = append(ids, p.ID)
			}
			return strings.Join(ids, ",")
		}
		c.get("/pools/default/pipelines")
		if a := c.post("/pools/default/pipelines/"+a3.ID+"/move", url.Values{"dir": {"up"}}); a.Status != http.StatusSeeOther {
			t.Fatalf("move: %d %s", a.Status, a.Body)
		}
		if got, want := order(), strings.Join([]string{a1.ID, a3.ID, a2.ID}, ","); got != want {
			t.Fatalf("after moving the third up: %s, want %s", got, want)
		}
		c.post("/pools/default/pipelines/"+a1.ID+"/move", url.Values{"dir": {"up"}}) // the first stays first
		c.post("/pools/default/pipelines/"+a1.ID+"/move", url.Values{"dir": {"down"}})
		if got, want := order(), strings.Join([]string{a3.ID, a1.ID, a2.ID}, ","); got != want {
			t.Fatalf("after moving the first down: %s, want %s", got, want)
		}
		c.post("/pools/default/pipelines/"+a2.ID+"/enabled", url.Values{"enabled": {"0"}})
		if must[*client.Pipeline](t)(in.admin().GetPipeline(ctx, "default", a2.ID)).Enabled {
			t.Fatal("the pipeline is still enabled")
		}
		// A script of the largest size passes the form's body bound.
		big := pipelineTemplateForTest + "\n//" + strings.Repeat("é", 16<<10-100)
		if a := c.post("/pools/default/pipelines/"+a2.ID, url.Values{"name": {"big"}, "script": {big}}); a.Status != http.StatusSeeOther {
			t.Fatalf("saving a %d-byte script: %d %s", len(big), a.Status, a.Body)
		}

		// The app secret is in the creating answer only.
		c.get("/pools/default/apps")
		a := c.post("/pools/default/apps", url.Values{"name": {"Web"}, "type": {"web"}, "redirectUris": {"https://app.example.com/cb"}, "scopes": {"openid"}})
		m := regexp.MustCompile(`id="secret">([^<]+)<`).FindStringSubmatch(a.Body)
		if a.Status != http.StatusCreated || m == nil {
			t.Fatalf("create app: %d", a.Status)
		}
		appSecret := m[1]
		appID := regexp.MustCompile(`id="client-id">([^<]+)<`).FindStringSubmatch(a.Body)[1]
		// A refused app keeps what was typed.
		a = c.post("/pools/default/apps", url.Values{"name": {"Bad"}, "type": {"web"}, "redirectUris": {"not a uri"}, "scopes": {"openid"}})
		if a.Status != http.StatusBadRequest || !strings.Contains(a.Body, "not a uri") || !strings.Contains(a.Body, `id="error"`) {
			t.Fatalf("a refused app: %d", a.Status)
		}
		c.get("/pools/default/apps/" + appID)
		a = c.post("/pools/default/apps/"+appID+"/rotate", url.Values{"confirm": {"1"}})
		rotated := regexp.MustCompile(`id="secret">([^<]+)<`).FindStringSubmatch(a.Body)
		if rotated == nil || rotated[1] == appSecret {
			t.Fatal("the rotation shows no new secret")
		}

		// The webhook secret too.
		c.get("/pools/default/webhooks")
		a = c.post("/pools/default/webhooks", url.Values{"url": {"https://hooks.example.com/in"}, "events": {"*"}, "enabled": {"1"}})
		wm := regexp.MustCompile(`id="secret">([^<]+)<`).FindStringSubmatch(a.Body)
		if a.Status != http.StatusCreated || wm == nil || !strings.HasPrefix(wm[1], "whsec_") {
			t.Fatalf("create webhook: %d", a.Status)
		}
		whs := must[[]client.WebhookSubscription](t)(in.admin().ListWebhooks(ctx, "default"))
		for _, p := range []string{"/pools/default/apps", "/pools/default/apps/" + appID, "/pools/default/webhooks", "/pools/default/webhooks/" + whs[0].ID, "/pools/default/audit", "/pools/default/audit/export"} {
			a := c.get(p)
			for _, s := range []string{appSecret, rotated[1], wm[1]} {
				if strings.Contains(a.Body, s) {
					t.Errorf("GET %s shows a secret again", p)
				}
			}
		}

		// A field's deletion needs the box.
		must[*client.Field](t)(in.admin().DefineField(ctx, "default", client.DefineFieldRequest{Key: "zone", DataType: "STRING"}))
		c.get("/pools/default/fields/zone/delete")
		if a := c.post("/pools/default/fields/zone/delete", nil); a.Status != http.StatusBadRequest {
			t.Fatalf("unconfirmed deletion: %d", a.Status)
		}
		if _, err := in.admin().GetField(ctx, "default", "zone"); err != nil {
			t.Fatal("an unconfirmed deletion deleted the field")
		}
		in.Outbox.noLeak(t, testAdminKey, appSecret, rotated[1], wm[1])
	})
}

// TestConsoleAuditPaging: events that share one instant (the injected
// clock stands still) page without a gap or a repeat, and the export
// holds every event of the filter, as JSON lines, once each.
func TestConsoleAuditPaging(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		const n = 120 // more than two pages of 50
		for i := range n {
			must[*client.Field](t)(in.admin().DefineField(ctx, "default", client.DefineFieldRequest{Key: fmt.Sprintf("f%03d", i), DataType: "STRING"}))
		}
		c := newConsoleClient(t, in)
		c.signIn(testAdminKey)
		row := regexp.MustCompile(`<td>admin\.field\.define</td>`)
		next := regexp.MustCompile(`href="(/console/pools/[^"]+/audit\?[^"]+)" rel="next"`)
		seen := 0
		path := "/pools/default/audit?event=admin.field.define"
		pagesSeen := 0
		keys := map[string]bool{}
		key := regexp.MustCompile(`<tr id="ev-([^"]+)"><td>[^<]*</td><td>admin\.field\.define</td>`)
		for path != "" {
			a := c.get(path)
			if a.Status != http.StatusOK {
				t.Fatalf("GET %s: %d", path, a.Status)
			}
			pagesSeen++
			if pagesSeen > 5 {
				t.Fatalf("paging does not end: %s", path)
			}
			seen += len(row.FindAllString(a.Body, -1))
			for _, m := range key.FindAllStringSubmatch(a.Body, -1) {
				if keys[m[1]] {
					t.Fatalf("%s shown twice", m[1])
				}
				keys[m[1]] = true
			}
			path = ""
			if m := next.FindStringSubmatch(a.Body); m != nil {
				path = strings.TrimPrefix(strings.ReplaceAll(m[1], "&amp;", "&"), "/console")
			}
		}
		if seen != n || len(keys) != n || pagesSeen != 3 {
			t.Fatalf("%d events, %d keys on %d pages, want %d on 3", seen, len(keys), pagesSeen, n)
		}

		a := c.get("/pools/default/audit/export?event=admin.field.define")
		if ct := a.Header.Get("Content-Type"); a.Status != http.StatusOK || !strings.HasPrefix(ct, "application/x-ndjson") || !strings.Contains(a.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("export: %d %q", a.Status, ct)
		}
		lines, ids := 0, map[string]bool{}
		sc := bufio.NewScanner(strings.NewReader(a.Body))
		for sc.Scan() {
			var ev struct {
				ID, Event string
			}
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.Event != "admin.field.define" || ids[ev.ID] {
				t.Fatalf("export line %q: %v", sc.Text(), err)
			}
			ids[ev.ID] = true
			lines++
		}
		if lines != n {
			t.Fatalf("the export holds %d events, want %d", lines, n)
		}
		for _, bad := range []string{"?since=yesterday", "?since=2026-02-01&until=2026-01-01", "?before=x&after=y"} {
			if a := c.get("/pools/default/audit" + bad); a.Status != http.StatusBadRequest {
				t.Errorf("audit%s: %d", bad, a.Status)
			}
		}
	})
}

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/admin"
)

// TestAppAdmin manages applications (OAuth clients) through the
// ManagementClient: a web or machine app's secret is shown once and
// verifies (VerifyAppSecret, what the provider will call), a rotation
// ends the old secret at once, public clients have none, updates keep
// the type, a deleted app's credentials fail, another pool sees nothing,
// and every change is audited without its secret.
func TestAppAdmin(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		mc := in.admin()
		pool := in.Srv.DefaultPoolID()
		verify := func(clientID, secret string) error {
			_, err := in.Srv.Admin().VerifyAppSecret(ctx, pool, clientID, secret)
			return err
		}
		hexID := regexp.MustCompile(`^[0-9a-f]{32}$`)

		web := must[*client.App](t)(mc.CreateApp(ctx, "default", client.CreateAppRequest{
			Name: "Shop", Type: client.AppTypeWeb,
			RedirectURIs: []string{"https://shop.example.com/callback"}, PostLogoutRedirectURIs: []string{"https://shop.example.com/"},
		}))
		if !hexID.MatchString(web.ID) || !strings.HasPrefix(web.ClientSecret, "apcs_") || len(web.ClientSecret) != 5+43 || !web.HasSecret ||
			web.Type != "web" || web.FirstParty || strings.Join(web.Scopes, " ") != "email openid profile" ||
			web.AccessTokenTTL != "1h" || web.IDTokenTTL != "1h" || web.RefreshTokenTTL != "720h" || web.CreatedAt.IsZero() {
			t.Fatalf("created web app: %+v", web)
		}
		if err := verify(web.ID, web.ClientSecret); err != nil {
			t.Fatalf("the shown secret does not verify: %v", err)
		}
		for _, wrong := range []string{"", web.ClientSecret + "x", web.ClientSecret[:len(web.ClientSecret)-1], strings.ToUpper(web.ClientSecret)} {
			if err := verify(web.ID, wrong); !errors.Is(err, admin.ErrInvalidClient) {
				t.Errorf("secret %q verified: %v", wrong, err)
			}
		}
		// Shown once: get and list never carry it.
		got := must[*client.App](t)(mc.GetApp(ctx, "default", web.ID))
		if got.ClientSecret != "" || !got.HasSecret || got.Name != "Shop" || !slices.Equal(got.RedirectURIs, web.RedirectURIs) {
			t.Fatalf("get: %+v", got)
		}
		raw := adminGET(t, in, "/api/v1/admin/pools/default/apps/"+web.ID)
		if strings.Contains(raw, "apcs_") || strings.Contains(raw, "clientSecret") || strings.Contains(raw, "secretHash") {
			t.Fatalf("get's body shows a secret: %s", raw)
		}

		spa := must[*client.App](t)(mc.CreateApp(ctx, "default", client.CreateAppRequest{
			Name: "Dashboard", Type: client.AppTypeSPA, RedirectURIs: []string{"https://dash.example.com/cb"},
			Scopes: []string{"openid", "offline_access", "orders:read", "openid"}, FirstParty: true,
			AccessTokenTTL: "15m", IDTokenTTL: "5m", RefreshTokenTTL: "24h",
		}))
		if spa.ClientSecret != "" || spa.HasSecret || !spa.FirstParty || strings.Join(spa.Scopes, " ") != "offline_access openid orders:read" ||
			spa.AccessTokenTTL != "15m" || spa.IDTokenTTL != "5m" || spa.RefreshTokenTTL != "24h" {
			t.Fatalf("created spa: %+v", spa)
		}
		if err := verify(spa.ID, ""); !errors.Is(err, admin.ErrInvalidClient) {
			t.Errorf("a public client verified: %v", err)
		}
		_, err := mc.RotateAppSecret(ctx, "default", spa.ID)
		if ce := wantCode(t, err, 1003); ce.Reason != "app_has_no_secret" {
			t.Errorf("rotate a spa's secret: %+v", ce)
		}
		native := must[*client.App](t)(mc.CreateApp(ctx, "default", client.CreateAppRequest{
			Name: "CLI", Type: client.AppTypeNative,
			RedirectURIs: []string{"http://127.0.0.1/callback", "http://[::1]/callback", "http://localhost/cb", "com.example.cli:/oauth"},
		}))
		if native.HasSecret || len(native.RedirectURIs) != 4 {
			t.Fatalf("created native app: %+v", native)
		}
		machine := must[*client.App](t)(mc.CreateApp(ctx, "default", client.CreateAppRequest{
			Name: "Batch job", Type: client.AppTypeMachine, Scopes: []string{"orders:read", "orders:write"},
		}))
		if !machine.HasSecret || machine.ClientSecret == "" || machine.ClientSecret == web.ClientSecret || len(machine.RedirectURIs) != 0 || machine.RedirectURIs == nil {
			t.Fatalf("created machine app: %+v", machine)
		}
		if err := verify(machine.ID, machine.ClientSecret); err != nil {
			t.Errorf("machine secret: %v", err)
		}
		if err := verify(machine.ID, web.ClientSecret); !errors.Is(err, admin.ErrInvalidClient) {
			t.Errorf("another app's secret verified: %v", err)
		}
		ids := map[string]bool{}
		for _, a := range []*client.App{web, spa, native, machine} {
			if !hexID.MatchString(a.ID) || ids[a.ID] {
				t.Fatalf("client id %q repeated or malformed", a.ID)
			}
			ids[a.ID] = true
		}
		list := must[[]client.App](t)(mc.ListApps(ctx, "default"))
		if len(list) != 4 {
			t.Fatalf("list: %+v", list)
		}
		for _, a := range list {
			if a.ClientSecret != "" || !ids[a.ID] {
				t.Fatalf("list shows a secret or another app: %+v", a)
			}
		}

		// Update: every field but the type; the same type may be given.
		name, typ, uris, noURIs, scopes, yes, ttl := "Shop 2", "web", []string{"https://shop.example.com/cb2", "https://shop.example.com/cb3"}, []string{}, []string{"openid", "email", "phone", "address"}, true, "2h"
		up := must[*client.App](t)(mc.UpdateApp(ctx, "default", web.ID, client.UpdateAppRequest{
			Name: &name, Type: &typ, RedirectURIs: &uris, PostLogoutRedirectURIs: &noURIs, Scopes: &scopes, FirstParty: &yes, AccessTokenTTL: &ttl,
		}))
		if up.Name != name || !slices.Equal(up.RedirectURIs, uris) || len(up.PostLogoutRedirectURIs) != 0 || strings.Join(up.Scopes, " ") != "address email openid phone" ||
			!up.FirstParty || up.AccessTokenTTL != "2h" || up.IDTokenTTL != "1h" || up.ClientSecret != "" || up.UpdatedAt.Before(web.UpdatedAt) || !up.CreatedAt.Equal(web.CreatedAt) {
			t.Fatalf("updated: %+v", up)
		}
		if g := must[*client.App](t)(mc.GetApp(ctx, "default", web.ID)); g.Name != name || !slices.Equal(g.RedirectURIs, uris) || !g.FirstParty {
			t.Fatalf("get after update: %+v", g)
		}
		if err := verify(web.ID, web.ClientSecret); err != nil {
			t.Errorf("an update changed the secret: %v", err)
		}
		spaType := "spa"
		_, err = mc.UpdateApp(ctx, "default", web.ID, client.UpdateAppRequest{Type: &spaType})
		if ce := wantCode(t, err, 1003); ce.Reason != "app_type_immutable" {
			t.Errorf("type change: %+v", ce)
		}

		// Rotation: the new secret is shown once, the old one fails at once.
		rot := must[*client.App](t)(mc.RotateAppSecret(ctx, "default", web.ID))
		if !strings.HasPrefix(rot.ClientSecret, "apcs_") || rot.ClientSecret == web.ClientSecret || rot.Name != name {
			t.Fatalf("rotated: %+v", rot)
		}
		if err := verify(web.ID, web.ClientSecret); !errors.Is(err, admin.ErrInvalidClient) {
			t.Errorf("the old secret still verifies: %v", err)
		}
		if err := verify(web.ID, rot.ClientSecret); err != nil {
			t.Errorf("the new secret does not verify: %v", err)
		}
		if g := must[*client.App](t)(mc.GetApp(ctx, "default", web.ID)); g.ClientSecret != "" {
			t.Fatal("get after rotation shows the secret")
		}

		// Another pool sees nothing of this one's apps.
		must[*client.Pool](t)(mc.CreatePool(ctx, client.CreatePoolRequest{ID: "other", Name: "Other"}))
		if l := must[[]client.App](t)(mc.ListApps(ctx, "other")); len(l) != 0 {
			t.Fatalf("other pool lists %d apps", len(l))
		}
		_, err = mc.GetApp(ctx, "other", web.ID)
		wantCode(t, err, 1004)
		_, err = mc.UpdateApp(ctx, "other", web.ID, client.UpdateAppRequest{Name: &name})
		wantCode(t, err, 1004)
		_, err = mc.RotateAppSecret(ctx, "other", web.ID)
		wantCode(t, err, 1004)
		wantCode(t, mc.DeleteApp(ctx, "other", web.ID), 1004)
		if _, err := in.Srv.Admin().VerifyAppSecret(ctx, "other", web.ID, rot.ClientSecret); !errors.Is(err, admin.ErrInvalidClient) {
			t.Errorf("another pool authenticates this pool's client: %v", err)
		}
		if err := verify(web.ID, rot.ClientSecret); err != nil {
			t.Fatalf("the other pool's calls changed the app: %v", err)
		}
		otherApp := must[*client.App](t)(mc.CreateApp(ctx, "other", client.CreateAppRequest{Name: "O", Type: "machine"}))
		if err := verify(otherApp.ID, otherApp.ClientSecret); !errors.Is(err, admin.ErrInvalidClient) {
			t.Errorf("the default pool authenticates another pool's client: %v", err)
		}
		_, err = mc.GetApp(ctx, "nope", web.ID)
		wantCode(t, err, 1006)

		// Delete: gone, and its credentials with it.
		if err := mc.DeleteApp(ctx, "default", web.ID); err != nil {
			t.Fatal(err)
		}
		_, err = mc.GetApp(ctx, "default", web.ID)
		if ce := wantCode(t, err, 1004); ce.Reason != "app_not_found" {
			t.Errorf("get deleted: %+v", ce)
		}
		if err := verify(web.ID, rot.ClientSecret); !errors.Is(err, admin.ErrInvalidClient) {
			t.Errorf("a deleted app's secret verifies: %v", err)
		}
		wantCode(t, mc.DeleteApp(ctx, "default", web.ID), 1004)
		if l := must[[]client.App](t)(mc.ListApps(ctx, "default")); len(l) != 3 {
			t.Fatalf("%d apps after delete", len(l))
		}

		// Audited, never with a secret.
		events := must[[]client.AuditEvent](t)(mc.ListAudit(ctx, "default", client.AuditQuery{}))
		seen := map[string]int{}
		for _, e := range events {
			if strings.HasPrefix(e.Event, "admin.app.") {
				seen[e.Event]++
				if e.Detail["appId"] == "" {
					t.Errorf("event without appId: %+v", e)
				}
			}
			b, _ := json.Marshal(e)
			for _, s := range []string{web.ClientSecret, rot.ClientSecret, machine.ClientSecret} {
				if strings.Contains(string(b), s) {
					t.Fatalf("audit event carries a secret: %s", b)
				}
			}
		}
		if seen["admin.app.create"] != 4 || seen["admin.app.update"] != 1 || seen["admin.app.rotate_secret"] != 1 || seen["admin.app.delete"] != 1 {
			t.Errorf("audit events: %v", seen)
		}
		upd := must[[]client.AuditEvent](t)(mc.ListAudit(ctx, "default", client.AuditQuery{Event: "admin.app.update"}))
		if len(upd) != 1 || upd[0].Detail["changed"] != "name,redirectUris,postLogoutRedirectUris,scopes,firstParty,accessTokenTTL" {
			t.Errorf("update event: %+v", upd)
		}

		// Without the administrator key nothing is reachable.
		anon := client.NewManagementClient(client.ManagementOptions{Host: in.URL, AdminKey: "wrong-key-0123456789abcdef0123456789"})
		_, err = anon.ListApps(ctx, "default")
		wantCode(t, err, 1401)
		_, err = anon.RotateAppSecret(ctx, "default", machine.ID)
		wantCode(t, err, 1401)
		if err := verify(machine.ID, machine.ClientSecret); err != nil {
			t.Errorf("a refused rotation changed the secret: %v", err)
		}
	})
}

func adminGET(t *testing.T, in *instance, path string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", in.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// TestAppAdminBadInput sends hostile application definitions: each gets a
// coded 4xx, never a 500, and nothing changes.
func TestAppAdminBadInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		mc := in.admin()
		web := must[*client.App](t)(mc.CreateApp(ctx, "default", client.CreateAppRequest{
			Name: "Shop", Type: "web", RedirectURIs: []string{"https://shop.example.com/cb"},
		}))
		spa := must[*client.App](t)(mc.CreateApp(ctx, "default", client.CreateAppRequest{Name: "SPA", Type: "spa"}))
		apps, app := "/api/v1/admin/pools/default/apps", "/api/v1/admin/pools/default/apps/"+web.ID

		uris := func(n int, prefix string) string {
			l := make([]string, n)
			for i := range l {
				l[i] = fmt.Sprintf("%q", fmt.Sprintf("%s%d", prefix, i))
			}
			return "[" + strings.Join(l, ",") + "]"
		}
		create := func(fields string) string { return `{"name": "X", "type": "web", ` + fields + `}` }
		cases := []struct {
			name, method, path, body string
			status, code             int
			reason                   string
		}{
			{"invalid type", "POST", apps, `{"name": "X", "type": "server"}`, 400, 1003, "invalid_app_type"},
			{"upper-case type", "POST", apps, `{"name": "X", "type": "WEB"}`, 400, 1003, "invalid_app_type"},
			{"missing type", "POST", apps, `{"name": "X"}`, 400, 1003, "missing_field"},
			{"missing name", "POST", apps, `{"type": "web"}`, 400, 1003, "missing_field"},
			{"type not a string", "POST", apps, `{"name": "X", "type": 1}`, 400, 1001, ""},
			{"unknown field", "POST", apps, create(`"clientSecret": "mine"`), 400, 1001, ""},
			{"unknown field id", "POST", apps, create(`"id": "chosen-client-id"`), 400, 1001, ""},
			{"unknown field secretHash", "PATCH", app, `{"secretHash": "AAAA"}`, 400, 1001, ""},
			{"control character in name", "POST", apps, `{"name": "Sh\u0000op", "type": "web"}`, 400, 1001, "bad_request"},
			{"escape in name", "POST", apps, `{"name": "Sh\u001b[31mop", "type": "web"}`, 400, 1003, "invalid_name"},
			{"bidi override in name", "POST", apps, `{"name": "Shop\u202eelgooG", "type": "web"}`, 400, 1003, "invalid_name"},
			{"huge name", "POST", apps, `{"name": "` + strings.Repeat("n", 101) + `", "type": "web"}`, 400, 1003, "invalid_name"},
			{"markup in name is text", "POST", apps, `{"name": "<script>alert(1)</script>", "type": "spa"}`, 201, 0, ""}, // stored as text; pages escape it
			{"prefix-style URI", "POST", apps, create(`"redirectUris": ["https://shop.example.com/*"]`), 201, 0, ""},     // '*' is a path character, matched exactly: harmless
			{"wildcard host", "POST", apps, create(`"redirectUris": ["https://*.example.com/cb"]`), 400, 1003, "invalid_redirect_uri"},
			{"javascript URI", "POST", apps, create(`"redirectUris": ["javascript:alert(document.cookie)"]`), 400, 1003, "invalid_redirect_uri"},
			{"javascript URI for native", "POST", apps, `{"name": "X", "type": "native", "redirectUris": ["javascript://x/%0aalert(1)"]}`, 400, 1003, "invalid_redirect_uri"},
			{"data URI", "POST", apps, `{"name": "X", "type": "native", "redirectUris": ["data:text/html,<script>alert(1)</script>"]}`, 400, 1003, "invalid_redirect_uri"},
			{"data URI logout", "POST", apps, create(`"postLogoutRedirectUris": ["data:text/html;base64,PHNjcmlwdD4="]`), 400, 1003, "invalid_redirect_uri"},
			{"http for web", "POST", apps, create(`"redirectUris": ["http://shop.example.com/cb"]`), 400, 1003, "invalid_redirect_uri"},
			{"loopback for web", "POST", apps, create(`"redirectUris": ["http://127.0.0.1/cb"]`), 400, 1003, "invalid_redirect_uri"},
			{"custom scheme for spa", "POST", apps, `{"name": "X", "type": "spa", "redirectUris": ["com.example.app:/cb"]}`, 400, 1003, "invalid_redirect_uri"},
			{"fragment", "POST", apps, create(`"redirectUris": ["https://shop.example.com/cb#x"]`), 400, 1003, "invalid_redirect_uri"},
			{"userinfo", "POST", apps, create(`"redirectUris": ["https://shop.example.com@evil.net/cb"]`), 400, 1003, "invalid_redirect_uri"},
			{"relative URI", "POST", apps, create(`"redirectUris": ["/cb"]`), 400, 1003, "invalid_redirect_uri"},
			{"control character in URI", "POST", apps, create(`"redirectUris": ["https://shop.example.com/cb\r\nSet-Cookie: x=1"]`), 400, 1003, "invalid_redirect_uri"},
			{"NUL in URI", "POST", apps, create(`"redirectUris": ["https://shop.example.com/cb\u0000"]`), 400, 1001, "bad_request"},
			{"DEL in name", "POST", apps, `{"name": "Sh\u007fop", "type": "web"}`, 400, 1003, "invalid_name"},
			{"C1 control in URI", "POST", apps, create(`"redirectUris": ["https://shop.example.com/cb\u0085"]`), 400, 1003, "invalid_redirect_uri"},
			{"too many URIs", "POST", apps, create(`"redirectUris": ` + uris(21, "https://shop.example.com/cb")), 400, 1003, "invalid_redirect_uri"},
			{"huge list", "POST", apps, create(`"redirectUris": ` + uris(5000, "https://shop.example.com/cb")), 413, 1002, ""},
			{"long URI", "POST", apps, create(`"redirectUris": ["https://shop.example.com/` + strings.Repeat("a", 1000) + `"]`), 400, 1003, "invalid_redirect_uri"},
			{"URIs not a list", "POST", apps, create(`"redirectUris": "https://shop.example.com/cb"`), 400, 1001, ""},
			{"machine with redirect", "POST", apps, `{"name": "X", "type": "machine", "redirectUris": ["https://shop.example.com/cb"]}`, 400, 1003, "invalid_redirect_uri"},
			{"machine with openid", "POST", apps, `{"name": "X", "type": "machine", "scopes": ["openid"]}`, 400, 1003, "invalid_scope"},
			{"scope with space", "POST", apps, create(`"scopes": ["openid email"]`), 400, 1003, "invalid_scope"},
			{"scope with quote", "POST", apps, create(`"scopes": ["a\"b"]`), 400, 1003, "invalid_scope"},
			{"too many scopes", "POST", apps, create(`"scopes": ` + uris(51, "s")), 400, 1003, "invalid_scope"},
			{"TTL text", "POST", apps, create(`"accessTokenTTL": "forever"`), 400, 1003, "invalid_token_ttl"},
			{"TTL negative", "POST", apps, create(`"accessTokenTTL": "-1h"`), 400, 1003, "invalid_token_ttl"},
			{"TTL too long", "POST", apps, create(`"refreshTokenTTL": "100000h"`), 400, 1003, "invalid_token_ttl"},
			{"TTL overflow", "POST", apps, create(`"idTokenTTL": "99999999999999999999h"`), 400, 1003, "invalid_token_ttl"},
			{"TTL number", "POST", apps, create(`"idTokenTTL": 3600`), 400, 1001, ""},
			{"type change", "PATCH", app, `{"type": "spa"}`, 400, 1003, "app_type_immutable"},
			{"update bad URI", "PATCH", app, `{"redirectUris": ["javascript:alert(1)"]}`, 400, 1003, "invalid_redirect_uri"},
			{"update empty name", "PATCH", app, `{"name": ""}`, 400, 1003, "invalid_name"},
			{"update unknown field", "PATCH", app, `{"nmae": "x"}`, 400, 1001, ""},
			{"update empty body", "PATCH", app, ``, 400, 1001, ""},
			{"rotate public client", "POST", apps + "/" + spa.ID + "/secret", ``, 400, 1003, "app_has_no_secret"},
			{"unknown app", "GET", apps + "/0123456789abcdef0123456789abcdef", ``, 404, 1004, "app_not_found"},
			{"NUL in app id", "GET", apps + "/ab%00cd", ``, 400, 1001, "invalid_path"},
			{"invalid UTF-8 app id", "DELETE", apps + "/%ff", ``, 400, 1001, "invalid_path"},
			{"long app id", "GET", apps + "/" + strings.Repeat("a", 5000), ``, 404, 1004, "app_not_found"},
			{"wrong method", "PUT", app, `{}`, 405, 1007, ""},
			{"unknown pool", "POST", "/api/v1/admin/pools/nope/apps", `{"name": "X", "type": "web"}`, 404, 1006, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				req, _ := http.NewRequest(tc.method, in.URL+tc.path, strings.NewReader(tc.body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+testAdminKey)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				raw, _ := io.ReadAll(resp.Body)
				if tc.status == 201 {
					var a api.App
					if resp.StatusCode != 201 || json.Unmarshal(raw, &a) != nil {
						t.Fatalf("%d %.300s, want 201", resp.StatusCode, raw)
					}
					if err := mc.DeleteApp(ctx, "default", a.ID); err != nil {
						t.Fatal(err)
					}
					return
				}
				var eb api.ErrorBody
				if resp.StatusCode != tc.status || json.Unmarshal(raw, &eb) != nil || eb.Code != tc.code || eb.Message == "" || tc.reason != "" && eb.Reason != tc.reason {
					t.Fatalf("%d %.300s, want %d code %d %s", resp.StatusCode, raw, tc.status, tc.code, tc.reason)
				}
			})
		}
		// Nothing changed.
		list := must[[]client.App](t)(mc.ListApps(ctx, "default"))
		if len(list) != 2 {
			t.Fatalf("%d apps after bad input", len(list))
		}
		g := must[*client.App](t)(mc.GetApp(ctx, "default", web.ID))
		if g.Name != "Shop" || g.Type != "web" || !slices.Equal(g.RedirectURIs, web.RedirectURIs) || !g.UpdatedAt.Equal(web.UpdatedAt) {
			t.Fatalf("app changed by bad input: %+v", g)
		}
		if _, err := in.Srv.Admin().VerifyAppSecret(ctx, in.Srv.DefaultPoolID(), web.ID, web.ClientSecret); err != nil {
			t.Fatalf("secret changed by bad input: %v", err)
		}
	})
}

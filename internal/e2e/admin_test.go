package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/admin"
	"github.com/authpool/authpool/internal/userpool"
)

// TestAdminKeyRequired sends every admin route without a key, with a
// wrong key, with an end-user token and with the key in the wrong scheme:
// all refused with 1401, and nothing changes.
func TestAdminKeyRequired(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		mc := in.admin()
		defineAllTypes(t, mc)
		u := must[*client.User](t)(in.client().RegisterByEmail(ctx, "victim@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		sess := must[[]client.Session](t)(mc.ListUserSessions(ctx, "default", u.ID))
		gate := must[*client.Pipeline](t)(mc.CreatePipeline(ctx, "default", client.CreatePipelineRequest{Stage: "pre-register", Name: "gate", Kind: "script", Script: acceptAll}))
		hook := must[*client.WebhookSubscription](t)(mc.CreateWebhook(ctx, "default", client.CreateWebhookRequest{URL: "https://hooks.example.com/x", Events: []string{"*"}}))

		pool, user := "/api/v1/admin/pools/default", "/api/v1/admin/pools/default/users/"+u.ID
		routes := []struct{ method, path, body string }{
			{"GET", "/api/v1/admin/pools", ""},
			{"POST", "/api/v1/admin/pools", `{"name":"evil"}`},
			{"GET", pool, ""},
			{"PATCH", pool, `{"settings":{"registerByEmail":false}}`},
			{"GET", pool + "/fields", ""},
			{"POST", pool + "/fields", `{"key":"evil","dataType":"STRING"}`},
			{"GET", pool + "/fields/age", ""},
			{"PATCH", pool + "/fields/age", `{"label":"evil"}`},
			{"DELETE", pool + "/fields/age", ""},
			{"GET", pool + "/users", ""},
			{"POST", pool + "/users", `{"email":"evil@example.com","password":"passw0rd!"}`},
			{"GET", user, ""},
			{"PATCH", user, `{"emailVerified":true}`},
			{"DELETE", user, ""},
			{"POST", user + "/block", ""},
			{"POST", user + "/unblock", ""},
			{"GET", user + "/sessions", ""},
			{"DELETE", user + "/sessions", ""},
			{"DELETE", user + "/sessions/" + sess[0].ID, ""},
			{"GET", pool + "/audit", ""},
			{"GET", pool + "/pipelines", ""},
			{"POST", pool + "/pipelines", `{"stage":"pre-register","name":"evil","kind":"script","script":"function pipe(u,c,cb){cb(new Error('x'))}"}`},
			{"POST", pool + "/pipelines/reorder", `{"stage":"pre-register","ids":[]}`},
			{"GET", pool + "/pipelines/" + gate.ID, ""},
			{"PATCH", pool + "/pipelines/" + gate.ID, `{"enabled":false}`},
			{"DELETE", pool + "/pipelines/" + gate.ID, ""},
			{"POST", pool + "/pipelines/" + gate.ID + "/try", `{}`},
			{"GET", pool + "/pipelines/" + gate.ID + "/logs", ""},
			{"GET", pool + "/webhooks", ""},
			{"POST", pool + "/webhooks", `{"url":"https://evil.example.com","events":["*"]}`},
			{"GET", pool + "/webhooks/" + hook.ID, ""},
			{"PATCH", pool + "/webhooks/" + hook.ID, `{"rotateSecret":true}`},
			{"DELETE", pool + "/webhooks/" + hook.ID, ""},
			{"GET", pool + "/deliveries", ""},
			{"GET", pool + "/deliveries/x", ""},
			{"POST", pool + "/deliveries/x/redeliver", ""},
		}
		auths := []struct{ name, header, reason string }{
			{"no key", "", "admin_key_required"},
			{"wrong key", "Bearer " + testAdminKey + "x", "admin_key_invalid"},
			{"end-user token", "Bearer " + u.Token, "admin_key_invalid"},
			{"key in another scheme", "Basic " + testAdminKey, "admin_key_required"},
		}
		wrong := 0
		for _, rt := range routes {
			for _, a := range auths {
				if a.reason == "admin_key_invalid" {
					// Wrong keys are throttled per address
					// (TestAdminKeyThrottle); start a new window
					// before the limit.
					if wrong++; wrong%admin.KeyFailureLimit == 0 {
						in.Clock.Advance(admin.KeyFailureWindow)
					}
				}
				req, _ := http.NewRequest(rt.method, in.URL+rt.path, strings.NewReader(rt.body))
				req.Header.Set("Content-Type", "application/json")
				if a.header != "" {
					req.Header.Set("Authorization", a.header)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var eb api.ErrorBody
				if resp.StatusCode != 401 || json.Unmarshal(raw, &eb) != nil || eb.Code != 1401 || eb.Reason != a.reason {
					t.Errorf("%s %s with %s: %d %s", rt.method, rt.path, a.name, resp.StatusCode, raw)
				}
			}
		}
		// Nothing changed.
		got := must[*client.User](t)(mc.GetUser(ctx, "default", u.ID))
		if got.Blocked || got.EmailVerified {
			t.Fatalf("refused calls changed the user: %+v", got)
		}
		if n := len(must[[]client.Field](t)(mc.ListFields(ctx, "default"))); n != 5 {
			t.Fatalf("%d fields after refused calls", n)
		}
		if n := len(must[[]client.Pool](t)(mc.ListPools(ctx))); n != 1 {
			t.Fatalf("%d pools after refused calls", n)
		}
		if p := must[[]client.Pipeline](t)(mc.ListPipelines(ctx, "default", "")); len(p) != 1 || !p[0].Enabled {
			t.Fatalf("pipelines after refused calls: %+v", p)
		}
		if w := must[[]client.WebhookSubscription](t)(mc.ListWebhooks(ctx, "default")); len(w) != 1 || !w[0].Enabled {
			t.Fatalf("webhooks after refused calls: %+v", w)
		}
		st := must[*client.LoginStatus](t)(in.client().CheckLoginStatus(ctx, u.Token))
		if !st.Status {
			t.Fatal("refused calls ended the session")
		}
		// The SDK reports the same.
		bad := client.NewManagementClient(client.ManagementOptions{Host: in.URL, AdminKey: u.Token})
		_, err := bad.ListPools(ctx)
		wantCode(t, err, 1401)
		_, err = client.NewManagementClient(client.ManagementOptions{Host: in.URL}).ListPools(ctx)
		wantCode(t, err, 1401)
	})
}

// TestAdminKeyGenerated starts without a configured key: none is stored
// until the command asks for it (once it listens); then one is generated,
// only its hash is stored, it survives restarts and is not generated
// again; a configured key then replaces it.
func TestAdminKeyGenerated(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfg := testConfig(dbURL)
		first := start(t, cfg, nil)
		if keys, err := first.Srv.Store().AdminKeys(ctx); err != nil || len(keys) != 0 {
			t.Fatalf("a key was stored before it could be shown: %v %d", err, len(keys))
		}
		// A replica started at the same time, before the key existed.
		replica := start(t, cfg, nil)
		key := must[string](t)(first.Srv.EnsureAdminKey(ctx))
		if !strings.HasPrefix(key, "apk_") || len(key) < 40 {
			t.Fatalf("generated key %q", key)
		}
		if k := must[string](t)(replica.Srv.EnsureAdminKey(ctx)); k != "" {
			t.Fatal("the replica generated a second key")
		}
		keys, err := first.Srv.Store().AdminKeys(ctx)
		if err != nil || len(keys) != 1 {
			t.Fatalf("stored admin keys: %v %d", err, len(keys))
		}
		sum := sha256.Sum256([]byte(key))
		if !bytes.Equal(keys[0].Hash, sum[:]) || bytes.Contains(keys[0].Hash, []byte(key)) {
			t.Fatal("the store does not hold exactly the key's SHA-256")
		}
		mc := func(in *instance, k string) *client.ManagementClient {
			return client.NewManagementClient(client.ManagementOptions{Host: in.URL, AdminKey: k})
		}
		must[[]client.Pool](t)(mc(first, key).ListPools(ctx))
		must[[]client.Pool](t)(mc(replica, key).ListPools(ctx))
		replica.stop()
		first.stop()

		second := start(t, cfg, nil)
		if k := must[string](t)(second.Srv.EnsureAdminKey(ctx)); k != "" {
			t.Fatal("a second start generated another key")
		}
		must[[]client.Pool](t)(mc(second, key).ListPools(ctx))
		_, err = mc(second, key[:len(key)-1]).ListPools(ctx)
		wantCode(t, err, 1401)
		second.stop()

		// A configured key is the only key accepted.
		third := start(t, adminConfig(dbURL), nil)
		must[[]client.Pool](t)(mc(third, testAdminKey).ListPools(ctx))
		_, err = mc(third, key).ListPools(ctx)
		wantCode(t, err, 1401)
	})
}

func TestAdminPools(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		mc := in.admin()

		def := must[*client.Pool](t)(mc.GetPool(ctx, "default"))
		if def.ID != in.Srv.DefaultPoolID() || !def.IsDefault || def.Settings["verifyOldEmail"] != true || def.Settings["tokenTTL"] != "360h0m0s" || def.Settings["passwordMinLength"] != 8.0 {
			t.Fatalf("default pool: %+v", def)
		}
		byID := must[*client.Pool](t)(mc.GetPool(ctx, def.ID))
		if byID.ID != def.ID {
			t.Fatal("pool by id differs from default")
		}

		p := must[*client.Pool](t)(mc.CreatePool(ctx, client.CreatePoolRequest{ID: "shop", Name: "Shop", Settings: map[string]any{"registerByUsername": false, "tokenTTL": "1h"}}))
		if p.ID != "shop" || p.IsDefault || p.Settings["registerByUsername"] != false || p.Settings["tokenTTL"] != "1h0m0s" || p.Settings["registerByEmail"] != true {
			t.Fatalf("created pool: %+v", p)
		}
		_, err := mc.CreatePool(ctx, client.CreatePoolRequest{ID: "shop", Name: "again"})
		wantCode(t, err, 1409)
		for _, bad := range []client.CreatePoolRequest{
			{Name: ""},
			{ID: "default", Name: "x"},
			{ID: "bad id", Name: "x"},
			{Name: "x", Settings: map[string]any{"noSuchSetting": 1}},
			{Name: "x", Settings: map[string]any{"tokenTTL": 3600}},
			{Name: "x", Settings: map[string]any{"passwordMinLength": 0}},
		} {
			_, err := mc.CreatePool(ctx, bad)
			wantCode(t, err, 1003)
		}
		pools := must[[]client.Pool](t)(mc.ListPools(ctx))
		if len(pools) != 2 || pools[0].ID != def.ID || pools[1].ID != "shop" {
			t.Fatalf("ListPools: %+v", pools)
		}
		_, err = mc.GetPool(ctx, "nope")
		wantCode(t, err, 1006)

		// The new pool works for end users, with its own settings.
		shop := client.NewAuthenticationClient(client.Options{AppHost: in.URL, UserPoolID: "shop"})
		su := must[*client.User](t)(shop.RegisterByEmail(ctx, "s@example.com", "passw0rd!", nil, &client.RegisterOptions{GenerateToken: true}))
		if su.UserPoolID != "shop" || su.TokenExpiredAt.Sub(in.Clock.Now()) != time.Hour {
			t.Fatalf("user of new pool: %+v", su)
		}
		_, err = shop.RegisterByUsername(ctx, "closed", "passw0rd!", nil, nil)
		wantCode(t, err, 1009)

		// Update: settings change at once; bad ones change nothing.
		up := must[*client.Pool](t)(mc.UpdatePool(ctx, "shop", client.UpdatePoolRequest{Name: ptr("Shop 2"), Settings: map[string]any{"registerByUsername": true, "passwordMinLength": 12}}))
		if up.Name != "Shop 2" || up.Settings["passwordMinLength"] != 12.0 || up.Settings["tokenTTL"] != "1h0m0s" {
			t.Fatalf("updated pool: %+v", up)
		}
		_, err = shop.RegisterByUsername(ctx, "open", "passw0rd!", nil, nil)
		wantCode(t, err, 2029)
		must[*client.User](t)(shop.RegisterByUsername(ctx, "open", "passw0rd-long", nil, nil))
		for _, bad := range []map[string]any{
			{"passwordMinLength": 12.5},
			{"verifyOldEmail": "no"},
			{"tokenTTL": "1s"},
			{"lockoutEnabled": true, "lockoutThreshold": 0},
			{"registerByEmail": false, "unknown": true},
		} {
			_, err := mc.UpdatePool(ctx, "shop", client.UpdatePoolRequest{Settings: bad})
			wantCode(t, err, 1003)
		}
		_, err = mc.UpdatePool(ctx, "shop", client.UpdatePoolRequest{Name: ptr("")})
		wantCode(t, err, 1003)
		after := must[*client.Pool](t)(mc.GetPool(ctx, "shop"))
		if after.Name != "Shop 2" || after.Settings["registerByEmail"] != true || after.Settings["lockoutEnabled"] != false {
			t.Fatalf("refused updates changed the pool: %+v", after)
		}
		_, err = mc.UpdatePool(ctx, "nope", client.UpdatePoolRequest{Name: ptr("x")})
		wantCode(t, err, 1006)
	})
}

func TestAdminUsers(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		clk := newClock()
		in := start(t, adminConfig(dbURL), clk)
		mc := in.admin()
		defineAllTypes(t, mc)

		// Users from registration and from the admin API.
		must[*client.User](t)(in.client().RegisterByEmail(ctx, "reg@example.com", "passw0rd!", nil, nil))
		clk.Advance(time.Second)
		cu := must[*client.User](t)(mc.CreateUser(ctx, "default", client.CreateUserRequest{
			Email: "Made@Example.com", Username: "made", Phone: "+1 202-555-0143", Password: "passw0rd!",
			EmailVerified: true, Profile: &client.Profile{Nickname: "M"}, CustomData: map[string]any{"age": 44},
		}))
		if cu.Email != "Made@example.com" || !cu.EmailVerified || cu.PhoneVerified || cu.Nickname != "M" || cu.CustomData["age"] != 44.0 {
			t.Fatalf("created user: %+v", cu)
		}
		li := must[*client.User](t)(in.client().LoginByEmail(ctx, "made@example.com", "passw0rd!", nil))
		if li.ID != cu.ID {
			t.Fatal("admin-created user cannot log in")
		}
		clk.Advance(time.Second)
		nopw := must[*client.User](t)(mc.CreateUser(ctx, "default", client.CreateUserRequest{Username: "nopass"}))
		_, err := in.client().LoginByUsername(ctx, "nopass", "anything-at-all", nil)
		wantCode(t, err, 2006)
		for _, tc := range []struct {
			in   client.CreateUserRequest
			code int
		}{
			{client.CreateUserRequest{Password: "passw0rd!"}, 1003},
			{client.CreateUserRequest{Email: "x@example.com", Password: "short"}, 2029},
			{client.CreateUserRequest{Email: "reg@example.com", Password: "passw0rd!"}, 2026},
			{client.CreateUserRequest{Username: "made"}, 2034},
			{client.CreateUserRequest{Phone: "+1 202-555-0143"}, 2026},
			{client.CreateUserRequest{Phone: "555-abc"}, 2028},
			{client.CreateUserRequest{Email: "not-an-email"}, 2003},
			{client.CreateUserRequest{Email: "y@example.com", CustomData: map[string]any{"age": "old"}}, 2402},
		} {
			_, err := mc.CreateUser(ctx, "default", tc.in)
			wantCode(t, err, tc.code)
		}

		// List: newest first, paged, searched by email, username and phone.
		all := must[*client.UserList](t)(mc.ListUsers(ctx, "default", client.ListUsersOptions{}))
		if all.Total != 3 || len(all.Users) != 3 || all.Users[0].ID != nopw.ID || all.Users[2].Email != "reg@example.com" || all.Limit != 20 {
			t.Fatalf("ListUsers: %+v", all)
		}
		page := must[*client.UserList](t)(mc.ListUsers(ctx, "default", client.ListUsersOptions{Offset: 1, Limit: 1}))
		if page.Total != 3 || len(page.Users) != 1 || page.Users[0].ID != cu.ID {
			t.Fatalf("page 2: %+v", page)
		}
		for search, want := range map[string]string{"MADE@": cu.ID, "nopa": nopw.ID, "5550143": cu.ID, "reg@": all.Users[2].ID} {
			got := must[*client.UserList](t)(mc.ListUsers(ctx, "default", client.ListUsersOptions{Search: search}))
			if got.Total != 1 || got.Users[0].ID != want {
				t.Errorf("search %q: %+v", search, got)
			}
		}
		_, err = mc.ListUsers(ctx, "default", client.ListUsersOptions{Limit: 101})
		wantCode(t, err, 1003)

		// Get, verified flags, delete.
		g := must[*client.User](t)(mc.GetUser(ctx, "default", cu.ID))
		if g.Username != "made" || g.LoginsCount != 1 {
			t.Fatalf("GetUser: %+v", g)
		}
		v := must[*client.User](t)(mc.UpdateUser(ctx, "default", cu.ID, client.UpdateUserRequest{EmailVerified: ptr(false), PhoneVerified: ptr(true)}))
		if v.EmailVerified || !v.PhoneVerified {
			t.Fatalf("verified flags: %+v", v)
		}
		v = must[*client.User](t)(mc.UpdateUser(ctx, "default", cu.ID, client.UpdateUserRequest{EmailVerified: ptr(true)}))
		if !v.EmailVerified || !v.PhoneVerified {
			t.Fatalf("verified flags after partial update: %+v", v)
		}
		if err := mc.DeleteUser(ctx, "default", cu.ID); err != nil {
			t.Fatal(err)
		}
		st := must[*client.LoginStatus](t)(in.client().CheckLoginStatus(ctx, li.Token))
		if st.Status {
			t.Fatal("deleted user's token still valid")
		}
		_, err = in.client().LoginByEmail(ctx, "made@example.com", "passw0rd!", nil)
		wantCode(t, err, 2004)
		_, err = mc.GetUser(ctx, "default", cu.ID)
		wantCode(t, err, 2004)
		wantCode(t, mc.DeleteUser(ctx, "default", cu.ID), 2004)
		_, err = mc.UpdateUser(ctx, "default", cu.ID, client.UpdateUserRequest{EmailVerified: ptr(true)})
		wantCode(t, err, 2004)
		// A user of one pool is not found through another.
		must[*client.Pool](t)(mc.CreatePool(ctx, client.CreatePoolRequest{ID: "other", Name: "Other"}))
		_, err = mc.GetUser(ctx, "other", nopw.ID)
		wantCode(t, err, 2004)
	})
}

// TestBlockEndsSessions: blocking ends every session at once and stops
// logins; unblocking lets the user log in again.
func TestBlockEndsSessions(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		mc := in.admin()
		c1, c2 := in.client(), in.client()
		u := must[*client.User](t)(c1.RegisterByEmail(ctx, "blk@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		must[*client.User](t)(c2.LoginByEmail(ctx, "blk@example.com", "passw0rd!", nil))

		b := must[*client.BlockedUser](t)(mc.BlockUser(ctx, "default", u.ID))
		if !b.Blocked || b.SessionsRevoked != 2 {
			t.Fatalf("BlockUser: blocked %v, %d sessions ended", b.Blocked, b.SessionsRevoked)
		}
		for i, c := range []*client.AuthenticationClient{c1, c2} {
			_, err := c.GetCurrentUser(ctx)
			wantCode(t, err, 2207)
			st := must[*client.LoginStatus](t)(c.CheckLoginStatus(ctx, ""))
			if st.Status || st.Code != 2207 {
				t.Fatalf("client %d token after block: %+v", i, st)
			}
			_, err = c.RefreshToken(ctx)
			wantCode(t, err, 2207)
		}
		_, err := in.client().LoginByEmail(ctx, "blk@example.com", "passw0rd!", nil)
		wantCode(t, err, 2057)
		if n := len(must[[]client.Session](t)(mc.ListUserSessions(ctx, "default", u.ID))); n != 0 {
			t.Fatalf("%d sessions alive after block", n)
		}

		ub := must[*client.User](t)(mc.UnblockUser(ctx, "default", u.ID))
		if ub.Blocked {
			t.Fatal("still blocked")
		}
		must[*client.User](t)(in.client().LoginByEmail(ctx, "blk@example.com", "passw0rd!", nil))
		// Old tokens stay dead.
		_, err = c1.GetCurrentUser(ctx)
		wantCode(t, err, 2207)
		_, err = mc.BlockUser(ctx, "default", "nobody")
		wantCode(t, err, 2004)
	})
}

func TestAdminSessions(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		clk := newClock()
		in := start(t, adminConfig(dbURL), clk)
		mc := in.admin()
		var clients []*client.AuthenticationClient
		var user *client.User
		for i := range 3 {
			c := in.client()
			u, err := c.LoginByEmail(ctx, "sess@example.com", "passw0rd!", &client.LoginOptions{AutoRegister: true})
			if err != nil {
				t.Fatal(err)
			}
			user = u
			clients = append(clients, c)
			if i < 2 {
				clk.Advance(time.Second)
			}
		}
		oc := in.client()
		other := must[*client.User](t)(oc.RegisterByEmail(ctx, "other@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		list := must[[]client.Session](t)(mc.ListUserSessions(ctx, "default", user.ID))
		if len(list) != 3 || list[0].UserID != user.ID || list[0].ClientIP != "127.0.0.1" || !list[0].CreatedAt.After(list[2].CreatedAt) {
			t.Fatalf("sessions: %+v", list)
		}
		// Revoke the newest: the third client's token dies, the others live.
		if err := mc.RevokeSession(ctx, "default", user.ID, list[0].ID); err != nil {
			t.Fatal(err)
		}
		_, err := clients[2].GetCurrentUser(ctx)
		wantCode(t, err, 2207)
		must[*client.User](t)(clients[0].GetCurrentUser(ctx))
		// Revoking it again is no error; another user's session, or an
		// unknown one, through this user is not found.
		if err := mc.RevokeSession(ctx, "default", user.ID, list[0].ID); err != nil {
			t.Fatal(err)
		}
		otherSess := must[[]client.Session](t)(mc.ListUserSessions(ctx, "default", other.ID))
		wantCode(t, mc.RevokeSession(ctx, "default", user.ID, otherSess[0].ID), 1004)
		wantCode(t, mc.RevokeSession(ctx, "default", user.ID, "nope"), 1004)
		must[*client.User](t)(oc.GetCurrentUser(ctx))
		n := must[int](t)(mc.RevokeUserSessions(ctx, "default", user.ID))
		if n != 2 {
			t.Fatalf("revoked %d, want 2", n)
		}
		for _, c := range clients {
			_, err := c.GetCurrentUser(ctx)
			wantCode(t, err, 2207)
		}
		if st := must[*client.LoginStatus](t)(in.client().CheckLoginStatus(ctx, other.Token)); !st.Status {
			t.Fatal("revoking one user's sessions ended another's")
		}
		_, err = mc.ListUserSessions(ctx, "default", "nobody")
		wantCode(t, err, 2004)
		_, err = mc.RevokeUserSessions(ctx, "default", "nobody")
		wantCode(t, err, 2004)
	})
}

func TestAdminAudit(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		clk := newClock()
		in := start(t, adminConfig(dbURL), clk)
		mc := in.admin()
		start := clk.Now()
		u := must[*client.User](t)(in.client().RegisterByEmail(ctx, "aud@example.com", "passw0rd!", nil, nil))
		clk.Advance(time.Minute)
		must[*client.Field](t)(mc.DefineField(ctx, "default", client.DefineFieldRequest{Key: "k", DataType: "STRING", UserEditable: true}))
		clk.Advance(time.Minute)
		must[*client.BlockedUser](t)(mc.BlockUser(ctx, "default", u.ID))
		clk.Advance(time.Minute)
		must[*client.User](t)(mc.UnblockUser(ctx, "default", u.ID))
		clk.Advance(time.Minute)
		must[*client.Pool](t)(mc.UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"verifyOldEmail": false}}))

		all := must[[]client.AuditEvent](t)(mc.ListAudit(ctx, "default", client.AuditQuery{}))
		var names []string
		for _, e := range all {
			names = append(names, e.Event)
		}
		if strings.Join(names, " ") != "admin.pool.update admin.user.unblock admin.user.block admin.field.define user.register" {
			t.Fatalf("audit events, newest first: %v", names)
		}
		if all[0].Detail["settings"] != "verifyOldEmail" || all[2].Detail["sessionsRevoked"] != "0" || all[2].ClientIP != "127.0.0.1" {
			t.Fatalf("audit details: %+v / %+v", all[0], all[2])
		}
		byUser := must[[]client.AuditEvent](t)(mc.ListAudit(ctx, "default", client.AuditQuery{UserID: u.ID}))
		byEvent := must[[]client.AuditEvent](t)(mc.ListAudit(ctx, "default", client.AuditQuery{Event: "admin.user.block"}))
		byTime := must[[]client.AuditEvent](t)(mc.ListAudit(ctx, "default", client.AuditQuery{Since: start.Add(90 * time.Second), Until: start.Add(150 * time.Second)}))
		limited := must[[]client.AuditEvent](t)(mc.ListAudit(ctx, "default", client.AuditQuery{Limit: 1}))
		if len(byUser) != 3 || len(byEvent) != 1 || byEvent[0].UserID != u.ID || len(byTime) != 1 || byTime[0].Event != "admin.user.block" || len(limited) != 1 {
			t.Fatalf("filters: user %d, event %d, time %d, limit %d", len(byUser), len(byEvent), len(byTime), len(limited))
		}
		_, err := mc.ListAudit(ctx, "default", client.AuditQuery{Since: start, Until: start})
		wantCode(t, err, 1003)
		_, err = mc.ListAudit(ctx, "default", client.AuditQuery{Limit: 5000})
		wantCode(t, err, 1003)
		req, _ := http.NewRequest("GET", in.URL+"/api/v1/admin/pools/default/audit?since=yesterday", nil)
		req.Header.Set("Authorization", "Bearer "+testAdminKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("bad since: HTTP %d", resp.StatusCode)
		}
	})
}

// TestSettingsSharedAcrossInstances changes settings through the admin API
// of one server and sees a second server on the same database apply them
// at once, without a restart.
func TestSettingsSharedAcrossInstances(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		a := start(t, adminConfig(dbURL), nil)
		b := start(t, adminConfig(dbURL), nil)
		if a.Srv.DefaultPoolID() != b.Srv.DefaultPoolID() {
			t.Fatal("instances disagree on the default pool")
		}
		cb := b.client()
		must[*client.User](t)(cb.RegisterByEmail(ctx, "before@example.com", "passw0rd!", nil, nil))

		must[*client.Pool](t)(a.admin().UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"passwordMinLength": 14}}))
		poolSeen(t, b, func(p *userpool.Pool) bool { return p.Settings.PasswordMinLength == 14 })
		_, err := cb.RegisterByEmail(ctx, "short@example.com", "passw0rd!", nil, nil)
		wantCode(t, err, 2029)
		must[*client.User](t)(cb.RegisterByEmail(ctx, "long@example.com", "Sturdy-Passw0rd-9", nil, nil))

		must[*client.Pool](t)(a.admin().UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"registerByEmail": false, "tokenTTL": "2h"}}))
		poolSeen(t, b, func(p *userpool.Pool) bool { return !p.Settings.RegisterByEmail && p.Settings.TokenTTL == 2*time.Hour })
		_, err = cb.RegisterByEmail(ctx, "closed@example.com", "Sturdy-Passw0rd-9", nil, nil)
		wantCode(t, err, 1009)
		u := must[*client.User](t)(cb.RegisterByUsername(ctx, "ttl", "Sturdy-Passw0rd-9", nil, &client.RegisterOptions{GenerateToken: true}))
		if got := u.TokenExpiredAt.Sub(b.Clock.Now()); got != 2*time.Hour {
			t.Fatalf("instance B issued a %v token, want the 2h set on A", got)
		}

		must[*client.Pool](t)(a.admin().UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"registerByEmail": true}}))
		poolSeen(t, b, func(p *userpool.Pool) bool { return p.Settings.RegisterByEmail })
		must[*client.User](t)(cb.RegisterByEmail(ctx, "open@example.com", "Sturdy-Passw0rd-9", nil, nil))

		// A pool created on A serves users on B, and B's admin API sees it.
		must[*client.Pool](t)(a.admin().CreatePool(ctx, client.CreatePoolRequest{ID: "p2", Name: "P2"}))
		must[*client.User](t)(client.NewAuthenticationClient(client.Options{AppHost: b.URL, UserPoolID: "p2"}).RegisterByEmail(ctx, "p2@example.com", "passw0rd!", nil, nil))
		if p := must[*client.Pool](t)(b.admin().GetPool(ctx, "p2")); p.Name != "P2" {
			t.Fatalf("pool on B: %+v", p)
		}
		// A block on A ends a session made on B.
		cb2 := b.client()
		bu := must[*client.User](t)(cb2.LoginByEmail(ctx, "long@example.com", "Sturdy-Passw0rd-9", nil))
		must[*client.BlockedUser](t)(a.admin().BlockUser(ctx, "default", bu.ID))
		_, err = cb2.GetCurrentUser(ctx)
		wantCode(t, err, 2207)
	})
}

// poolSeen waits until instance in's cached default pool satisfies cond:
// a change made through another instance arrives by the change feed,
// within its bound (docs/SECURITY.md, "Caches").
func poolSeen(t *testing.T, in *instance, cond func(*userpool.Pool) bool) {
	t.Helper()
	eventually(t, in, "the pool change", func() bool {
		p, err := in.Srv.Cache().GetPool(context.Background(), in.Srv.DefaultPoolID())
		return err == nil && cond(p)
	})
}

// TestVerifyOldEmailFlipSharedAcrossInstances: flipping verifyOldEmail
// through instance A's admin API changes UpdateEmail on instance B, which
// shares the database, without a restart.
func TestVerifyOldEmailFlipSharedAcrossInstances(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		cfgA, cfgB := adminConfig(dbURL), adminConfig(dbURL)
		cfgB.EmailIPPerHour, cfgB.SMSIPPerHour = 1000, 1000
		a := start(t, cfgA, nil)
		b := start(t, cfgB, nil)
		cb := b.client()
		must[*client.User](t)(cb.RegisterByEmail(ctx, "old@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))

		// On (the default): the new address's code alone is not enough.
		code := mailCode(t, b, "new1@example.com", client.EmailSceneChangeEmail)
		_, err := cb.UpdateEmail(ctx, "new1@example.com", code, "", "")
		wantCode(t, err, 2227)

		// B learns of A's change through the change feed (PostgreSQL
		// LISTEN/NOTIFY, SQLite's change counter): within its bound, not in
		// the same instant (docs/SECURITY.md, "Caches").
		seen := func(on bool) func() bool {
			return func() bool {
				p, err := b.Srv.Cache().GetPool(ctx, b.Srv.DefaultPoolID())
				return err == nil && p.Settings.VerifyOldEmail == on
			}
		}
		must[*client.Pool](t)(a.admin().UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"verifyOldEmail": false}}))
		eventually(t, b, "verifyOldEmail off on B", seen(false))
		code = mailCode(t, b, "new2@example.com", client.EmailSceneChangeEmail)
		u, err := cb.UpdateEmail(ctx, "new2@example.com", code, "", "")
		if err != nil {
			t.Fatalf("UpdateEmail on B after A turned verifyOldEmail off: %v", err)
		}
		if u.Email != "new2@example.com" || !u.EmailVerified {
			t.Fatalf("updated user: %+v", u)
		}

		// And back on: B demands the old address again.
		must[*client.Pool](t)(a.admin().UpdatePool(ctx, "default", client.UpdatePoolRequest{Settings: map[string]any{"verifyOldEmail": true}}))
		eventually(t, b, "verifyOldEmail on on B", seen(true))
		code = mailCode(t, b, "new3@example.com", client.EmailSceneChangeEmail)
		_, err = cb.UpdateEmail(ctx, "new3@example.com", code, "", "")
		wantCode(t, err, 2227)
	})
}

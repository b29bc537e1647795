package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
)

// TestUdvAndAdminBadInput sends hostile requests to the user-defined data
// and admin routes: each gets a coded 4xx, never a 500, and nothing
// changes.
func TestUdvAndAdminBadInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil)
		mc := in.admin()
		defineAllTypes(t, mc)
		c := in.client()
		u := must[*client.User](t)(c.RegisterByEmail(ctx, "bad@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		must[[]client.UserDefinedData](t)(c.SetUdv(ctx, "age", 7))

		many := map[string]int{}
		for i := range 201 {
			many[fmt.Sprintf("k%d", i)] = i
		}
		manyJSON, _ := json.Marshal(many)
		pool, user := "/api/v1/admin/pools/default", "/api/v1/admin/pools/default/users/"+u.ID
		cases := []struct {
			name, method, path, body string
			admin                    bool
			status, code             int
		}{
			{"udv no value", "PUT", "/api/v1/users/me/udv/age", `{}`, false, 400, 1003},
			{"udv broken JSON", "PUT", "/api/v1/users/me/udv/age", `{"value": `, false, 400, 1001},
			{"udv unknown body field", "PUT", "/api/v1/users/me/udv/age", `{"value": 1, "user": "x"}`, false, 400, 1001},
			{"udv huge value", "PUT", "/api/v1/users/me/udv/city", `{"value": "` + strings.Repeat("x", api.MaxBodyBytes) + `"}`, false, 413, 1002},
			{"udv long string", "PUT", "/api/v1/users/me/udv/city", `{"value": "` + strings.Repeat("x", 5000) + `"}`, false, 400, 2402},
			{"udv deep object", "PUT", "/api/v1/users/me/udv/prefs", `{"value": ` + strings.Repeat(`{"a":`, 2000) + `1` + strings.Repeat(`}`, 2000) + `}`, false, 400, 2402},
			{"udv key too long", "PUT", "/api/v1/users/me/udv/" + strings.Repeat("k", 500), `{"value": 1}`, false, 404, 2401},
			{"udv wrong method", "POST", "/api/v1/users/me/udv/age", `{"value": 1}`, false, 405, 1007},
			{"register many custom keys", "POST", "/api/v1/register/email", `{"email":"m@example.com","password":"passw0rd!","options":{"customData":` + string(manyJSON) + `}}`, false, 400, 1003},
			{"register custom data not object", "POST", "/api/v1/register/email", `{"email":"m@example.com","password":"passw0rd!","options":{"customData":[1]}}`, false, 400, 1001},
			{"pool name type", "POST", "/api/v1/admin/pools", `{"name": 5}`, true, 400, 1001},
			{"pool settings type", "PATCH", pool, `{"settings": "fast"}`, true, 400, 1001},
			{"pool unknown field", "PATCH", pool, `{"nmae": "x"}`, true, 400, 1001},
			{"pool empty body", "PATCH", pool, ``, true, 400, 1001},
			{"field missing type", "POST", pool + "/fields", `{"key": "x"}`, true, 400, 1003},
			{"field huge label", "POST", pool + "/fields", `{"key": "x", "dataType": "STRING", "label": "` + strings.Repeat("l", 200) + `"}`, true, 400, 1003},
			{"field type null", "PATCH", pool + "/fields/age", `{"dataType": "DATE"}`, true, 400, 1003},
			{"user email type", "POST", pool + "/users", `{"email": 5}`, true, 400, 1001},
			{"user flags type", "PATCH", user, `{"emailVerified": "yes"}`, true, 400, 1001},
			{"users limit", "GET", pool + "/users?limit=abc", ``, true, 400, 1003},
			{"users offset", "GET", pool + "/users?offset=-1", ``, true, 400, 1003},
			{"users long search", "GET", pool + "/users?search=" + strings.Repeat("s", 300), ``, true, 400, 1003},
			{"audit until", "GET", pool + "/audit?until=soon", ``, true, 400, 1003},
			{"unknown pool", "GET", "/api/v1/admin/pools/nope/users", ``, true, 404, 1006},
			{"admin wrong method", "PUT", user, `{}`, true, 405, 1007},
			{"pipeline stage type", "POST", pool + "/pipelines", `{"stage": 5, "name": "x", "kind": "script"}`, true, 400, 1001},
			{"pipeline unknown field", "POST", pool + "/pipelines", `{"stage": "pre-register", "name": "x", "kind": "script", "script": "", "lang": "js"}`, true, 400, 1001},
			{"pipeline env value type", "PATCH", pool + "/pipelines/x", `{"env": {"A": 1}}`, true, 400, 1001},
			{"pipeline try user type", "POST", pool + "/pipelines/x/try", `{"user": "ann"}`, true, 400, 1001},
			{"pipeline reorder ids type", "POST", pool + "/pipelines/reorder", `{"stage": "pre-register", "ids": "a,b"}`, true, 400, 1001},
			{"pipeline logs limit", "GET", pool + "/pipelines/x/logs?limit=-3", ``, true, 400, 1003},
			{"webhook events type", "POST", pool + "/webhooks", `{"url": "https://example.com", "events": "*"}`, true, 400, 1001},
			{"webhook missing url", "POST", pool + "/webhooks", `{"events": ["*"]}`, true, 400, 1003},
			{"deliveries limit", "GET", pool + "/deliveries?limit=abc", ``, true, 400, 1003},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				req, _ := http.NewRequest(tc.method, in.URL+tc.path, strings.NewReader(tc.body))
				req.Header.Set("Content-Type", "application/json")
				if tc.admin {
					req.Header.Set("Authorization", "Bearer "+testAdminKey)
				} else {
					req.Header.Set("Authorization", "Bearer "+u.Token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				raw, _ := io.ReadAll(resp.Body)
				var eb api.ErrorBody
				if resp.StatusCode != tc.status || json.Unmarshal(raw, &eb) != nil || eb.Code != tc.code || eb.Message == "" {
					t.Fatalf("%d %.300s, want %d code %d", resp.StatusCode, raw, tc.status, tc.code)
				}
			})
		}
		// Nothing changed.
		got := udvMap(t, must[[]client.UserDefinedData](t)(c.ListUdv(ctx)))
		if len(got) != 1 || got["age"] != 7.0 {
			t.Fatalf("data changed by bad input: %+v", got)
		}
		if n := len(must[[]client.Field](t)(mc.ListFields(ctx, "default"))); n != 5 {
			t.Fatalf("%d fields", n)
		}
		if p := must[*client.Pool](t)(mc.GetPool(ctx, "default")); p.Name != "default" {
			t.Fatalf("pool renamed: %+v", p)
		}
		_, err := c.LoginByEmail(ctx, "m@example.com", "passw0rd!", nil)
		wantCode(t, err, 2004)
		if g := must[*client.User](t)(mc.GetUser(ctx, "default", u.ID)); g.EmailVerified {
			t.Fatal("flags changed by bad input")
		}
	})
}

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
	"github.com/authpool/authpool/internal/server"
)

// captchaCookie fetches a CAPTCHA as Authing's login pages do and returns
// the cookie it sets, checking that the image is a PNG.
func (c *authingClient) captchaCookie(query string) *http.Cookie {
	c.t.Helper()
	resp, err := http.Get(c.url + "/api/v2/security/captcha?r=1" + query)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		c.t.Fatalf("captcha: HTTP %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if _, err := png.Decode(bytes.NewReader(body)); err != nil {
		c.t.Fatalf("captcha image: %v", err)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == api.CaptchaCookie {
			if ck.Path != "/" || !ck.HttpOnly || ck.MaxAge <= 0 {
				c.t.Fatalf("captcha cookie %+v: want Path=/, HttpOnly, Max-Age", ck)
			}
			return ck
		}
	}
	c.t.Fatalf("captcha: no %s cookie in %v", api.CaptchaCookie, resp.Header)
	return nil
}

// loginWith logs in by email with a captchaCode and, when not nil, the
// CAPTCHA cookie, as a browser does.
func (c *authingClient) loginWith(email, pw, captchaCode string, ck *http.Cookie) *gqlAnswer {
	c.t.Helper()
	in := map[string]any{"email": email, "password": c.enc(pw), "autoRegister": false, "params": nil, "context": nil}
	if captchaCode != "" {
		in["captchaCode"] = captchaCode
	}
	b, _ := json.Marshal(map[string]any{"query": docs["loginByEmail"], "variables": map[string]any{"input": in}})
	hdr := http.Header{}
	if ck != nil {
		hdr.Set("Cookie", ck.String())
	}
	st, raw := c.post("/graphql/v2", "application/json", b, hdr)
	a := &gqlAnswer{Status: st, Raw: raw}
	mustJSON(c.t, raw, a)
	return a
}

// TestAuthingCaptcha: after repeated failures a login needs a CAPTCHA
// (2000); its image comes from /api/v2/security/captcha with a cookie the
// next login carries, and captchaCode answers it (2001 when wrong).
func TestAuthingCaptcha(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ans := &answers{}
		in := startWith(t, testConfig(dbURL), nil, server.Options{NewCaptchaAnswer: ans.next})
		c := in.authing(t)
		c.registerEmail("cap@example.com", "passw0rd!", nil)
		for range 3 {
			c.loginWith("cap@example.com", "wrong-password", "", nil).wantCode(t, 2006)
		}
		c.loginWith("cap@example.com", "passw0rd!", "", nil).wantCode(t, 2000)
		// From this address every password login is guarded, by phone too.
		c.gql(docs["loginByPhonePassword"], map[string]any{"input": map[string]any{"phone": cnPhone, "password": c.enc("passw0rd!")}}, "").wantCode(t, 2000)
		// A captchaCode without the cookie answers no CAPTCHA.
		c.loginWith("cap@example.com", "passw0rd!", "100000", nil).wantCode(t, 2001)

		ck := c.captchaCookie("")
		c.loginWith("cap@example.com", "passw0rd!", "999999", ck).wantCode(t, 2001)
		// One guess per CAPTCHA: the right answer after a wrong one fails.
		c.loginWith("cap@example.com", "passw0rd!", ans.last(), ck).wantCode(t, 2001)

		ck = c.captchaCookie("&userpool_id=" + in.Srv.DefaultPoolID())
		c.loginWith("cap@example.com", "wrong-password", ans.last(), ck).wantCode(t, 2006)
		ck = c.captchaCookie("")
		var u authingUser
		c.loginWith("cap@example.com", "passw0rd!", " "+ans.last()+" ", ck).field(t, "loginByEmail", &u)
		if u.Token == nil {
			t.Fatalf("login with the CAPTCHA: %+v", u)
		}

		// An unknown pool in Guard's parameter is coded, not an image.
		if a := c.rest(http.MethodGet, "/api/v2/security/captcha?userpool_id=no-such-pool", nil, ""); a.Code != 2224 {
			t.Fatalf("captcha of an unknown pool: %s", a.Raw)
		}
	})
}

// TestAuthingUserDefinedData: udv, setUdv, removeUdv and customData, with
// values as JSON text; params, profile.udf and context on registration and
// login.
func TestAuthingUserDefinedData(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, adminConfig(dbURL), nil).withoutFailureDetection(t)
		pool := in.Srv.DefaultPoolID()
		for key, dt := range map[string]string{"school": "STRING", "age": "NUMBER", "ok": "BOOLEAN", "born": "DATETIME", "prefs": "OBJECT"} {
			must[*client.Field](t)(in.admin().DefineField(ctx, pool, client.DefineFieldRequest{Key: key, DataType: dt, Label: strings.ToUpper(key[:1]) + key[1:], UserEditable: true}))
		}
		// role is the application's: customData (params) may not set it.
		must[*client.Field](t)(in.admin().DefineField(ctx, pool, client.DefineFieldRequest{Key: "role", DataType: "STRING", Label: "Role"}))
		c := in.authing(t)
		c.registerEmail("udv@example.com", "passw0rd!", nil)
		var li authingUser
		c.loginEmail("udv@example.com", "passw0rd!", "").field(t, "loginByEmail", &li)
		tok, id := *li.Token, li.ID

		list := func(a *gqlAnswer, name string) map[string]udvItem {
			t.Helper()
			var vs []udvItem
			a.field(t, name, &vs)
			out := map[string]udvItem{}
			for _, v := range vs {
				out[v.Key] = v
			}
			return out
		}
		set := func(key, value string) *gqlAnswer {
			return c.gql(docs["setUdv"], map[string]any{"targetType": "USER", "targetId": id, "key": key, "value": value}, tok)
		}
		if got := list(c.gql(docs["udv"], map[string]any{"targetType": "USER", "targetId": id}, tok), "udv"); len(got) != 0 {
			t.Fatalf("udv of a new user: %v", got)
		}
		// Values in as JSON.stringify makes them; every change answers the
		// whole list, values out as the SDKs decode them.
		set("school", `"华中科技大学"`)
		set("age", "20")
		set("ok", "true")
		set("born", "1700000000000")
		got := list(set("prefs", `{"ok":"good"}`), "setUdv")
		want := map[string]string{"school": "华中科技大学", "age": "20", "ok": "true", "born": "1700000000000", "prefs": `{"ok":"good"}`}
		if len(got) != len(want) {
			t.Fatalf("setUdv list: %v", got)
		}
		for k, v := range want {
			if got[k].Value != v || got[k].Label == nil {
				t.Errorf("%s: %+v, want value %s", k, got[k], v)
			}
		}
		if got["born"].DataType != "DATETIME" || got["age"].DataType != "NUMBER" {
			t.Errorf("data types: %v", got)
		}
		// A DATETIME given as RFC 3339 text also answers milliseconds.
		if got := list(set("born", `"2023-11-14T22:13:20.5Z"`), "setUdv"); got["born"].Value != "1700000000500" {
			t.Errorf("born: %+v", got["born"])
		}

		set("nope", `"x"`).wantCode(t, 2401)
		set("age", `"not a number"`).wantCode(t, 2402)
		set("school", "bare text").wantCode(t, 2402) // not JSON text
		c.gql(docs["setUdv"], map[string]any{"targetType": "USER", "targetId": "someone-else", "key": "age", "value": "1"}, tok).wantCode(t, 2018)
		c.gql(docs["setUdv"], map[string]any{"targetType": "ORG", "targetId": id, "key": "age", "value": "1"}, tok).wantCode(t, 1003)
		c.gql(docs["setUdv"], map[string]any{"targetType": "USER", "targetId": id, "key": "age", "value": "1"}, "").wantCode(t, 2020)
		c.gql(docs["udv"], map[string]any{"targetType": "USER", "targetId": id}, "garbage").wantCode(t, 2207)
		if got := list(c.gql(docs["udv"], map[string]any{"targetType": "USER", "targetId": id}, tok), "udv"); got["age"].Value != "20" {
			t.Fatalf("refused changes changed a value: %v", got)
		}

		// customData of the current user, and of an updateUser answer
		// that selects it (read on demand).
		var me struct{ CustomData []udvItem }
		c.gql(docs["user"], map[string]any{}, tok).field(t, "user", &me)
		if len(me.CustomData) != 5 {
			t.Fatalf("user customData: %+v", me.CustomData)
		}
		var upd struct{ CustomData []udvItem }
		c.gql(`mutation u($input: UpdateUserInput!) { updateUser(input: $input) { id customData { key value dataType label } } }`,
			map[string]any{"input": map[string]any{"nickname": "U"}}, tok).field(t, "updateUser", &upd)
		if len(upd.CustomData) != 5 {
			t.Fatalf("updateUser customData: %+v", upd.CustomData)
		}

		if got := list(c.gql(docs["removeUdv"], map[string]any{"targetType": "USER", "targetId": id, "key": "school"}, tok), "removeUdv"); len(got) != 4 || got["school"].Key != "" {
			t.Fatalf("removeUdv: %v", got)
		}
		c.gql(docs["removeUdv"], map[string]any{"targetType": "USER", "targetId": id, "key": "nope"}, tok).wantCode(t, 2401)

		// params (the JS SDK's customData option) and profile.udf set
		// values at registration; context reaches the use cases checked.
		var reg struct {
			ID         string
			CustomData []udvItem
			Token      *string
		}
		c.gql(docs["registerByEmail"], map[string]any{"input": map[string]any{
			"email": "params@example.com", "password": c.enc("passw0rd!"), "generateToken": true,
			"params":  `[{"key":"age","value":30}]`,
			"profile": map[string]any{"udf": []any{map[string]any{"key": "school", "value": `"MIT"`}}},
			"context": `{"source":"web"}`,
		}}, "").field(t, "registerByEmail", &reg)
		var regMe struct{ CustomData []udvItem }
		c.gql(docs["user"], map[string]any{}, *reg.Token).field(t, "user", &regMe)
		if vals := customValues(regMe.CustomData); len(vals) != 2 || vals["age"] != "30" || vals["school"] != "MIT" {
			t.Fatalf("values set at registration: %+v", regMe.CustomData)
		}
		// Refused options create nothing.
		for _, extra := range []map[string]any{
			{"params": `[{"key":"nope","value":1}]`},
			{"params": `[{"key":"age","value":1},{"key":"role","value":"admin"}]`},
			{"params": `[{"key":"age","value":"x"}]`},
			{"params": `not json`},
			{"profile": map[string]any{"udf": []any{map[string]any{"key": "school", "value": "MIT"}}}},
			{"context": `[1]`},
		} {
			input := merge(map[string]any{"email": "refused@example.com", "password": c.enc("passw0rd!")}, extra)
			a := c.gql(docs["registerByEmail"], map[string]any{"input": input}, "")
			if code, _ := a.errObject(t); code != 1003 && code != 2401 && code != 2402 && code != 2018 {
				t.Errorf("%v: %s", extra, a.Raw)
			}
		}
		c.loginEmail("refused@example.com", "passw0rd!", "").wantCode(t, 2004)

		// params on login set values, answered in customData; refused ones
		// fail the login before the password is checked.
		login := func(params string) *gqlAnswer {
			return c.gql(docs["loginByEmail"], map[string]any{"input": map[string]any{"email": "udv@example.com", "password": c.enc("passw0rd!"), "params": params, "context": `{"k":1}`}}, "")
		}
		login(`[{"key":"age","value":true}]`).wantCode(t, 2402)
		login(`[{"key":"age","value":99},{"key":"role","value":"admin"}]`).wantCode(t, 2018)
		var afterRefused struct{ CustomData []udvItem }
		c.gql(docs["user"], map[string]any{}, tok).field(t, "user", &afterRefused)
		if vals := customValues(afterRefused.CustomData); vals["age"] == "99" || vals["role"] != "" {
			t.Fatalf("values after a login refused for role: %+v", afterRefused.CustomData)
		}
		var lu struct{ CustomData []udvItem }
		login(`[{"key":"age","value":41},{"key":"ok","value":false}]`).field(t, "loginByEmail", &lu)
		if vals := customValues(lu.CustomData); vals["age"] != "41" || vals["ok"] != "false" || vals["born"] != "1700000000500" || vals["role"] != "" {
			t.Fatalf("values set at login: %+v", lu.CustomData)
		}
		// autoRegister with params: the new account has the values.
		var auto struct {
			NewlyCreated bool
			CustomData   []udvItem
		}
		c.gql(docs["loginByEmail"], map[string]any{"input": map[string]any{"email": "auto-udv@example.com", "password": c.enc("passw0rd!"),
			"autoRegister": true, "params": `[{"key":"school","value":"Yale"}]`}}, "").field(t, "loginByEmail", &auto)
		if !auto.NewlyCreated || customValues(auto.CustomData)["school"] != "Yale" {
			t.Fatalf("autoRegister with params: %+v", auto)
		}
		// loginByPhoneCode with params, for a new number and again; a
		// refused value does not spend the code.
		phoneLogin := func(params string) *gqlAnswer {
			code := in.Outbox.code(t, cnPhone)
			return c.gql(docs["loginByPhoneCode"], map[string]any{"input": map[string]any{"phone": cnPhone, "code": code, "params": params}}, "")
		}
		if a := c.smsSend(map[string]any{"phone": cnPhone}); a.Code != 200 {
			t.Fatalf("sms/send: %s", a.Raw)
		}
		phoneLogin(`[{"key":"nope","value":1}]`).wantCode(t, 2401)
		var pl struct{ CustomData []udvItem }
		phoneLogin(`[{"key":"age","value":5}]`).field(t, "loginByPhoneCode", &pl)
		if customValues(pl.CustomData)["age"] != "5" {
			t.Fatalf("loginByPhoneCode of a new number with params: %+v", pl)
		}
		in.Clock.Advance(61 * time.Second)
		if a := c.smsSend(map[string]any{"phone": cnPhone}); a.Code != 200 {
			t.Fatalf("sms/send: %s", a.Raw)
		}
		phoneLogin(`[{"key":"age","value":6}]`).field(t, "loginByPhoneCode", &pl)
		if customValues(pl.CustomData)["age"] != "6" {
			t.Fatalf("loginByPhoneCode with params: %+v", pl)
		}

		// On the REST users/me too.
		rm := c.rest(http.MethodGet, "/api/v2/users/me", nil, tok)
		var rme struct{ CustomData []udvItem }
		if rm.Code != 200 || json.Unmarshal(rm.Data, &rme) != nil || customValues(rme.CustomData)["age"] != "41" {
			t.Fatalf("users/me customData: %s", rm.Raw)
		}
	})
}

// udvItem is UserDefinedData, and UserCustomData.
type udvItem struct {
	Key, DataType, Value string
	Label                *string
}

// customValues are the values of a list by key.
func customValues(vs []udvItem) map[string]string {
	out := map[string]string{}
	for _, v := range vs {
		out[v.Key] = v.Value
	}
	return out
}

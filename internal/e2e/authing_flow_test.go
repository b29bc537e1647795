package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// jwtPayload decodes a token's payload without checking it, as the JS SDK
// does to find the user id.
func jwtPayload(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token is not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

type loginStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  bool   `json:"status"`
	Exp     *int64 `json:"exp"`
	Iat     *int64 `json:"iat"`
	Data    *struct {
		ID         string `json:"id"`
		UserPoolID string `json:"userPoolId"`
		Arn        string `json:"arn"`
	} `json:"data"`
}

// TestAuthingSession walks a user's life through the wire on every
// backend: register, log in, read and change the profile and password,
// refresh, check, log out, with the token rules the SDKs rely on.
func TestAuthingSession(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		in := start(t, testConfig(dbURL), nil).withoutFailureDetection(t)
		c := in.authing(t)
		c.header.Set("x-authing-lang", "en-US")

		// Plain registration: no token (the SDK is logged out after it).
		u := c.registerEmail("Ada@Example.com", "passw0rd!", map[string]any{"profile": map[string]any{"nickname": "Ada", "company": "ACME"}})
		if u.Token != nil || u.Password != nil || *u.Email != "Ada@example.com" || *u.Nickname != "Ada" || u.Status != "Activated" ||
			u.Arn != "arn:cn:authing:"+u.UserPoolID+":user:"+u.ID || u.UserPoolID != in.Srv.DefaultPoolID() {
			t.Fatalf("registration: %+v", u)
		}
		c.registerEmail("gen@example.com", "passw0rd!", nil)
		c.gql(docs["registerByEmail"], map[string]any{"input": map[string]any{"email": "ada@example.com", "password": c.enc("passw0rd!")}}, "").wantCode(t, 2026)
		c.gql(docs["registerByUsername"], map[string]any{"input": map[string]any{"username": "ada", "password": c.enc("passw0rd!"), "generateToken": true}}, "")
		c.gql(docs["registerByUsername"], map[string]any{"input": map[string]any{"username": "ada", "password": c.enc("passw0rd!")}}, "").wantCode(t, 2034)
		c.gql(docs["registerByEmail"], map[string]any{"input": map[string]any{"email": "short@example.com", "password": c.enc("short")}}, "").wantCode(t, 2029)

		// Login answers a fresh JWT with sub and data.id; a stale bearer the
		// SDK sends along is ignored.
		var li authingUser
		c.loginEmail("ada@example.com", "passw0rd!", "stale.garbage.token").field(t, "loginByEmail", &li)
		if li.Token == nil || li.LoginsCount != 1 || li.NewlyCreated == nil || *li.NewlyCreated || li.CustomData == nil || li.TokenExpiredAt == nil {
			t.Fatalf("login: %+v", li)
		}
		tok := *li.Token
		claims := jwtPayload(t, tok)
		if data, _ := claims["data"].(map[string]any); claims["sub"] != u.ID || data["id"] != u.ID {
			t.Fatalf("token claims %v, want sub and data.id %s", claims, u.ID)
		}
		c.loginEmail("ada@example.com", "wrong-password", "").wantCode(t, 2006)
		c.loginEmail("nobody@example.com", "passw0rd!", "").wantCode(t, 2004)
		var un authingUser
		c.gql(docs["loginByUsername"], map[string]any{"input": map[string]any{"username": "ada", "password": c.enc("passw0rd!")}}, "").field(t, "loginByUsername", &un)
		if un.Token == nil || *un.Username != "ada" {
			t.Fatalf("login by username: %+v", un)
		}
		// autoRegister creates the account and says so.
		var auto authingUser
		c.gql(docs["loginByEmail"], map[string]any{"input": map[string]any{"email": "auto@example.com", "password": c.enc("passw0rd!"), "autoRegister": true}}, "").field(t, "loginByEmail", &auto)
		if auto.NewlyCreated == nil || !*auto.NewlyCreated || auto.Token == nil {
			t.Fatalf("autoRegister: %+v", auto)
		}

		// checkLoginStatus: the variable wins over the bearer; problems are
		// answered in data.
		check := func(vars map[string]any, bearer string) loginStatus {
			var st loginStatus
			c.gql(docs["checkLoginStatus"], vars, bearer).field(t, "checkLoginStatus", &st)
			return st
		}
		if st := check(nil, tok); !st.Status || st.Code != 200 || st.Data == nil || st.Data.ID != u.ID || st.Exp == nil || st.Iat == nil {
			t.Fatalf("status of the bearer: %+v", st)
		}
		if st := check(map[string]any{"token": "garbage"}, tok); st.Status || st.Code != 2207 || st.Data != nil {
			t.Fatalf("the variable must win over the bearer: %+v", st)
		}
		if st := check(map[string]any{"token": tok}, "garbage"); !st.Status {
			t.Fatalf("valid variable, bad bearer: %+v", st)
		}
		if st := check(nil, ""); st.Status || st.Code != 2020 {
			t.Fatalf("no token: %+v", st)
		}

		// The current user carries the caller's token (the SDKs store it).
		var me authingUser
		c.gql(docs["user"], map[string]any{}, tok).field(t, "user", &me)
		if me.Token == nil || *me.Token != tok || me.ID != u.ID {
			t.Fatalf("user: %+v", me)
		}
		c.gql(docs["user"], map[string]any{"id": "someone-else"}, tok).wantCode(t, 2018)
		c.gql(docs["user"], map[string]any{}, "").wantCode(t, 2020)
		c.gql(docs["user"], map[string]any{}, "garbage").wantCode(t, 2207)
		rm := c.rest(http.MethodGet, "/api/v2/users/me", nil, tok)
		var rme authingUser
		if rm.Code != 200 || json.Unmarshal(rm.Data, &rme) != nil || rme.Token == nil || *rme.Token != tok || rme.ID != u.ID {
			t.Fatalf("users/me: %s", rm.Raw)
		}
		if !strings.Contains(string(rm.Data), `"password":null`) {
			t.Errorf("users/me must select password as null: %s", rm.Data)
		}

		// updateUser: profile fields, with the caller's token back.
		var up authingUser
		c.gql(docs["updateUser"], map[string]any{"id": u.ID, "input": map[string]any{"nickname": "Lovelace", "company": ""}}, tok).field(t, "updateUser", &up)
		if *up.Nickname != "Lovelace" || up.Company != nil || up.Token == nil || *up.Token != tok {
			t.Fatalf("updateUser: %+v", up)
		}
		c.gql(docs["updateUser"], map[string]any{"input": map[string]any{"email": "x@example.com"}}, tok).wantCode(t, 2225)
		c.gql(docs["updateUser"], map[string]any{"input": map[string]any{"phone": "+15550100"}}, tok).wantCode(t, 2226)
		c.gql(docs["updateUser"], map[string]any{"input": map[string]any{"unionid": "u"}}, tok).wantCode(t, 1003)
		c.gql(docs["updateUser"], map[string]any{"input": map[string]any{"blocked": false}}, tok).wantCode(t, 1003)
		c.gql(docs["updateUser"], map[string]any{"input": map[string]any{"gender": "X"}}, tok).wantCode(t, 1003)
		c.gql(docs["updateUser"], map[string]any{"id": un.ID, "input": map[string]any{"nickname": "x"}}, tok).wantCode(t, 2018)
		c.gql(docs["updateUser"], map[string]any{"input": map[string]any{"nickname": "x"}}, "").wantCode(t, 2020)

		// updatePassword keeps the caller's session (the SDKs do not store
		// the answer's token) and ends the others.
		var other authingUser
		c.loginEmail("ada@example.com", "passw0rd!", "").field(t, "loginByEmail", &other)
		c.gql(docs["updatePassword"], map[string]any{"newPassword": c.enc("n3w-passw0rd"), "oldPassword": c.enc("wrong-old")}, tok).wantCode(t, 2203)
		c.gql(docs["updatePassword"], map[string]any{"newPassword": c.enc("n3w-passw0rd"), "oldPassword": "not-encrypted"}, tok).wantCode(t, 2016)
		var pw authingUser
		c.gql(docs["updatePassword"], map[string]any{"newPassword": c.enc("n3w-passw0rd"), "oldPassword": c.enc("passw0rd!")}, tok).field(t, "updatePassword", &pw)
		if pw.Token == nil || *pw.Token != tok {
			t.Fatalf("updatePassword: %+v", pw)
		}
		if st := check(map[string]any{"token": tok}, ""); !st.Status {
			t.Fatalf("the caller's token must survive updatePassword: %+v", st)
		}
		if st := check(map[string]any{"token": *other.Token}, ""); st.Status || st.Code != 2207 {
			t.Fatalf("another session must end with updatePassword: %+v", st)
		}
		c.loginEmail("ada@example.com", "passw0rd!", "").wantCode(t, 2006)
		if a := c.loginEmail("ada@example.com", "n3w-passw0rd", ""); len(a.Errors) > 0 {
			t.Fatalf("login with the new password: %s", a.Raw)
		}

		// refreshToken: a later-expiring token of the same session.
		in.Clock.Advance(time.Hour)
		var rt struct {
			Token string `json:"token"`
			Iat   int64  `json:"iat"`
			Exp   int64  `json:"exp"`
		}
		c.gql(docs["refreshToken"], map[string]any{}, tok).field(t, "refreshToken", &rt)
		if rt.Token == "" || rt.Token == tok || rt.Exp <= int64(jwtPayload(t, tok)["exp"].(float64)) {
			t.Fatalf("refreshToken: %+v", rt)
		}
		c.gql(docs["refreshToken"], map[string]any{}, "").wantCode(t, 2020)

		// Logout ends the session (both tokens of it) and is idempotent.
		if a := c.rest(http.MethodGet, "/api/v2/logout?app_id=app1", nil, rt.Token); a.Code != 200 {
			t.Fatalf("logout: %s", a.Raw)
		}
		if st := check(map[string]any{"token": tok}, ""); st.Status || st.Code != 2207 {
			t.Fatalf("after logout: %+v", st)
		}
		for _, bearer := range []string{rt.Token, "", "garbage"} {
			if a := c.rest(http.MethodGet, "/api/v2/logout?app_id=app1", nil, bearer); a.Code != 200 {
				t.Fatalf("logout again with %q: %s", bearer, a.Raw)
			}
		}
		if a := c.rest(http.MethodGet, "/api/v2/users/me", nil, tok); a.Code != 2207 {
			t.Fatalf("users/me after logout: %s", a.Raw)
		}

		// An expired token: 2206, in status and as an error.
		var fresh authingUser
		c.loginEmail("ada@example.com", "n3w-passw0rd", "").field(t, "loginByEmail", &fresh)
		in.Clock.Advance(16 * 24 * time.Hour)
		if st := check(map[string]any{"token": *fresh.Token}, ""); st.Status || st.Code != 2206 {
			t.Fatalf("expired: %+v", st)
		}
		c.gql(docs["user"], map[string]any{}, *fresh.Token).wantCode(t, 2206)
	})
}

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
)

// TestBadInput sends hostile bodies over plain HTTP: each gets a clear
// coded 4xx, never a 500, and the store is left as it was.
func TestBadInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, testConfig(dbURL), nil)
		c := in.client()
		u := must[*client.User](t)(c.RegisterByEmail(ctx, "victim@example.com", "passw0rd!", &client.RegisterProfile{Nickname: "v"}, &client.RegisterOptions{ForceLogin: true}))
		tok := u.Token

		huge := `{"email":"a@example.com","password":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}`
		cases := []struct {
			name, method, path, body string
			auth                     bool
			status, code             int
		}{
			{"oversized body", "POST", "/api/v1/register/email", huge, false, 413, 1002},
			{"broken JSON", "POST", "/api/v1/register/email", `{"email": "x@example.com", "password": `, false, 400, 1001},
			{"not an object", "POST", "/api/v1/login/email", `"hello"`, false, 400, 1001},
			{"wrong type", "POST", "/api/v1/register/email", `{"email": 42, "password": "passw0rd!"}`, false, 400, 1001},
			{"wrong nested type", "POST", "/api/v1/register/email", `{"email": "n@example.com", "password": "passw0rd!", "options": {"forceLogin": "yes"}}`, false, 400, 1001},
			{"unknown field", "POST", "/api/v1/register/email", `{"email": "n@example.com", "password": "passw0rd!", "admin": true}`, false, 400, 1001},
			{"two objects", "POST", "/api/v1/register/email", `{"email": "n@example.com", "password": "passw0rd!"}{}`, false, 400, 1001},
			{"empty body", "POST", "/api/v1/login/email", ``, false, 400, 1001},
			{"missing password", "POST", "/api/v1/register/email", `{"email": "n@example.com"}`, false, 400, 1003},
			{"email without @", "POST", "/api/v1/register/email", `{"email": "victim.example.com", "password": "passw0rd!"}`, false, 400, 2003},
			{"huge username", "POST", "/api/v1/register/username", `{"username": "` + strings.Repeat("u", 10000) + `", "password": "passw0rd!"}`, false, 400, 1003},
			{"bad gender", "PATCH", "/api/v1/users/me", `{"gender": "X", "nickname": "changed"}`, true, 400, 1003},
			{"profile type", "PATCH", "/api/v1/users/me", `{"nickname": ["a"]}`, true, 400, 1001},
			{"NUL in a string", "POST", "/api/v1/register/email", `{"email": "nul@example.com", "password": "passw0rd!", "profile": {"nickname": "a\u0000b"}}`, false, 400, 1001},
			{"unknown pool", "POST", "/api/v1/login/email", `{"email": "victim@example.com", "password": "passw0rd!"}`, false, 404, 1006},
			{"phone of the wrong type", "POST", "/api/v1/codes/sms", `{"phone": 8613800138000}`, false, 400, 1001},
			{"invalid phone", "POST", "/api/v1/codes/sms", `{"phone": "+86 12"}`, false, 400, 2028},
			{"unknown scene", "POST", "/api/v1/codes/email", `{"email": "victim@example.com", "scene": "PWN"}`, false, 400, 1003},
			{"code of the wrong type", "POST", "/api/v1/login/phone-code", `{"phone": "+8613800138000", "code": 123456}`, false, 400, 1001},
			{"update phone unknown field", "PUT", "/api/v1/users/me/phone", `{"phone": "+8613800138000", "phoneCode": "123456", "force": true}`, true, 400, 1001},
			{"verify link without code", "GET", "/api/v1/email/verify?email=victim%40example.com", ``, false, 400, 1003},
			{"no route", "GET", "/api/v1/nothing", ``, false, 404, 1004},
			{"wrong method", "GET", "/api/v1/login/email", ``, false, 405, 1007},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				req, _ := http.NewRequest(tc.method, in.URL+tc.path, strings.NewReader(tc.body))
				req.Header.Set("Content-Type", "application/json")
				if tc.auth {
					req.Header.Set("Authorization", "Bearer "+tok)
				}
				if tc.name == "unknown pool" {
					req.Header.Set(api.HeaderUserPoolID, "no-such-pool")
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				raw, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, raw)
				}
				if tc.code == 0 {
					return
				}
				var eb api.ErrorBody
				if err := json.Unmarshal(raw, &eb); err != nil || eb.Code != tc.code || eb.Reason == "" || eb.Message == "" {
					t.Fatalf("body %s, want code %d", raw, tc.code)
				}
			})
		}
		// Nothing changed: the victim's profile is intact, no user was made.
		me := must[*client.User](t)(c.GetCurrentUser(ctx))
		if me.Nickname != "v" || me.Gender != "" {
			t.Fatalf("profile changed by bad input: %+v", me)
		}
		_, err := c.LoginByEmail(ctx, "n@example.com", "passw0rd!", nil)
		wantCode(t, err, 2004)
	})
}

// TestForgedTokens checks every way a token can be wrong.
func TestForgedTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		in := start(t, testConfig(dbURL), nil)
		c := in.client()
		u := must[*client.User](t)(c.RegisterByEmail(ctx, "forge@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))

		parts := strings.Split(u.Token, ".")
		if len(parts) != 3 {
			t.Fatalf("token is not a JWT: %q", u.Token)
		}
		sig := []byte(parts[2])
		if sig[5] == 'A' {
			sig[5] = 'B'
		} else {
			sig[5] = 'A'
		}
		badSig := parts[0] + "." + parts[1] + "." + string(sig)

		// A payload naming another user, with the original signature.
		var claims map[string]any
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		_ = json.Unmarshal(payload, &claims)
		claims["sub"] = "someone-else"
		p2, _ := json.Marshal(claims)
		otherSub := parts[0] + "." + base64.RawURLEncoding.EncodeToString(p2) + "." + parts[2]

		// alg=none.
		none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."

		// A token signed by another server's key (another store, other keys).
		other := start(t, testConfig("sqlite:"+t.TempDir()+"/other.db"), nil)
		ou := must[*client.User](t)(other.client().RegisterByEmail(ctx, "forge@example.com", "passw0rd!", nil, &client.RegisterOptions{GenerateToken: true}))

		for name, tok := range map[string]string{
			"signature changed": badSig, "payload changed": otherSub, "alg none": none,
			"other key": ou.Token, "garbage": "not.a.token", "empty parts": "..",
		} {
			st := must[*client.LoginStatus](t)(c.CheckLoginStatus(ctx, tok))
			if st.Status || st.Code != 2207 {
				t.Errorf("%s: %+v, want status false code 2207", name, st)
			}
			fc := in.client()
			fc.SetToken(tok)
			_, err := fc.GetCurrentUser(ctx)
			wantCode(t, err, 2207)
		}

		// A token whose session (and user) was deleted.
		if err := in.Srv.Store().DeleteUser(ctx, u.UserPoolID, u.ID); err != nil {
			t.Fatal(err)
		}
		st := must[*client.LoginStatus](t)(c.CheckLoginStatus(ctx, u.Token))
		if st.Status || st.Code != 2207 {
			t.Fatalf("token of deleted session: %+v", st)
		}
	})
}

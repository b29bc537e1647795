package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/authpool/authpool/api"
	"github.com/authpool/authpool/client"
)

// crossSiteCase is one request shape of a browser (or not).
type crossSiteCase struct {
	name                     string
	origin, fetchSite, ctype string // "" = header absent; origin "self" = the server's own
	refused                  bool   // 415 code 1010
}

// crossSiteCases: a body not declared JSON is refused exactly when a
// browser page of another origin sent it; curl-like clients (no Origin,
// no Sec-Fetch-*) and the server's own pages keep any Content-Type.
var crossSiteCases = []crossSiteCase{
	{"curl without -H", "", "", "application/x-www-form-urlencoded", false},
	{"curl text", "", "", "text/plain", false},
	{"no content type", "", "", "", false},
	{"json", "", "", "application/json", false},
	{"other origin text", "https://evil.example", "", "text/plain;charset=UTF-8", true},
	{"other origin form", "https://evil.example", "", "application/x-www-form-urlencoded", true},
	{"other origin multipart", "https://evil.example", "", "multipart/form-data; boundary=x", true},
	{"other origin no type", "https://evil.example", "", "", true},
	{"other origin json", "https://evil.example", "", "application/json; charset=utf-8", false},
	{"null origin text", "null", "", "text/plain", true},
	{"cross-site fetch text", "https://evil.example", "cross-site", "text/plain", true},
	{"cross-site no origin", "", "cross-site", "text/plain", true},
	{"same-site text", "https://www.example.test", "same-site", "text/plain", true},
	{"same-origin text", "self", "same-origin", "text/plain", false},
	{"own origin text", "self", "", "text/plain", false},
	{"user typed url", "", "none", "text/plain", false},
	{"cross-site json", "https://evil.example", "cross-site", "application/json", false},
}

// sendAs posts body to path with the case's headers.
func sendAs(t *testing.T, in *instance, path, body string, c crossSiteCase, hdr http.Header) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, in.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if c.ctype != "" {
		req.Header.Set("Content-Type", c.ctype)
	}
	switch c.origin {
	case "":
	case "self":
		req.Header.Set("Origin", in.URL)
	default:
		req.Header.Set("Origin", c.origin)
	}
	if c.fetchSite != "" {
		req.Header.Set("Sec-Fetch-Site", c.fetchSite)
		req.Header.Set("Sec-Fetch-Mode", "no-cors")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw
}

// TestCrossSiteBodies sends a login, end to end, as each request shape of
// crossSiteCases to the native API and to the Authing transport (GraphQL
// and REST), whose configured CORS origin keeps working with any shape.
func TestCrossSiteBodies(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		cfg := testConfig(dbURL)
		cfg.CORSOrigins = []string{"https://app.example.com"}
		in := start(t, cfg, nil)
		must[*client.User](t)(in.client().RegisterByEmail(context.Background(), "xs@example.com", "passw0rd!", nil, nil))
		ac := in.authing(t)
		gql, _ := json.Marshal(map[string]any{"query": docs["loginByEmail"], "variables": map[string]any{"input": map[string]any{
			"email": "xs@example.com", "password": ac.enc("passw0rd!"), "autoRegister": false, "params": nil, "context": nil,
		}}})
		cases := append([]crossSiteCase{
			{"configured origin text", "https://app.example.com", "cross-site", "text/plain", false},
		}, crossSiteCases...)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				// Native API: 200 with a token, or 415 code 1010.
				st, raw := sendAs(t, in, "/api/v1/login/email", `{"email":"xs@example.com","password":"passw0rd!"}`, c, nil)
				configured := c.origin == "https://app.example.com"
				wantRefused := c.refused || configured // the native API serves no CORS: no origin is configured for it
				var eb api.ErrorBody
				_ = json.Unmarshal(raw, &eb)
				if wantRefused && (st != http.StatusUnsupportedMediaType || eb.Code != api.CodeUnsupportedMediaType) {
					t.Fatalf("native: %d %s, want 415 code 1010", st, raw)
				}
				if !wantRefused && st != http.StatusOK {
					t.Fatalf("native: %d %s, want 200", st, raw)
				}

				// Authing GraphQL: errors are HTTP 200 except this one (415).
				st, raw = sendAs(t, in, "/graphql/v2", string(gql), c, ac.header)
				a := &gqlAnswer{Status: st, Raw: raw}
				mustJSON(t, raw, a)
				if c.refused {
					if st != http.StatusUnsupportedMediaType {
						t.Fatalf("graphql: HTTP %d %s, want 415", st, raw)
					}
					if code, _ := a.errObject(t); code != api.CodeUnsupportedMediaType {
						t.Fatalf("graphql: code %d, want 1010", code)
					}
				} else if st != http.StatusOK || len(a.Errors) > 0 {
					t.Fatalf("graphql: HTTP %d %s, want a login", st, raw)
				}

				// Authing REST.
				st, raw = sendAs(t, in, "/api/v2/sms/send", `{"phone":"not a phone","scene":"CHANNEL_LOGIN"}`, c, ac.header)
				var rb restAnswer
				mustJSON(t, raw, &rb)
				if c.refused != (st == http.StatusUnsupportedMediaType && rb.Code == api.CodeUnsupportedMediaType) {
					t.Fatalf("rest: HTTP %d %s, refused want %v", st, raw, c.refused)
				}
			})
		}
	})
}

// TestBearerSchemeMessage: an Authorization header of another scheme (a
// bare token, Basic) on a route that takes a bearer credential says that
// the Bearer scheme is needed, with the code of a missing credential; a
// public route ignores it.
func TestBearerSchemeMessage(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		in := start(t, adminConfig(dbURL), nil)
		c := in.client()
		must[*client.User](t)(c.RegisterByEmail(context.Background(), "bs@example.com", "passw0rd!", nil, &client.RegisterOptions{ForceLogin: true}))
		tok := c.Token()
		do := func(method, path, auth, body string) (int, api.ErrorBody) {
			t.Helper()
			req, _ := http.NewRequest(method, in.URL+path, strings.NewReader(body))
			req.Header.Set("Authorization", auth)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var eb api.ErrorBody
			_ = json.NewDecoder(res.Body).Decode(&eb)
			return res.StatusCode, eb
		}
		for _, h := range []string{tok, "Basic dXNlcjpwYXNz", "Token " + tok} {
			st, eb := do("GET", "/api/v1/users/me", h, "")
			if st != 401 || eb.Code != api.CodeNotLoggedIn || !strings.Contains(eb.Message, "Bearer scheme") {
				t.Errorf("users/me with %.12q: %d %+v", h, st, eb)
			}
			st, eb = do("GET", "/api/v1/admin/pools", strings.Replace(h, tok, testAdminKey, 1), "")
			if st != 401 || eb.Code != api.CodeAdminUnauthorized || !strings.Contains(eb.Message, "Bearer scheme") {
				t.Errorf("admin with %.12q: %d %+v", h, st, eb)
			}
		}
		// The Authing transport: the same code (2020), in its envelope.
		ac := in.authing(t)
		for _, h := range []string{tok, "Basic dXNlcjpwYXNz"} {
			req, _ := http.NewRequest("GET", in.URL+"/api/v2/users/me", nil)
			for k, v := range ac.header {
				req.Header[k] = v
			}
			req.Header.Set("x-authing-lang", "en-US")
			req.Header.Set("Authorization", h)
			st, raw := ac.send(req)
			var rb restAnswer
			mustJSON(t, raw, &rb)
			if st != 200 || rb.Code != api.CodeNotLoggedIn || !strings.Contains(rb.Message, "Bearer scheme") {
				t.Errorf("authing users/me with %.12q: %d %s", h, st, raw)
			}
		}
		// No header at all still says that no token was given.
		if st, eb := do("GET", "/api/v1/users/me", "", ""); st != 401 || strings.Contains(eb.Message, "Bearer scheme") {
			t.Errorf("no header: %d %+v", st, eb)
		}
		// A public route with Basic credentials of a proxy in front works.
		if st, eb := do("POST", "/api/v1/login/email", "Basic dXNlcjpwYXNz", `{"email":"bs@example.com","password":"passw0rd!"}`); st != 200 {
			t.Errorf("login with Basic header: %d %+v", st, eb)
		}
	})
}

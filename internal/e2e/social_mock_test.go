package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/authpool/authpool/client"
)

// startMock runs github.com/oauth2-proxy/mockoidc with a middleware that
// rewrites the ID token of the token answer when *tamper is set.
func startMock(t *testing.T, tamper *atomic.Pointer[func(jwt.MapClaims) (jwt.MapClaims, *rsa.PrivateKey)]) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	kid, err := m.Keypair.KeyID()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f := tamper.Load()
			if r.URL.Path != mockoidc.TokenEndpoint || f == nil {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["id_token"] == nil {
				w.WriteHeader(rec.Code)
				_, _ = w.Write(rec.Body.Bytes())
				return
			}
			claims := jwt.MapClaims{}
			if _, _, err := jwt.NewParser().ParseUnverified(body["id_token"].(string), claims); err != nil {
				panic(err)
			}
			claims, key := (*f)(claims)
			if key == nil {
				key = m.Keypair.PrivateKey
			}
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
			tok.Header["kid"] = kid // the provider's key id, whatever key signs
			body["id_token"], err = tok.SignedString(key)
			if err != nil {
				panic(err)
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(body)
		})
	}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// TestSocialMockOIDC: mockoidc as a second upstream (confidential client,
// its own keys). A verified sign-in creates the user; an ID token with
// another nonce, signed by another key, for another audience, from
// another issuer or expired is refused with 2802 and creates nothing.
func TestSocialMockOIDC(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		var tamper atomic.Pointer[func(jwt.MapClaims) (jwt.MapClaims, *rsa.PrivateKey)]
		m := startMock(t, &tamper)
		down := start(t, adminConfig(dbURL), nil)
		must[*client.App](t)(down.admin().CreateApp(ctx, "default", client.CreateAppRequest{Name: "app", Type: client.AppTypeWeb, RedirectURIs: []string{socialAppRedirect}}))
		must[*client.Connector](t)(down.admin().CreateConnector(ctx, "default", client.CreateConnectorRequest{
			ID: "mock", Type: client.ConnectorOIDC, Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret,
			Scopes: []string{"openid", "email", "profile"},
		}))
		s := &socialSetup{down: down}
		signIn := func(sub, email string) (*client.User, error) {
			m.QueueUser(&mockoidc.MockUser{Subject: sub, Email: email, EmailVerified: true, PreferredUsername: "u" + sub})
			b := newSocialBrowser(t, s)
			q := atApp(t, b.get(down.client().BuildSocialAuthorizeURL("mock", socialAppRedirect, "")))
			_, u, err := s.exchange(t, q.Get("code"))
			return u, err
		}
		u, err := signIn("m-1", "hal@example.com")
		if err != nil || !u.NewlyCreated || u.Email != "hal@example.com" || !u.EmailVerified {
			t.Fatalf("mockoidc sign-in: %v %+v", err, u)
		}

		other, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			f    func(jwt.MapClaims) (jwt.MapClaims, *rsa.PrivateKey)
		}{
			{"wrong nonce", func(c jwt.MapClaims) (jwt.MapClaims, *rsa.PrivateKey) { c["nonce"] = "not-ours"; return c, nil }},
			{"no nonce", func(c jwt.MapClaims) (jwt.MapClaims, *rsa.PrivateKey) { delete(c, "nonce"); return c, nil }},
			{"another key", func(c jwt.MapClaims) (jwt.MapClaims, *rsa.PrivateKey) { return c, other }},
			{"another audience", func(c jwt.MapClaims) (jwt.MapClaims, *rsa.PrivateKey) { c["aud"] = "someone-else"; return c, nil }},
			{"another issuer", func(c jwt.MapClaims) (jwt.MapClaims, *rsa.PrivateKey) {
				c["iss"] = "https://evil.example"
				return c, nil
			}},
			{"expired", func(c jwt.MapClaims) (jwt.MapClaims, *rsa.PrivateKey) {
				c["exp"] = time.Now().Add(-time.Hour).Unix()
				return c, nil
			}},
		} {
			tamper.Store(&tc.f)
			_, err := signIn("m-"+strings.ReplaceAll(tc.name, " ", "-"), "x@example.com")
			if ce := wantCode(t, err, 2802); ce.Reason != "upstream_answer_invalid" {
				t.Errorf("%s: reason %s", tc.name, ce.Reason)
			}
		}
		tamper.Store(nil)
		if n := s.userCount(t); n != 1 {
			t.Fatalf("%d users after refused sign-ins, want 1", n)
		}
		// The same key, untampered, still signs in.
		if _, err := signIn("m-1", "hal@example.com"); err != nil {
			t.Fatalf("after the refusals: %v", err)
		}
	})
}

// oauth2StandIn is a plain OAuth 2.0 provider (no ID token) in the shape
// of many: immediate authorization, a token endpoint that checks the
// client secret and the PKCE verifier, and a userinfo answer nesting the
// user under "data" with a numeric id.
type oauth2StandIn struct {
	*httptest.Server
	mu         sync.Mutex
	challenges map[string]string // code -> code_challenge
	verified   bool
}

func newOAuth2StandIn(t *testing.T) *oauth2StandIn {
	s := &oauth2StandIn{challenges: map[string]string{}, verified: true}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("client_id") != "o2-client" {
			http.Error(w, "bad request", 400)
			return
		}
		code := randomString()
		s.mu.Lock()
		s.challenges[code] = q.Get("code_challenge")
		s.mu.Unlock()
		u, _ := url.Parse(q.Get("redirect_uri"))
		v := u.Query()
		v.Set("code", code)
		v.Set("state", q.Get("state"))
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		s.mu.Lock()
		want, found := s.challenges[r.PostForm.Get("code")]
		delete(s.challenges, r.PostForm.Get("code"))
		s.mu.Unlock()
		h := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if id != "o2-client" || secret != "o2-secret" || !found || base64.RawURLEncoding.EncodeToString(h[:]) != want {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"at-1","token_type":"bearer"}`))
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer at-1" {
			http.Error(w, "unauthorized", 401)
			return
		}
		s.mu.Lock()
		verified := s.verified
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"data":{"id":12345,"mail":"ivy@example.com","verified":%t,"nick":"ivy"}}`, verified)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// TestSocialOAuth2: the generic oauth2 connector reads a nested, numeric
// userinfo answer through its claim mapping; the client secret and the
// PKCE verifier reach the token endpoint; an email the mapping does not
// call verified is not the account's.
func TestSocialOAuth2(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		o2 := newOAuth2StandIn(t)
		down := start(t, adminConfig(dbURL), nil)
		must[*client.App](t)(down.admin().CreateApp(ctx, "default", client.CreateAppRequest{Name: "app", Type: client.AppTypeWeb, RedirectURIs: []string{socialAppRedirect}}))
		must[*client.Connector](t)(down.admin().CreateConnector(ctx, "default", client.CreateConnectorRequest{
			ID: "o2", Type: client.ConnectorOAuth2, ClientID: "o2-client", ClientSecret: "o2-secret",
			AuthURL: o2.URL + "/authorize", TokenURL: o2.URL + "/token", UserInfoURL: o2.URL + "/me", Scopes: []string{"user"},
			ClaimMap: map[string]string{"subject": "data.id", "email": "data.mail", "emailVerified": "data.verified", "username": "data.nick"},
		}))
		s := &socialSetup{down: down}
		signIn := func() (*client.AuthenticationClient, *client.User, error) {
			b := newSocialBrowser(t, s)
			q := atApp(t, b.get(down.client().BuildSocialAuthorizeURL("o2", socialAppRedirect, "")))
			return s.exchange(t, q.Get("code"))
		}
		o2.verified = false
		c, u, err := signIn()
		if err != nil || !u.NewlyCreated || u.Email != "" || u.Nickname != "ivy" {
			t.Fatalf("oauth2 sign-in: %v %+v", err, u)
		}
		ids := must[[]client.Identity](t)(c.ListIdentities(ctx))
		if len(ids) != 1 || ids[0].Provider != "o2" || ids[0].Subject != "12345" || !bytes.Contains(ids[0].Data, []byte(`"email_verified":false`)) {
			t.Fatalf("identities: %+v", ids)
		}
		_, again, err := signIn()
		if err != nil || again.ID != u.ID {
			t.Fatalf("second sign-in: %v %+v", err, again)
		}
		// A wrong client secret: the token endpoint refuses, 2802.
		bad := "wrong"
		must[*client.Connector](t)(down.admin().UpdateConnector(ctx, "default", "o2", client.UpdateConnectorRequest{ClientSecret: &bad}))
		_, _, err = signIn()
		if ce := wantCode(t, err, 2802); ce.Reason != "upstream_refused" {
			t.Fatalf("reason %s", ce.Reason)
		}
	})
}

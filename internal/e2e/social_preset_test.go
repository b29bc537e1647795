package e2e

import (
	"context"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/authpool/authpool/client"
)

// githubStandIn answers in GitHub's documented shapes: the token endpoint
// form-encoded (GitHub's default), GET /user with a numeric id and a
// public email, GET /user/emails with verified flags.
func githubStandIn(t *testing.T, emails string) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != "gh-client" || q.Get("code_challenge_method") != "S256" || q.Get("scope") != "read:user user:email" {
			http.Error(w, "bad authorize request: "+r.URL.RawQuery, 400)
			return
		}
		u, _ := url.Parse(q.Get("redirect_uri"))
		u.RawQuery = url.Values{"code": {"gh-code"}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		if id != "gh-client" || secret != "gh-secret" || r.PostForm.Get("code") != "gh-code" || r.PostForm.Get("code_verifier") == "" {
			w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
			_, _ = w.Write([]byte("error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired."))
			return
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		_, _ = w.Write([]byte("access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=read%3Auser%2Cuser%3Aemail&token_type=bearer"))
	})
	auth := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") != "Bearer gho_16C7e42F292c6912E7710c838347Ae178B4a" {
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`))
			return false
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		return true
	}
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		if auth(w, r) {
			_, _ = w.Write([]byte(`{"login":"octocat","id":583231,"node_id":"MDQ6VXNlcjU4MzIzMQ==","avatar_url":"https://avatars.githubusercontent.com/u/583231?v=4","type":"User","name":"The Octocat","email":"public@example.com"}`))
		}
	})
	mux.HandleFunc("GET /user/emails", func(w http.ResponseWriter, r *http.Request) {
		if auth(w, r) {
			_, _ = w.Write([]byte(emails))
		}
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// TestSocialPresets: the github preset against a stand-in (the verified
// primary address from /user/emails, never /user's public one; none
// verified: no email), google as a preset oidc connector (its issuer
// pointed at mockoidc), and microsoft refused without its tenant.
func TestSocialPresets(t *testing.T) {
	eachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		down := start(t, adminConfig(dbURL), nil)
		must[*client.App](t)(down.admin().CreateApp(ctx, "default", client.CreateAppRequest{Name: "app", Type: client.AppTypeWeb, RedirectURIs: []string{socialAppRedirect}}))
		s := &socialSetup{down: down}
		signIn := func(connector string) (*client.AuthenticationClient, *client.User, error) {
			b := newSocialBrowser(t, s)
			q := atApp(t, b.get(down.client().BuildSocialAuthorizeURL(connector, socialAppRedirect, "")))
			return s.exchange(t, q.Get("code"))
		}

		gh := githubStandIn(t, `[{"email":"old@example.com","primary":false,"verified":true,"visibility":null},{"email":"octo@example.com","primary":true,"verified":true,"visibility":"public"},{"email":"fake@example.com","primary":false,"verified":false,"visibility":null}]`)
		must[*client.Connector](t)(down.admin().CreateConnector(ctx, "default", client.CreateConnectorRequest{
			ID: "github", Type: "github", ClientID: "gh-client", ClientSecret: "gh-secret",
			AuthURL: gh.URL + "/login/oauth/authorize", TokenURL: gh.URL + "/login/oauth/access_token", UserInfoURL: gh.URL + "/user",
		}))
		c, u, err := signIn("github")
		if err != nil || u.Email != "octo@example.com" || !u.EmailVerified || u.Nickname != "octocat" || u.Name != "The Octocat" {
			t.Fatalf("github sign-in: %v %+v", err, u)
		}
		ids := must[[]client.Identity](t)(c.ListIdentities(ctx))
		if len(ids) != 1 || ids[0].Provider != "github" || ids[0].Subject != "583231" {
			t.Fatalf("github identity: %+v", ids)
		}

		unverified := githubStandIn(t, `[{"email":"public@example.com","primary":true,"verified":false,"visibility":"public"}]`)
		must[*client.Connector](t)(down.admin().CreateConnector(ctx, "default", client.CreateConnectorRequest{
			ID: "github2", Type: "github", ClientID: "gh-client", ClientSecret: "gh-secret",
			AuthURL: unverified.URL + "/login/oauth/authorize", TokenURL: unverified.URL + "/login/oauth/access_token", UserInfoURL: unverified.URL + "/user",
		}))
		if _, u, err := signIn("github2"); err != nil || u.Email != "" || u.EmailVerified {
			t.Fatalf("github without a verified email: %v %+v", err, u)
		}

		var tamper atomic.Pointer[func(jwt.MapClaims) (jwt.MapClaims, *rsa.PrivateKey)]
		m := startMock(t, &tamper)
		must[*client.Connector](t)(down.admin().CreateConnector(ctx, "default", client.CreateConnectorRequest{
			ID: "google", Type: "google", Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret,
		}))
		m.QueueUser(&mockoidc.MockUser{Subject: "g-1", Email: "lee@example.com", EmailVerified: true})
		if _, u, err := signIn("google"); err != nil || u.Email != "lee@example.com" {
			t.Fatalf("google preset: %v %+v", err, u)
		}

		_, err = down.admin().CreateConnector(ctx, "default", client.CreateConnectorRequest{ID: "ms", Type: "microsoft", ClientID: "x"})
		if ce := wantCode(t, err, 1003); ce.Reason != "invalid_connector" {
			t.Fatalf("microsoft without a tenant: %+v", ce)
		}
		_, err = down.admin().CreateConnector(ctx, "default", client.CreateConnectorRequest{ID: "ap", Type: "apple", ClientID: "x"})
		wantCode(t, err, 1003)
	})
}
